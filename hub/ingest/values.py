"""Parsers for one uploaded cell: text, credit codes, money, quantities, dates, choices.

Every parser passes None through, NFC-normalises and strips a str cell first
(empty means None), rejects Excel error values such as #N/A (EXCEL_ERROR), and
raises ValueProblem with a stable `reason` and a message safe to show users.
"""

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact
from enum import Enum
from typing import TypeVar

from hub.credit_code import CreditCodeError, parse_credit_code
from hub.ingest.table import Cell

E = TypeVar("E", bound=Enum)


class ValueProblem(ValueError):
    """One cell cannot be used; `message` is safe to show, `reason` is stable."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class MoneyUnit(Enum):
    """The unit a money column's header declares."""

    YUAN = "YUAN"  # 元
    WAN_YUAN = "WAN_YUAN"  # 万元 = 10,000 yuan


_UNITS = {
    MoneyUnit.YUAN: (Decimal(1), "元"),
    MoneyUnit.WAN_YUAN: (Decimal(10_000), "万元"),
}
_EARLIEST = date(1949, 10, 1)
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's leap-year bug)
_EXCEL_ERROR = re.compile(
    r"#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|SPILL!|CALC!)", re.I
)
_MOJIBAKE = ("\ufffd", "锟斤拷")  # 锟斤拷 is two U+FFFD (EF BF BD) read as GBK
# C0/C1 controls, zero-width characters and bidi overrides (they hide or
# reorder text); text allows tab and newline, identifiers do not.
_INVISIBLE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
)
_CONTROL = re.compile(f"[{_INVISIBLE}]")
_KEY_CONTROL = re.compile(f"[\t\n{_INVISIBLE}]")
# Arithmetic that never rounds: rounding is an error (TOO_PRECISE), not a fix.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])
_NAN_INF = re.compile(r"[+-]?(?:s?nan|inf|infinity)", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)e[+-]?\d+", re.IGNORECASE)
_NUMBER_WITH_EXTRA = re.compile(r"(\D*?)\s*([+-]?[\d,.]*\d[\d,.]*)\s*(\D*)")
_PLAIN = re.compile(r"[+-]?\d+(?:\.\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_TIME = r"(?:[ T]+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.\d+)?)?)?"
_DATES = tuple(
    re.compile(pattern + _TIME)
    for pattern in (
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",
        r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
        r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]",
    )
)
_AMBIGUOUS_DATE = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:\D|$)")
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?")
_YEAR_TEXT = re.compile(r"(\d{4})\s*年?")
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
        raise _wrong_type(cell, "text")
    if isinstance(cell, int):
        value: str | None = str(cell)
    elif isinstance(cell, float | Decimal):
        raise ValueProblem(
            f"{cell} was stored as a number; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    else:
        value = _clean(cell)
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
        raise _wrong_type(cell, "text")
    if isinstance(cell, int | float | Decimal):
        raise ValueProblem(
            f"{cell} was stored as a number, which can lose leading zeros and "
            "digits; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    value = _clean(cell)
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
        raise _wrong_type(cell, "a credit code")
    if isinstance(cell, int | float | Decimal):
        raise _code_as_number(cell)
    value = _clean(cell)
    if value is None:
        return None
    if _SCIENTIFIC.fullmatch(unicodedata.normalize("NFKC", value)):
        raise ValueProblem(
            f"the credit code {_show(value)} is in scientific notation: Excel stored "
            "it as a number and lost digits; format the column as text and re-enter it",
            reason="EXCEL_NUMBER",
        )
    try:
        return parse_credit_code(value)
    except CreditCodeError as exc:
        raise ValueProblem(exc.message, reason="INVALID_CREDIT_CODE") from None


def amount(
    cell: Cell, *, unit: MoneyUnit, maximum: Decimal = Decimal(10) ** 12
) -> Decimal | None:
    """Money in yuan, 2 decimal places; `unit` is what the column header declares.

    Accepts 1000, 1000.5, 1,234,567.50 and full-width digits; number cells as
    they are (a float to Excel's 15 significant digits). Reasons: BAD_NUMBER
    (1e3, NaN, Infinity, misplaced commas, other text), UNIT_IN_CELL (1万,
    1000元: the unit belongs in the header), NEGATIVE, TOO_LARGE (> maximum
    yuan), TOO_PRECISE (finer than 0.01 yuan after conversion), WRONG_TYPE.
    Zero is allowed.
    """
    number = _number(cell)
    if number is None:
        return None
    factor, label = _UNITS[unit]
    yuan = _EXACT.multiply(number, factor)
    if yuan > maximum:
        raise ValueProblem(
            f"{_plain(number)} {label} is more than the maximum {_plain(maximum)} 元",
            reason="TOO_LARGE",
        )
    what = f"{_plain(number)} {label}"
    if unit is MoneyUnit.WAN_YUAN:
        what += f" is {_plain(yuan)} 元"
    return _quantize(yuan, 2, what)


def quantity(
    cell: Cell,
    *,
    factor: Decimal = Decimal(1),
    places: int = 3,
    maximum: Decimal = Decimal(10) ** 7,
) -> Decimal | None:
    """A non-negative quantity times `factor` (e.g. 0.001 for kg to t).

    Same number syntax and reasons as `amount`; at most `places` decimal places
    and at most `maximum` after conversion.
    """
    number = _number(cell)
    if number is None:
        return None
    value = _EXACT.multiply(number, factor)
    if value > maximum:
        raise ValueProblem(
            f"{_plain(value)} is more than the maximum {_plain(maximum)}",
            reason="TOO_LARGE",
        )
    return _quantize(value, places, f"{_plain(number)} converts to {_plain(value)}")


def calendar_date(cell: Cell, *, latest: date | None = None) -> date | None:
    """A calendar date (Asia/Shanghai; XLSX datetimes are naive local times).

    Text: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD or YYYY年M月D日 (or 号),
    optionally with a time " HH:MM[:SS]" that is ignored. Reasons: EXCEL_SERIAL
    (a number, or 5 digits as text), AMBIGUOUS_DATE (01/02/2026), INVALID_DATE
    (2026-02-30, or before 1949-10-01), FUTURE_DATE (after `latest`), BAD_DATE
    (anything else), WRONG_TYPE (bool).
    """
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise _wrong_type(cell, "a date")
    if isinstance(cell, datetime):
        day = cell.date()
    elif isinstance(cell, date):
        day = cell
    elif isinstance(cell, int | float | Decimal):
        raise _excel_serial(cell)
    else:
        value = _clean(cell)
        if value is None:
            return None
        day = _parse_date(value)
    if day < _EARLIEST:
        raise ValueProblem(
            f"{day.isoformat()} is before 1949-10-01; check the year",
            reason="INVALID_DATE",
        )
    if latest is not None and day > latest:
        raise ValueProblem(
            f"{day.isoformat()} is in the future; the latest date allowed is "
            f"{latest.isoformat()}",
            reason="FUTURE_DATE",
        )
    return day


def year(cell: Cell, *, earliest: int, latest: int) -> int | None:
    """A year: a whole number, or 4 digits as text (also 2025年).

    Reasons: OUT_OF_RANGE (outside [earliest, latest]), BAD_YEAR (anything else).
    """
    if cell is None:
        return None
    if isinstance(cell, str):
        value = _clean(cell)
        if value is None:
            return None
        match = _YEAR_TEXT.fullmatch(unicodedata.normalize("NFKC", value))
        number = int(match[1]) if match else None
    elif isinstance(cell, int) and not isinstance(cell, bool):
        number = cell
    elif isinstance(cell, float | Decimal) and _is_whole(whole := Decimal(cell)):
        number = int(whole)
    else:
        number = None
    if number is None:
        raise ValueProblem(
            f"{_show(str(cell))} is not a year; write 4 digits, e.g. 2025",
            reason="BAD_YEAR",
        )
    if not earliest <= number <= latest:
        raise ValueProblem(
            f"{number} is outside the allowed years {earliest}-{latest}",
            reason="OUT_OF_RANGE",
        )
    return number


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
        value = _clean(cell)
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
    value = _clean(cell)
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
    value = _clean(cell) if isinstance(cell, str) else str(cell)
    if value is None:
        return None
    found = _FLAGS.get(_fold(value))
    if found is None:
        raise ValueProblem(
            f"“{_show(value)}” is not yes or no; use 是 or 否", reason="UNKNOWN_VALUE"
        )
    return found


def _clean(raw: str) -> str | None:
    value = unicodedata.normalize("NFC", raw).strip()
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if _EXCEL_ERROR.fullmatch(value):
        raise ValueProblem(
            f"the cell holds the Excel error {value}; fix the formula or type the value",
            reason="EXCEL_ERROR",
        )
    return value or None


def _check_text(value: str, max_length: int, forbidden: re.Pattern[str]) -> None:
    if any(marker in value for marker in _MOJIBAKE):
        raise ValueProblem(
            f"“{_show(value)}” contains garbled characters; the file was probably "
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


def _number(cell: Cell) -> Decimal | None:
    if cell is None:
        return None
    if isinstance(cell, bool | date):
        raise _wrong_type(cell, "a number")
    if isinstance(cell, float):
        # Excel keeps 15 significant digits; repr would expose binary noise
        # (a formula's 1234.5600000000001) as false precision.
        number = Decimal(format(cell, ".15g")) if math.isfinite(cell) else None
    elif isinstance(cell, int | Decimal):
        number = Decimal(cell)
    else:
        value = _clean(cell)
        if value is None:
            return None
        number = _parse_number(value)
    if number is None or not number.is_finite():
        raise ValueProblem(f"{_show(str(cell))} is not a number", reason="BAD_NUMBER")
    if number < 0:
        raise ValueProblem(
            f"{_plain(number)} is negative; only zero or more is allowed",
            reason="NEGATIVE",
        )
    return number.copy_abs()  # -0 becomes 0


def _parse_number(value: str) -> Decimal | None:
    folded = unicodedata.normalize("NFKC", value).replace("\u2212", "-").strip()
    if _NAN_INF.fullmatch(folded):
        return None
    if _SCIENTIFIC.fullmatch(folded):
        raise ValueProblem(
            f"{_show(value)} is in scientific notation; write the number out in "
            "full (1e3 is 1000)",
            reason="BAD_NUMBER",
        )
    match = _NUMBER_WITH_EXTRA.fullmatch(folded)
    if match is None:
        raise ValueProblem(
            f"“{_show(value)}” is not a number; write digits only, e.g. 1234.50",
            reason="BAD_NUMBER",
        )
    before, digits, after = match.groups()
    extra = f"{before}{after}".strip()
    if extra and any(
        c.isalpha() or c == "%" or unicodedata.category(c) == "Sc" for c in extra
    ):
        raise ValueProblem(
            f"“{_show(value)}” has “{_show(extra)}” beside the number; write only "
            "the number (the unit belongs in the column header)",
            reason="UNIT_IN_CELL",
        )
    if extra or not (_PLAIN.fullmatch(digits) or _GROUPED.fullmatch(digits)):
        raise ValueProblem(
            f"“{_show(value)}” is not a number; write digits with an optional "
            "decimal point, e.g. 1234567.50 or 1,234,567.50",
            reason="BAD_NUMBER",
        )
    return Decimal(digits.replace(",", ""))


def _quantize(value: Decimal, places: int, what: str) -> Decimal:
    try:
        return _EXACT.quantize(value, Decimal(1).scaleb(-places))
    except Inexact:
        raise ValueProblem(
            f"{what}, which has more than {places} decimal places",
            reason="TOO_PRECISE",
        ) from None


def _parse_date(value: str) -> date:
    folded = unicodedata.normalize("NFKC", value).strip()
    if _SERIAL_TEXT.fullmatch(folded):
        raise _excel_serial(Decimal(folded))
    for pattern in _DATES:
        match = pattern.fullmatch(folded)
        if match is None:
            continue
        hh, mi, ss = (int(match[g] or 0) for g in ("hh", "mi", "ss"))
        if hh > 23 or mi > 59 or ss > 59:
            break
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise ValueProblem(
                f"{_show(value)} is not a real date", reason="INVALID_DATE"
            ) from None
    if _AMBIGUOUS_DATE.match(folded):
        raise ValueProblem(
            f"{_show(value)} is ambiguous (day/month or month/day?); use YYYY-MM-DD, "
            "e.g. 2026-03-15",
            reason="AMBIGUOUS_DATE",
        )
    raise ValueProblem(
        f"“{_show(value)}” is not a date; use YYYY-MM-DD, e.g. 2026-03-15",
        reason="BAD_DATE",
    )


def _excel_serial(number: int | float | Decimal) -> ValueProblem:
    hint = ""
    if 1 <= number < 2958466:  # 9999-12-31
        hint = f" ({_EXCEL_EPOCH + timedelta(days=int(number))} in Excel)"
    return ValueProblem(
        f"{number} looks like an Excel date serial number{hint}; format the "
        "column as a date, e.g. 2026-03-15",
        reason="EXCEL_SERIAL",
    )


def _code_as_number(cell: int | float | Decimal) -> ValueProblem:
    if isinstance(cell, float):
        shown = format(cell, ".0f") if math.isfinite(cell) else str(cell)
        rounded = f"it now reads {shown}"
    else:
        shown = _plain(Decimal(cell))
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
        f"“{_show(value)}” is not an allowed value; use one of: {listing}",
        reason="UNKNOWN_VALUE",
    )


def _wrong_type(cell: Cell, expected: str) -> ValueProblem:
    kind = "a yes/no value" if isinstance(cell, bool) else "a date"
    return ValueProblem(
        f"the cell holds {kind}, but {expected} is expected", reason="WRONG_TYPE"
    )


def _is_whole(number: Decimal) -> bool:
    return number.is_finite() and number == number.to_integral_value()


def _fold(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _plain(number: Decimal) -> str:
    return format(number, "f")


def _show(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"
