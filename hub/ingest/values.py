"""Parsers for text, credit code, choice and yes/no cells; the parsers' public API."""

# Every parser passes None through, NFC-normalises and strips a str cell first
# (empty means None), rejects Excel error values such as #N/A (EXCEL_ERROR), and
# raises ValueProblem with a stable `reason` and a message safe to show users.
# Money, quantities (hub.ingest.numbers) and dates (hub.ingest.dates) are
# re-exported here: callers use `values.amount`, `values.calendar_date` etc.

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from hub.credit_code import CreditCodeError, parse_credit_code
from hub.ingest.cells import Cell
from hub.ingest.cleaning import (
    ValueProblem as ValueProblem,
    clean,
    plain,
    show,
    wrong_type,
)
from hub.ingest.dates import calendar_date as calendar_date, year as year
from hub.ingest.numbers import (
    SCIENTIFIC,
    MoneyUnit as MoneyUnit,
    amount as amount,
    quantity as quantity,
)

E = TypeVar("E", bound=Enum)

_MOJIBAKE = ("\ufffd", "锟斤拷")  # 锟斤拷 is two U+FFFD (EF BF BD) read as GBK
# C0/C1 controls, zero-width characters and bidi overrides (they hide or
# reorder text); text allows tab and newline, identifiers do not.
_INVISIBLE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
)
_CONTROL = re.compile(f"[{_INVISIBLE}]")
_KEY_CONTROL = re.compile(f"[\t\n{_INVISIBLE}]")
_CHOICE_SEPARATORS = re.compile(r"[、,，;；/／\n]")
_FLAGS = {
    **dict.fromkeys(("是", "true", "yes", "y", "1"), True),
    **dict.fromkeys(("否", "false", "no", "n", "0"), False),
}


