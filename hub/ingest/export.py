"""CSV and XLSX exports that never write a live formula (ASVS 5.0 1.2.10)."""

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from hub.ingest.table import Cell

_FORMULA_START = frozenset("=+-@\t\r\n")
# XML 1.0 cannot hold these (openpyxl raises IllegalCharacterError on them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CSV_FLAGS = {True: "是", False: "否"}


def neutralise(value: str) -> str:
    """Prefix "'" when a spreadsheet would read `value` as a formula; drop NUL.

    The trigger is = + - @ tab CR or LF as the first character after leading
    spaces (OWASP CSV injection). NUL characters are removed first.
    """
    value = value.replace("\x00", "")
    if value.lstrip(" ")[:1] in _FORMULA_START:
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Chinese), CRLF, RFC 4180 quoting.

    Text is neutralised and quoted; numbers are written plainly and unquoted
    (never in exponent form); dates as YYYY-MM-DD; bool as 是/否; None empty.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    for row in rows:
        writer.writerow([_csv_value(cell) for cell in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8", "replace")


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet_title: str = "Sheet1",
) -> bytes:
    """An XLSX workbook of one sheet; every str is a string cell, never a formula.

    Text is written unchanged (the "'" prefix is a CSV defence only), minus the
    control characters XML cannot hold. Numbers stay numbers; dates get the
    number format yyyy-mm-dd. Datetimes must be naive (openpyxl's rule).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    sheet.append([_xlsx_cell(sheet, name) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(cell: Cell) -> str | int | Decimal:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return _CSV_FLAGS[cell]
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return str(cell)
        cell = Decimal(format(cell, ".15g"))  # Excel's 15 significant digits
    if isinstance(cell, Decimal):
        # format "f" avoids exponents (1E+3), which importers reject.
        return Decimal(format(cell, "f")) if cell.is_finite() else str(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    return neutralise(cell)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> XlsxCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=_XML_ILLEGAL.sub("", value))
        # openpyxl makes any str starting with "=" a formula; force a string.
        cell.data_type = "s"
        return cell
    if isinstance(value, float) and not math.isfinite(value):
        value = None  # Excel has no NaN or infinity
    cell = WriteOnlyCell(sheet)
    cell.value = value  # the setter's stub accepts Decimal and date; the factory's not
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell
