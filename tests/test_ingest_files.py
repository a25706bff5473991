"""Reading uploaded CSV/XLSX files: encodings, limits, hostile workbooks, row numbers."""

import hashlib
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from hub.ingest.table import FileRejected, RawTable, TableLimits, read_table

NAME = "无锡市锡山区环保科技有限公司"
CSV_TEXT = f"统一社会信用代码,企业名称\n91320205MA1MXW0Y42,{NAME}\n"


DEFAULT = TableLimits()


def reject(data: bytes, filename: str, limits: TableLimits = DEFAULT) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read_table(data, filename, limits=limits)
    return caught.value


def workbook(*rows: Sequence[object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same zip with some members replaced or added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            if info.filename not in replace:
                new.writestr(info.filename, old.read(info))
        for name, content in replace.items():
            new.writestr(name, content)
    return out.getvalue()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


SIMPLE_XLSX = workbook(["名称", "备注"], ["甲", "x"])


# CSV encodings (RELIABILITY F3)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (CSV_TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (CSV_TEXT.encode("gb18030"), "gb18030"),
        (CSV_TEXT.encode("gbk"), "gb18030"),
        (CSV_TEXT.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + CSV_TEXT.replace(",", "\t").encode("utf-16-be"), "utf-16"),
    ],
)
def test_encodings_round_trip(data: bytes, encoding: str) -> None:
    table = read_table(data, "list.csv")

    assert table == RawTable(
        format="csv",
        encoding=encoding,
        header=["统一社会信用代码", "企业名称"],
        header_row=1,
        rows=[(2, ["91320205MA1MXW0Y42", NAME])],
        sha256=hashlib.sha256(data).hexdigest(),
    )


@pytest.mark.parametrize("name", ["北京字节跳动科技有限公司", "无锡", "环保", NAME])
def test_utf8_is_never_read_as_gb18030(name: str) -> None:
    data = f"名称,备注\n{name},x\n".encode()
    data.decode("gb18030")  # the trap: these bytes are valid GB18030 too

    table = read_table(data, "list.csv")

    assert (table.encoding, table.rows) == ("utf-8", [(2, [name, "x"])])


def test_mixed_gbk_and_utf8_lines_are_rejected() -> None:
    data = "名称,备注\n甲公司,x\n".encode("gbk") + "北京字节跳动,y\n".encode()
    data.decode("gb18030")  # decodes without error, into mojibake

    error = reject(data, "list.csv")

    assert (error.reason, error.row) == ("UNKNOWN_ENCODING", 3)


def test_undecodable_bytes_are_rejected() -> None:
    error = reject(b"a,b\n\x80\x20,c\n", "list.csv")

    assert error.reason == "UNKNOWN_ENCODING"
    assert "UTF-8" in error.message
    assert "GB18030" in error.message


def test_nul_byte_is_rejected_with_its_line() -> None:
    error = reject(b"a,b\nx,y\nz\x00,w\n", "list.csv")

    assert (error.reason, error.row) == ("NUL_BYTE", 3)


# CSV syntax


def test_cr_only_line_endings() -> None:
    table = read_table(b"a,b\r1,2\r3,4\r", "mac.csv")

    assert table.rows == [(2, ["1", "2"]), (3, ["3", "4"])]


def test_tab_delimited_utf8() -> None:
    table = read_table(b'a\tb\n"x,y"\t2\n', "list.txt")

    assert (table.header, table.rows) == (["a", "b"], [(2, ["x,y", "2"])])


def test_commas_inside_quotes_do_not_choose_the_delimiter() -> None:
    table = read_table(b'"a\tb",c\n1,2\n', "list.csv")

    assert table.header == ["a\tb", "c"]


def test_unbalanced_quote_reports_the_line_it_opens_on() -> None:
    error = reject(b'a,b\n1,2\n"3,4\n5,6\n', "list.csv")

    assert (error.reason, error.row) == ("MALFORMED_CSV", 3)


def test_text_after_a_closing_quote_is_malformed() -> None:
    error = reject(b'a,b\n1,2\n"3"x,4\n', "list.csv")

    assert (error.reason, error.row) == ("MALFORMED_CSV", 3)


def test_row_numbers_are_physical_lines() -> None:
    data = '双公示表\n\n名称,备注\n甲,"第一行\n第二行"\n\n , \n乙,x\n'.encode()

    table = read_table(data, "list.csv")

    assert table.header_row == 3
    assert table.rows == [(4, ["甲", "第一行\n第二行"]), (8, ["乙", "x"])]


