"""Parsers for money and quantity cells: exact, non-negative decimals."""

import math
import re
import unicodedata
from datetime import date
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact
from enum import Enum

from hub.ingest.cells import Cell
from hub.ingest.cleaning import ValueProblem, clean, plain, show, wrong_type


class MoneyUnit(Enum):
    """The unit a money column's header declares."""

    YUAN = "YUAN"  # 元
    WAN_YUAN = "WAN_YUAN"  # 万元 = 10,000 yuan


SCIENTIFIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)e[+-]?\d+", re.IGNORECASE)

_UNITS = {
    MoneyUnit.YUAN: (Decimal(1), "元"),
    MoneyUnit.WAN_YUAN: (Decimal(10_000), "万元"),
}
# Arithmetic that never rounds: rounding is an error (TOO_PRECISE), not a fix.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])
_NAN_INF = re.compile(r"[+-]?(?:s?nan|inf|infinity)", re.IGNORECASE)
_NUMBER_WITH_EXTRA = re.compile(r"(\D*?)\s*([+-]?[\d,.]*\d[\d,.]*)\s*(\D*)")
_PLAIN = re.compile(r"[+-]?\d+(?:\.\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


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
            f"{plain(number)} {label} is more than the maximum {plain(maximum)} 元",
            reason="TOO_LARGE",
        )
    what = f"{plain(number)} {label}"
    if unit is MoneyUnit.WAN_YUAN:
        what += f" is {plain(yuan)} 元"
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
            f"{plain(value)} is more than the maximum {plain(maximum)}",
            reason="TOO_LARGE",
        )
    return _quantize(value, places, f"{plain(number)} converts to {plain(value)}")


def _number(cell: Cell) -> Decimal | None:
    if cell is None:
        return None
    if isinstance(cell, bool | date):
        raise wrong_type(cell, "a number")
    if isinstance(cell, float):
        # Excel keeps 15 significant digits; repr would expose binary noise
        # (a formula's 1234.5600000000001) as false precision.
        number = Decimal(format(cell, ".15g")) if math.isfinite(cell) else None
    elif isinstance(cell, int | Decimal):
        number = Decimal(cell)
    else:
        value = clean(cell)
        if value is None:
            return None
        number = _parse_number(value)
    if number is None or not number.is_finite():
        raise ValueProblem(f"{show(str(cell))} is not a number", reason="BAD_NUMBER")
    if number < 0:
        raise ValueProblem(
            f"{plain(number)} is negative; only zero or more is allowed",
            reason="NEGATIVE",
        )
    return number.copy_abs()  # -0 becomes 0


def _parse_number(value: str) -> Decimal | None:
    folded = unicodedata.normalize("NFKC", value).replace("\u2212", "-").strip()
    if _NAN_INF.fullmatch(folded):
        return None
    if SCIENTIFIC.fullmatch(folded):
        raise ValueProblem(
            f"{show(value)} is in scientific notation; write the number out in "
            "full (1e3 is 1000)",
            reason="BAD_NUMBER",
        )
    match = _NUMBER_WITH_EXTRA.fullmatch(folded)
    if match is None:
        raise ValueProblem(
            f"“{show(value)}” is not a number; write digits only, e.g. 1234.50",
            reason="BAD_NUMBER",
        )
    before, digits, after = match.groups()
    extra = f"{before}{after}".strip()
    if extra and any(
        c.isalpha() or c == "%" or unicodedata.category(c) == "Sc" for c in extra
    ):
        raise ValueProblem(
            f"“{show(value)}” has “{show(extra)}” beside the number; write only "
            "the number (the unit belongs in the column header)",
            reason="UNIT_IN_CELL",
        )
    if extra or not (_PLAIN.fullmatch(digits) or _GROUPED.fullmatch(digits)):
        raise ValueProblem(
            f"“{show(value)}” is not a number; write digits with an optional "
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
