"""Uploaded CSV/XLSX files as a plain table of raw cells, with whole-file limits."""

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date

from hub.ingest.cells import (
    Cell as Cell,
    FileRejected as FileRejected,
    TableLimits as TableLimits,
)
from hub.ingest.csvfile import read_csv_rows
from hub.ingest.xlsxfile import read_xlsx_rows

_CSV_SUFFIXES = frozenset({"csv", "txt"})
_DEFAULT_LIMITS = TableLimits()


@dataclass(frozen=True, slots=True)
class RawTable:
    """The header and non-blank data rows of the first sheet, cells untouched."""

    format: str  # "csv" or "xlsx"
    encoding: str | None  # CSV: utf-8, utf-8-sig, gb18030 or utf-16; XLSX: None
    header: list[str]  # header texts exactly as in the file (stripped)
    header_row: int  # 1-based row/line number of the header
    rows: list[tuple[int, list[Cell]]]  # (row number, cells padded to the header)
    sha256: str  # hex digest of the raw bytes


def read_table(
    data: bytes, filename: str, *, limits: TableLimits = _DEFAULT_LIMITS
) -> RawTable:
    """Read the first sheet of an uploaded .csv/.txt/.xlsx file, or raise FileRejected.

    The format comes from the file name; the header is the first row with at
    least `limits.min_header_cells` (2) non-empty cells (title rows above it are
    skipped). Blank rows are dropped; rows are padded with None to the header's length.
    """
    suffix = _suffix(filename)
    encoding: str | None = None
    if suffix in _CSV_SUFFIXES:
        fmt = "csv"
        encoding, rows = read_csv_rows(data, limits)
    elif suffix == "xlsx":
        fmt = "xlsx"
        rows = read_xlsx_rows(data, limits)
    else:
        raise FileRejected(
            f"files of type .{suffix} cannot be imported; "
            "save the sheet as an Excel workbook (.xlsx) or as CSV"
            if suffix
            else "the file name has no extension; upload an .xlsx or .csv file",
            reason="UNSUPPORTED_FORMAT",
        )
    with closing(rows):
        header_row, header, body = _assemble(rows, limits)
    return RawTable(
        format=fmt,
        encoding=encoding,
        header=header,
        header_row=header_row,
        rows=body,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _suffix(filename: str) -> str:
    name = filename.strip().replace("\\", "/").rpartition("/")[2]
    return name.rpartition(".")[2].lower() if "." in name else ""


def _assemble(
    rows: Iterable[tuple[int, list[Cell]]], limits: TableLimits
) -> tuple[int, list[str], list[tuple[int, list[Cell]]]]:
    header_row = 0
    header: list[str] = []
    body: list[tuple[int, list[Cell]]] = []
    for number, cells in rows:
        if not header:
            if sum(c is not None for c in cells) >= limits.min_header_cells:
                header_row, header = number, _header(cells, number, limits)
            continue
        width = _width(cells)
        if width == 0:
            continue
        if width > len(header):
            raise FileRejected(
                f"row {number} has a value in column {width}, right of the last "
                f"named column ({len(header)}); add a header or delete the value",
                reason="EXTRA_CELLS",
                row=number,
            )
        if len(body) == limits.max_rows:
            raise FileRejected(
                f"the file has more than {limits.max_rows} data rows; "
                "split it into smaller files",
                reason="TOO_MANY_ROWS",
                row=number,
            )
        _check_lengths(cells[:width], header, number, limits)
        body.append((number, _pad(cells, len(header))))
    if not header:
        raise FileRejected(
            f"no header row found: the file needs a row of at least "
            f"{limits.min_header_cells} column name(s) (for CSV, separated by commas "
            "or tabs)",
            reason="EMPTY_FILE",
        )
    return header_row, header, body


def _header(cells: Sequence[Cell], row: int, limits: TableLimits) -> list[str]:
    width = _width(cells)
    if width > limits.max_columns:
        raise FileRejected(
            f"the header has {width} columns; at most {limits.max_columns} are allowed",
            reason="TOO_MANY_COLUMNS",
            row=row,
        )
    names = [_header_text(c) for c in cells[:width]]
    for name in names:
        if len(name) > limits.max_cell_chars:
            raise FileRejected(
                f"a header cell has {len(name)} characters; at most "
                f"{limits.max_cell_chars} are allowed",
                reason="CELL_TOO_LONG",
                row=row,
            )
    return names


def _header_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def _check_lengths(
    cells: Sequence[Cell], header: Sequence[str], row: int, limits: TableLimits
) -> None:
    for name, cell in zip(header, cells, strict=False):
        if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
            raise FileRejected(
                f"row {row}, column {name!r}: the cell has {len(cell)} characters; "
                f"at most {limits.max_cell_chars} are allowed",
                reason="CELL_TOO_LONG",
                row=row,
                column=name,
            )


def _width(cells: Sequence[Cell]) -> int:
    """Position of the last non-empty cell (0 for a blank row)."""
    for i in range(len(cells), 0, -1):
        if cells[i - 1] is not None:
            return i
    return 0


def _pad(cells: list[Cell], width: int) -> list[Cell]:
    return cells[:width] + [None] * (width - len(cells))
