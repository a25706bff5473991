"""CSV bytes to raw rows: strict encoding detection, comma or tab, line numbers."""

import codecs
import csv
import io
import itertools
import re

from hub.ingest.cells import Cell, FileRejected, RawRows, TableLimits

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or an encrypted .xlsx
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CJK = re.compile("[\u3400-\u9fff]")
_QUOTED = re.compile(r'"[^"]*(?:"|$)')
_DELIMITER_SCAN_LINES = 50


def read_csv_rows(data: bytes, limits: TableLimits) -> tuple[str, RawRows]:
    """Decode `data` and return (encoding, rows), or raise FileRejected.

    Encodings are tried strictly in this order: UTF-16 (only with a BOM), UTF-8
    (with or without BOM), GB18030. UTF-8 must come first: UTF-8 bytes often
    decode as GB18030 without error, into mojibake. The delimiter is a comma or
    a tab, whichever the first delimited line has more of outside quotes.
    Row numbers are the physical lines where each record starts.
    """
    if data.startswith(_ZIP_MAGIC):
        raise FileRejected(
            "this file is an Excel workbook, not CSV; upload it as .xlsx",
            reason="WRONG_FORMAT",
        )
    if data.startswith(_OLE_MAGIC):
        raise FileRejected(
            "this file is an old .xls (or password-protected) workbook, not CSV; "
            "save it as .xlsx or CSV without a password",
            reason="WRONG_FORMAT",
        )
    text, encoding = _decode(data)
    # Old Mac Excel ends lines with CR alone; the csv module wants one style.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise FileRejected(
            f"line {line} contains a NUL byte; this is not a text (CSV) file",
            reason="NUL_BYTE",
            row=line,
        )
    return encoding, _rows(text, _delimiter(text), limits)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _unknown_encoding() from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _unknown_encoding() from None
    _reject_utf8_lines(data)
    return text.removeprefix("\ufeff"), "gb18030"


def _reject_utf8_lines(data: bytes) -> None:
    """A GB18030 file must not contain UTF-8 lines (pasted in from elsewhere).

    GB18030 decodes almost any UTF-8 Chinese without error, so a mixed file
    would otherwise be imported with some rows as mojibake. A genuine GBK line
    of Chinese text is practically never also valid UTF-8.
    """
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _CJK.search(decoded):
            raise FileRejected(
                f"line {number} is UTF-8 but the rest of the file is GB18030/GBK; "
                "save the whole file as UTF-8 (Excel: CSV UTF-8)",
                reason="UNKNOWN_ENCODING",
                row=number,
            )


def _unknown_encoding() -> FileRejected:
    return FileRejected(
        "the file's text encoding is not recognised; "
        "save it as UTF-8 (Excel: CSV UTF-8) or GB18030",
        reason="UNKNOWN_ENCODING",
    )


def _delimiter(text: str) -> str:
    lines = io.StringIO(text, newline="")
    for line in itertools.islice(lines, _DELIMITER_SCAN_LINES):
        bare = _QUOTED.sub("", line)
        commas, tabs = bare.count(","), bare.count("\t")
        if commas or tabs:
            return "\t" if tabs > commas else ","
    return ","


def _rows(text: str, delimiter: str, limits: TableLimits) -> RawRows:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _malformed(exc, start, limits) from exc
        cells: list[Cell] = [field.strip() or None for field in record]
        yield start, cells


def _malformed(exc: csv.Error, line: int, limits: TableLimits) -> FileRejected:
    detail = str(exc)
    if "field larger than field limit" in detail:
        # The csv module's own cap (128 KiB) fired before our per-cell check.
        return FileRejected(
            f"line {line}: a cell is longer than {limits.max_cell_chars} characters",
            reason="CELL_TOO_LONG",
            row=line,
        )
    return FileRejected(
        f"line {line}: the CSV is malformed ({detail}); "
        "look for a double quote that is opened but never closed",
        reason="MALFORMED_CSV",
        row=line,
    )