def test_title_row_is_skipped_and_header_cells_stripped() -> None:
    data = "行政处罚信息双公示表,,,\n 企业名称 ,,罚款金额（万元）,\n甲,,1,\n".encode()

    table = read_table(data, "list.csv")

    assert (table.header_row, table.header) == (2, ["企业名称", "", "罚款金额（万元）"])
    assert table.rows == [(3, ["甲", None, "1"])]


def test_short_rows_are_padded_and_blank_cells_are_none() -> None:
    table = read_table(b"a,b,c\n1\n2,  ,\n", "list.csv")

    assert table.rows == [(2, ["1", None, None]), (3, ["2", None, None])]


def test_value_right_of_the_header_is_rejected() -> None:
    error = reject(b"a,b\n1,2,,\n3,4,5\n", "list.csv")

    assert (error.reason, error.row) == ("EXTRA_CELLS", 3)


@pytest.mark.parametrize(
    "data", [b"", b"\n\n", b"only a title\n\n", "双公示表\n1\n2\n".encode()]
)
def test_no_header_is_an_empty_file(data: bytes) -> None:
    assert reject(data, "list.csv").reason == "EMPTY_FILE"


# Limits (RELIABILITY F7)


def test_row_limit_counts_data_rows_only() -> None:
    data = b"a,b\n1,1\n\n2,2\n,\n3,3\n"

    assert len(read_table(data, "x.csv", limits=TableLimits(max_rows=3)).rows) == 3
    error = reject(data + b"4,4\n", "x.csv", TableLimits(max_rows=3))
    assert (error.reason, error.row) == ("TOO_MANY_ROWS", 7)


def test_row_limit_stops_reading_early() -> None:
    # A malformed line after the limit is never reached.
    data = b"a,b\n1,1\n2,2\n" + b'"broken\n' * 1000

    assert reject(data, "x.csv", TableLimits(max_rows=1)).reason == "TOO_MANY_ROWS"


def test_too_many_columns() -> None:
    error = reject(b"title\na,b,c,d\n", "x.csv", TableLimits(max_columns=3))

    assert (error.reason, error.row) == ("TOO_MANY_COLUMNS", 2)


def test_cell_too_long_names_row_and_column() -> None:
    error = reject(
        "名称,备注\n甲,123456\n".encode(), "x.csv", TableLimits(max_cell_chars=5)
    )

    assert (error.reason, error.row, error.column) == ("CELL_TOO_LONG", 2, "备注")


def test_megabyte_cell_is_too_long() -> None:
    data = b"a,b\n1," + b"x" * 1_000_000 + b"\n"

    error = reject(data, "x.csv")

    assert (error.reason, error.row) == ("CELL_TOO_LONG", 2)


# Formats


@pytest.mark.parametrize(
    "filename", ["macro.xlsm", "old.xls", "binary.xlsb", "list.ods", "noextension"]
)
def test_unsupported_formats(filename: str) -> None:
    error = reject(SIMPLE_XLSX, filename)

    assert error.reason == "UNSUPPORTED_FORMAT"
    assert ".xlsx" in error.message


@pytest.mark.parametrize(
    "filename", ["LIST.CSV", "C:\\fakepath\\list.Txt", " list.csv "]
)
def test_csv_suffixes_are_case_insensitive(filename: str) -> None:
    assert read_table(b"a,b\n1,2\n", filename).format == "csv"


def test_workbook_named_csv_is_the_wrong_format() -> None:
    assert reject(SIMPLE_XLSX, "list.csv").reason == "WRONG_FORMAT"


# XLSX