def text(cell: Cell, *, max_length: int) -> str | None:
    """Free text (names, addresses). An int becomes its digits.

    Reasons: MOJIBAKE (U+FFFD or 锟斤拷), CONTROL_CHARACTER (controls other than
    tab/newline, zero-width or bidi characters), TOO_LONG (> max_length
    characters), EXCEL_NUMBER (a float or Decimal), WRONG_TYPE (bool, date).
    A leading = + - @ is kept as data: exports neutralise it.
    """
    if cell is None:
        return None
    if isinstance(cell, bool | date):
        raise wrong_type(cell, "text")
    if isinstance(cell, int):
        value: str | None = str(cell)
    elif isinstance(cell, float | Decimal):
        raise ValueProblem(
            f"{cell} was stored as a number; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    else:
        value = clean(cell)
    if value is not None:
        _check_text(value, max_length, _CONTROL)
    return value


def key_text(cell: Cell, *, max_length: int) -> str | None:
    """An identifier (e.g. a decision number): like `text`, but only str cells.

    Spaces inside are kept; tabs and newlines are CONTROL_CHARACTER. Numbers
    are EXCEL_NUMBER (Excel drops leading zeros and rounds long numbers);
    bool and date cells are WRONG_TYPE.
    """
    if cell is None:
        return None
    if isinstance(cell, bool | date):
        raise wrong_type(cell, "text")
    if isinstance(cell, int | float | Decimal):
        raise ValueProblem(
            f"{cell} was stored as a number, which can lose leading zeros and "
            "digits; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    value = clean(cell)
    if value is not None:
        _check_text(value, max_length, _KEY_CONTROL)
    return value


def credit_code(cell: Cell) -> str | None:
    """A unified social credit code in canonical form (hub.credit_code).

    Reasons: EXCEL_NUMBER (a number cell, or text like 9.13101E+17: Excel keeps
    15 significant digits, so an all-digit code is silently changed),
    INVALID_CREDIT_CODE (fails GB 32100), WRONG_TYPE (bool, date).
    """
    if cell is None:
        return None
    if isinstance(cell, bool | date):
        raise wrong_type(cell, "a credit code")
    if isinstance(cell, int | float | Decimal):
        raise _code_as_number(cell)
    value = clean(cell)
    if value is None:
        return None
    if SCIENTIFIC.fullmatch(unicodedata.normalize("NFKC", value)):
        raise ValueProblem(
            f"the credit code {show(value)} is in scientific notation: Excel stored "
            "it as a number and lost digits; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    try:
        return parse_credit_code(value)
    except CreditCodeError as exc:
        raise ValueProblem(exc.message, reason="INVALID_CREDIT_CODE") from None


def choice(cell: Cell | E, vocabulary: Mapping[str, E]) -> E | None:
    """The member whose vocabulary key matches (NFKC, case and spacing folded).

    A member of the vocabulary passed as the cell is returned as is. Reason:
    UNKNOWN_VALUE, listing up to 20 allowed values.
    """
    if cell is None:
        return None
    if isinstance(cell, Enum):
        for member in vocabulary.values():
            if member is cell:
                return member
        raise _unknown(str(cell.value), vocabulary)
    if isinstance(cell, str):
        value = clean(cell)
        if value is None:
            return None
    else:
        value = str(cell)
    wanted = _fold(value)
    for key, member in vocabulary.items():
        if _fold(key) == wanted:
            return member
    raise _unknown(value, vocabulary)


def choices(cell: Cell | E, vocabulary: Mapping[str, E]) -> list[E] | None:
    """Several members, separated by 、 , ， ; ； / ／ or newlines.

    Each part goes through `choice`; duplicates are dropped keeping order; a
    cell with no parts is None. A key that itself contains a separator still
    matches as a whole.
    """
    if not isinstance(cell, str):
        single = choice(cell, vocabulary)
        return None if single is None else [single]
    value = clean(cell)
    if value is None:
        return None
    try:
        whole = choice(value, vocabulary)
    except ValueProblem:
        whole = None  # not one key as a whole: split it
    if whole is not None:
        return [whole]
    found: list[E] = []
    for part in _CHOICE_SEPARATORS.split(value):
        member = choice(part, vocabulary)
        if member is not None and member not in found:
            found.append(member)
    return found or None


def flag(cell: Cell) -> bool | None:
    """是/否, true/false, yes/no, y/n, 1/0 (any case); bool cells; int 1 or 0.

    Reason: UNKNOWN_VALUE.
    """
    if cell is None or isinstance(cell, bool):
        return cell
    if isinstance(cell, int) and cell in (0, 1):
        return cell == 1
    value = clean(cell) if isinstance(cell, str) else str(cell)
    if value is None:
        return None
    found = _FLAGS.get(_fold(value))
    if found is None:
        raise ValueProblem(
            f"“{show(value)}” is not yes or no; use 是 or 否", reason="UNKNOWN_VALUE"
        )
    return found


def _check_text(value: str, max_length: int, forbidden: re.Pattern[str]) -> None:
    if any(marker in value for marker in _MOJIBAKE):
        raise ValueProblem(
            f"“{show(value)}” contains garbled characters; the file was probably "
            "saved in another encoding: save it as UTF-8 and upload it again",
            reason="MOJIBAKE",
        )
    bad = forbidden.search(value)
    if bad:
        raise ValueProblem(
            f"the text contains the invisible character U+{ord(bad[0]):04X} at "
            f"position {bad.start() + 1}; delete it",
            reason="CONTROL_CHARACTER",
        )
    if len(value) > max_length:
        raise ValueProblem(
            f"the text is {len(value)} characters long; at most {max_length} "
            "are allowed",
            reason="TOO_LONG",
        )


def _code_as_number(cell: int | float | Decimal) -> ValueProblem:
    if isinstance(cell, float):
        shown = format(cell, ".0f") if math.isfinite(cell) else str(cell)
        rounded = f"it now reads {shown}"
    else:
        shown = plain(Decimal(cell))
        stored = format(float(cell), ".0f")
        rounded = f"{shown} becomes {stored}" if stored != shown else "beyond 15 digits"
    return ValueProblem(
        f"the credit code {shown} was stored as a number, which Excel rounds "
        f"({rounded}); format the column as text and re-enter it",
        reason="EXCEL_NUMBER",
    )


def _unknown(value: str, vocabulary: Mapping[str, Enum]) -> ValueProblem:
    allowed: dict[str, str] = {}
    for key in vocabulary:
        allowed.setdefault(_fold(key), key)
    shown = list(allowed.values())
    listing = "、".join(shown[:20]) + ("…" if len(shown) > 20 else "")
    return ValueProblem(
        f"“{show(value)}” is not an allowed value; use one of: {listing}",
        reason="UNKNOWN_VALUE",
    )


def _fold(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())
