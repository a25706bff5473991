"""ValueProblem and the first step of every cell parser: cleaning the raw cell."""

import re
import unicodedata
from decimal import Decimal

from hub.ingest.cells import Cell

_EXCEL_ERROR = re.compile(
    r"#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|SPILL!|CALC!)", re.I
)


class ValueProblem(ValueError):
    """One cell cannot be used; `message` is safe to show, `reason` is stable."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def clean(raw: str) -> str | None:
    """NFC-normalised, stripped, newlines as \\n; None if empty; EXCEL_ERROR for #N/A etc."""
    value = unicodedata.normalize("NFC", raw).strip()
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _EXCEL_ERROR.fullmatch(value):
        raise ValueProblem(
            f"the cell holds the Excel error {value}; fix the formula or type the value",
            reason="EXCEL_ERROR",
        )
    return value or None


def wrong_type(cell: Cell, expected: str) -> ValueProblem:
    """WRONG_TYPE for a bool or date cell where `expected` was wanted."""
    kind = "a yes/no value" if isinstance(cell, bool) else "a date"
    return ValueProblem(
        f"the cell holds {kind}, but {expected} is expected", reason="WRONG_TYPE"
    )


def plain(number: Decimal) -> str:
    """The number in positional notation, never scientific."""
    return format(number, "f")


def show(value: str) -> str:
    """The value cut to 40 characters for a message."""
    return value if len(value) <= 40 else value[:40] + "…"
