"""Parsers for date and year cells, rejecting Excel serials and ambiguous forms."""

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal

from hub.ingest.cells import Cell
from hub.ingest.cleaning import ValueProblem, clean, show, wrong_type

_EARLIEST = date(1949, 10, 1)
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's leap-year bug)
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
        raise wrong_type(cell, "a date")
    if isinstance(cell, datetime):
        day = cell.date()
    elif isinstance(cell, date):
        day = cell
    elif isinstance(cell, int | float | Decimal):
        raise _excel_serial(cell)
    else:
        value = clean(cell)
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
        value = clean(cell)
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
            f"{show(str(cell))} is not a year; write 4 digits, e.g. 2025",
            reason="BAD_YEAR",
        )
    if not earliest <= number <= latest:
        raise ValueProblem(
            f"{number} is outside the allowed years {earliest}-{latest}",
            reason="OUT_OF_RANGE",
        )
    return number


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
                f"{show(value)} is not a real date", reason="INVALID_DATE"
            ) from None
    if _AMBIGUOUS_DATE.match(folded):
        raise ValueProblem(
            f"{show(value)} is ambiguous (day/month or month/day?); use YYYY-MM-DD, "
            "e.g. 2026-03-15",
            reason="AMBIGUOUS_DATE",
        )
    raise ValueProblem(
        f"“{show(value)}” is not a date; use YYYY-MM-DD, e.g. 2026-03-15",
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


def _is_whole(number: Decimal) -> bool:
    return number.is_finite() and number == number.to_integral_value()