def test_xlsx_cells_keep_their_types() -> None:
    data = workbook(
        ["行政处罚信息双公示表"],
        [
            "统一社会信用代码",
            "企业名称",
            "处罚日期",
            "罚款金额（万元）",
            "整改",
            "备注",
        ],
        [913101151000000408, f"  {NAME} ", datetime(2026, 3, 15), 1.5, True, "  "],
        [],
        ["91320205MA1MXW0Y42", "乙", None, 2, False],
    )

    table = read_table(data, "双公示.XLSX")

    assert table == RawTable(
        format="xlsx",
        encoding=None,
        header=[
            "统一社会信用代码",
            "企业名称",
            "处罚日期",
            "罚款金额（万元）",
            "整改",
            "备注",
        ],
        header_row=2,
        rows=[
            # openpyxl, like Excel, stores the number as a double.
            (
                3,
                [
                    float(913101151000000408),
                    NAME,
                    datetime(2026, 3, 15),
                    1.5,
                    True,
                    None,
                ],
            ),
            (5, ["91320205MA1MXW0Y42", "乙", None, 2, False, None]),
        ],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_xlsx_wrong_dimension_does_not_drop_rows() -> None:
    data = workbook(["a", "b"], [1, 2], [3, 4])
    sheet = member(data, "xl/worksheets/sheet1.xml").replace(
        b'<dimension ref="A1:B3" />', b'<dimension ref="A1:B1" />'
    )
    assert b'ref="A1:B1"' in sheet

    table = read_table(rezip(data, {"xl/worksheets/sheet1.xml": sheet}), "x.xlsx")

    assert table.rows == [(2, [1, 2]), (3, [3, 4])]


def test_xlsx_extra_cells_and_row_limit() -> None:
    extra = workbook(["a", "b"], [1, 2], [1, 2, 3])
    many = workbook(["a", "b"], *([[1, 2]] * 5))

    assert reject(extra, "x.xlsx").row == 3
    error = reject(many, "x.xlsx", TableLimits(max_rows=4))
    assert (error.reason, error.row) == ("TOO_MANY_ROWS", 6)


def test_zip_bomb_by_ratio() -> None:
    zeros = b"\0" * (20 * 1024 * 1024)
    data = rezip(SIMPLE_XLSX, {"xl/media/padding.bin": zeros})
    assert len(data) < 200_000

    assert reject(data, "x.xlsx").reason == "ZIP_BOMB"


def test_zip_bomb_by_total_size() -> None:
    limits = TableLimits(max_uncompressed_bytes=1000)

    assert reject(SIMPLE_XLSX, "x.xlsx", limits).reason == "ZIP_BOMB"


def test_doctype_entity_in_a_sheet_is_forbidden() -> None:
    sheet = member(SIMPLE_XLSX, "xl/worksheets/sheet1.xml").replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY x "boom">]><worksheet', 1
    )

    data = rezip(SIMPLE_XLSX, {"xl/worksheets/sheet1.xml": sheet})

    assert reject(data, "x.xlsx").reason == "XML_FORBIDDEN"


def test_bare_doctype_is_forbidden() -> None:
    # defusedxml lets a DTD without entities through; the prolog scan does not.
    sheet = member(SIMPLE_XLSX, "xl/worksheets/sheet1.xml").replace(
        b"<worksheet", b"<!DOCTYPE worksheet><worksheet", 1
    )

    data = rezip(SIMPLE_XLSX, {"xl/worksheets/sheet1.xml": sheet})

    assert reject(data, "x.xlsx").reason == "XML_FORBIDDEN"


def test_billion_laughs_hidden_past_the_prolog_check_is_forbidden() -> None:
    # A long comment pushes the DTD past our prolog scan: defusedxml catches it.
    laughs = b'<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    sheet = member(SIMPLE_XLSX, "xl/worksheets/sheet1.xml")
    sheet = sheet.replace(
        b"<worksheet",
        b"<!--"
        + b" " * 100_000
        + b"--><!DOCTYPE worksheet ["
        + laughs
        + b"]><worksheet",
        1,
    ).replace("甲".encode(), b"&b;")
    assert b"<t>&b;</t>" in sheet

    data = rezip(SIMPLE_XLSX, {"xl/worksheets/sheet1.xml": sheet})

    assert reject(data, "x.xlsx").reason == "XML_FORBIDDEN"


def test_vba_project_is_not_allowed() -> None:
    data = rezip(SIMPLE_XLSX, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"})

    assert reject(data, "x.xlsx").reason == "MACROS_NOT_ALLOWED"


def test_macro_enabled_content_type_is_not_allowed() -> None:
    types = member(SIMPLE_XLSX, "[Content_Types].xml").replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    assert b"macroEnabled" in types

    data = rezip(SIMPLE_XLSX, {"[Content_Types].xml": types})

    assert reject(data, "x.xlsx").reason == "MACROS_NOT_ALLOWED"


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,2\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
        SIMPLE_XLSX[: len(SIMPLE_XLSX) // 2],
        rezip(SIMPLE_XLSX, {"xl/workbook.xml": b"<workbook>not really"}),
    ],
    ids=["text", "ole", "truncated", "broken-xml"],
)
def test_unreadable_workbooks_are_corrupt(data: bytes) -> None:
    error = reject(data, "x.xlsx")

    assert error.reason == "FILE_CORRUPT"
    assert "xl/" not in error.message
    assert "Error" not in error.message


def test_zip_without_content_types_is_corrupt() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")

    assert reject(out.getvalue(), "x.xlsx").reason == "FILE_CORRUPT"


def test_too_many_members_is_corrupt() -> None:
    data = rezip(SIMPLE_XLSX, {f"xl/media/{i}.bin": b"" for i in range(10_001)})

    assert reject(data, "x.xlsx").reason == "FILE_CORRUPT"
