"""A raw uploaded cell, whole-file limits, and the error for an unreadable file."""

from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeAlias

Cell: TypeAlias = str | int | float | Decimal | date | datetime | bool | None

# What a format reader yields: (row number as the user sees it, cleaned cells).
RawRows: TypeAlias = Generator[tuple[int, list[Cell]], None, None]


@dataclass(frozen=True, slots=True)
class TableLimits:
    """Whole-file limits (RELIABILITY F7); the defaults suit one 双公示 upload."""

    max_rows: int = 50_000  # data rows (not counting header/blank rows)
    max_columns: int = 200
    max_cell_chars: int = 10_000
    max_uncompressed_bytes: int = 100 * 1024 * 1024  # XLSX: sum of member sizes
    max_compression_ratio: int = 100  # XLSX: uncompressed/compressed
    # The header is the first row with this many names: 2 skips a title row
    # above a template's header; a one-column list (a watchlist) needs 1.
    min_header_cells: int = 2


class FileRejected(Exception):
    """The file as a whole cannot be read; safe message for users.

    `reason` is a stable UPPER_SNAKE code: UNSUPPORTED_FORMAT, WRONG_FORMAT,
    FILE_CORRUPT, EMPTY_FILE, TOO_MANY_ROWS, TOO_MANY_COLUMNS, CELL_TOO_LONG,
    EXTRA_CELLS, UNKNOWN_ENCODING, NUL_BYTE, MALFORMED_CSV, ZIP_BOMB,
    MACROS_NOT_ALLOWED or XML_FORBIDDEN.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.row = row
        self.column = column
