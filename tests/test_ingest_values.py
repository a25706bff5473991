"""Cell parsers: every documented rule and the RELIABILITY section 5 vectors."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import pytest
from hypothesis import given, strategies as st

from hub.credit_code import CreditCodeError, parse_credit_code
from hub.ingest import values as v
from hub.ingest.table import Cell
from hub.ingest.values import MoneyUnit, ValueProblem

YUAN, WAN = MoneyUnit.YUAN, MoneyUnit.WAN_YUAN
TODAY = date(2026, 11, 30)


class Colour(Enum):
    RED = "RED"
    GREEN = "GREEN"
    BLUE = "BLUE"


COLOURS = {"红": Colour.RED, "红色": Colour.RED, "RED": Colour.RED, "绿": Colour.GREEN}
COLOURS |= {"GREEN": Colour.GREEN, "废水/废气": Colour.BLUE}


def problem(parse: Callable[[], object]) -> ValueProblem:
    with pytest.raises(ValueProblem) as caught:
        parse()
    assert str(caught.value) == caught.value.message
    return caught.value


# text and key_text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, None),
        ("   ", None),
        ("\u3000甲公司 ", "甲公司"),
        ("Cafe\u0301", "Café"),  # NFC
        (12, "12"),
        ("a\r\nb\tc", "a\nb\tc"),
        ("=1+1", "=1+1"),
        ("+1", "+1"),
        ("-1", "-1"),
        ("@SUM(1,1)", "@SUM(1,1)"),
        ("x" * 10, "x" * 10),
    ],
)
def test_text_accepts(cell: Cell, expected: str | None) -> None:
    assert v.text(cell, max_length=10) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("锟斤拷有限公司", "MOJIBAKE"),
        ("无锡\ufffd公司", "MOJIBAKE"),
        ("a\x07b", "CONTROL_CHARACTER"),
        ("a\x00b", "CONTROL_CHARACTER"),
        ("甲\u202e司公", "CONTROL_CHARACTER"),
        ("甲\u200b公司", "CONTROL_CHARACTER"),
        ("x" * 11, "TOO_LONG"),
        (1.5, "EXCEL_NUMBER"),
        (Decimal("1.5"), "EXCEL_NUMBER"),
        (True, "WRONG_TYPE"),
        (date(2026, 1, 1), "WRONG_TYPE"),
        ("#N/A", "EXCEL_ERROR"),
        ("#div/0!", "EXCEL_ERROR"),
    ],
)
def test_text_rejects(cell: Cell, reason: str) -> None:
    assert problem(lambda: v.text(cell, max_length=10)).reason == reason


def test_too_long_message_gives_limit_and_length() -> None:
    error = problem(lambda: v.text("名" * 1_000_000, max_length=200))

    assert (
        error.message == "the text is 1000000 characters long; at most 200 are allowed"
    )


def test_mojibake_message_blames_the_encoding() -> None:
    assert (
        "encoding" in problem(lambda: v.text("锟斤拷有限公司", max_length=50)).message
    )


def test_key_text_keeps_inner_spaces() -> None:
    assert (
        v.key_text(" 锡山环罚决〔2023〕45 号 ", max_length=40)
        == "锡山环罚决〔2023〕45 号"
    )


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        (45, "EXCEL_NUMBER"),
        (45.0, "EXCEL_NUMBER"),
        (True, "WRONG_TYPE"),
        (datetime(2026, 1, 1), "WRONG_TYPE"),
        ("a\tb", "CONTROL_CHARACTER"),
        ("a\nb", "CONTROL_CHARACTER"),
        ("锟斤拷", "MOJIBAKE"),
        ("x" * 41, "TOO_LONG"),
    ],
)
def test_key_text_rejects(cell: Cell, reason: str) -> None:
    assert problem(lambda: v.key_text(cell, max_length=40)).reason == reason


# credit_code (RELIABILITY F2, F6)


@pytest.mark.parametrize(
    "cell",
    [
        "91110108600037341d",
        "９１１１０１０８６０００３７３４１D",
        "911101 08600037341D",
        " 91110108600037341D ",
    ],
)
def test_credit_code_spellings(cell: str) -> None:
    assert v.credit_code(cell) == "91110108600037341D"


def test_all_digit_code_as_text_is_fine() -> None:
    assert v.credit_code("913101151000000408") == "913101151000000408"


def test_credit_code_as_int_is_an_excel_number() -> None:
    error = problem(lambda: v.credit_code(913101151000000408))

    assert error.reason == "EXCEL_NUMBER"
    assert "913101151000000408 becomes 913101151000000384" in error.message


def test_credit_code_as_float_is_an_excel_number() -> None:
    error = problem(lambda: v.credit_code(9.13101151e17))

    assert error.reason == "EXCEL_NUMBER"
    assert "913101151000000000" in error.message
    as_read = problem(lambda: v.credit_code(float(913101151000000408))).message
    assert "913101151000000384" in as_read


@pytest.mark.parametrize(
    "cell", ["9.13101E+17", "9.13101151E+17", "９.１３１０１Ｅ＋１７"]
)
def test_credit_code_in_scientific_notation(cell: str) -> None:
    assert problem(lambda: v.credit_code(cell)).reason == "EXCEL_NUMBER"


@pytest.mark.parametrize(
    "cell",
    [
        "91110108600037341E",
        "91110108600037341",
        "9111010860I037341D",
        "110108000000016",
    ],
)
def test_invalid_credit_code_keeps_the_validators_message(cell: str) -> None:
    with pytest.raises(CreditCodeError) as expected:
        parse_credit_code(cell)

    error = problem(lambda: v.credit_code(cell))

    assert (error.reason, error.message) == (
        "INVALID_CREDIT_CODE",
        expected.value.message,
    )


def test_empty_credit_code_is_none() -> None:
    assert (v.credit_code(None), v.credit_code("  ")) == (None, None)


# amount (RELIABILITY F5)


@pytest.mark.parametrize(
    ("cell", "unit", "expected"),
    [
        ("0", YUAN, "0.00"),
        ("-0", YUAN, "0.00"),
        ("1000", YUAN, "1000.00"),
        ("1000.5", YUAN, "1000.50"),
        ("1,000", YUAN, "1000.00"),
        ("1,234,567.50", YUAN, "1234567.50"),
        ("１０００", YUAN, "1000.00"),
        ("１，０００．５", YUAN, "1000.50"),
        ("0.001", WAN, "10.00"),
        ("0.000001", WAN, "0.01"),
        ("1.5", WAN, "15000.00"),
        ("100000000", WAN, "1000000000000.00"),
        (3, YUAN, "3.00"),
        (Decimal("2.5"), WAN, "25000.00"),
        (1.5, YUAN, "1.50"),
        (1234.5600000000001, YUAN, "1234.56"),  # a formula's binary noise
        (None, YUAN, None),
        ("  ", YUAN, None),
    ],
)
def test_amount_accepts(cell: Cell, unit: MoneyUnit, expected: str | None) -> None:
    result = v.amount(cell, unit=unit)

    assert (None if result is None else str(result)) == expected


@pytest.mark.parametrize(
    ("cell", "unit", "reason"),
    [
        ("-1", YUAN, "NEGATIVE"),
        ("\u22125", YUAN, "NEGATIVE"),
        (-0.01, YUAN, "NEGATIVE"),
        ("1e3", YUAN, "BAD_NUMBER"),
        ("1E+3", YUAN, "BAD_NUMBER"),
        ("NaN", YUAN, "BAD_NUMBER"),
        ("Infinity", YUAN, "BAD_NUMBER"),
        ("-inf", YUAN, "BAD_NUMBER"),
        (float("nan"), YUAN, "BAD_NUMBER"),
        (float("inf"), YUAN, "BAD_NUMBER"),
        (Decimal("NaN"), YUAN, "BAD_NUMBER"),
        ("1,00", YUAN, "BAD_NUMBER"),
        ("1,0000", YUAN, "BAD_NUMBER"),
        ("1,5", YUAN, "BAD_NUMBER"),
        ("1 000", YUAN, "BAD_NUMBER"),
        ("1.2.3", YUAN, "BAD_NUMBER"),
        ("(1,000)", YUAN, "BAD_NUMBER"),
        ("abc", YUAN, "BAD_NUMBER"),
        ("1万", WAN, "UNIT_IN_CELL"),
        ("1000元", YUAN, "UNIT_IN_CELL"),
        ("¥1000", YUAN, "UNIT_IN_CELL"),
        ("约1000", YUAN, "UNIT_IN_CELL"),
        ("10%", YUAN, "UNIT_IN_CELL"),
        ("0.001", YUAN, "TOO_PRECISE"),
        ("0.0000001", WAN, "TOO_PRECISE"),
        ("1000000000000.01", YUAN, "TOO_LARGE"),
        ("100000000.01", WAN, "TOO_LARGE"),
        (True, YUAN, "WRONG_TYPE"),
        (date(2026, 1, 1), YUAN, "WRONG_TYPE"),
        ("#VALUE!", YUAN, "EXCEL_ERROR"),
    ],
)
def test_amount_rejects(cell: Cell, unit: MoneyUnit, reason: str) -> None:
    assert problem(lambda: v.amount(cell, unit=unit)).reason == reason


def test_amount_maximum_is_in_yuan() -> None:
    assert v.amount("1", unit=WAN, maximum=Decimal(10_000)) == Decimal("10000.00")
    assert (
        problem(lambda: v.amount("1.01", unit=WAN, maximum=Decimal(10_000))).reason
        == "TOO_LARGE"
    )


def test_unit_message_points_at_the_header() -> None:
    assert "header" in problem(lambda: v.amount("1万", unit=WAN)).message


@given(st.decimals(min_value=0, max_value=10**12, places=2))
def test_amount_round_trips_as_text(amount: Decimal) -> None:
    assert v.amount(str(amount), unit=YUAN) == amount
    assert v.amount(f"{amount:,}", unit=YUAN) == amount


@given(st.decimals(min_value=0, max_value=10**8, places=6))
def test_wan_yuan_is_ten_thousand_yuan(amount: Decimal) -> None:
    assert v.amount(str(amount), unit=WAN) == amount * 10_000


# quantity


@pytest.mark.parametrize(
    ("cell", "factor", "places", "expected"),
    [
        ("1500", Decimal("0.001"), 3, "1.500"),
        ("1", Decimal("0.001"), 3, "0.001"),
        ("2.5", Decimal(1), 3, "2.500"),
        ("1,200", Decimal(1), 0, "1200"),
        (7, Decimal(1), 1, "7.0"),
    ],
)
def test_quantity_accepts(
    cell: Cell, factor: Decimal, places: int, expected: str
) -> None:
    assert str(v.quantity(cell, factor=factor, places=places)) == expected


@pytest.mark.parametrize(
    ("cell", "factor", "reason"),
    [
        ("0.1", Decimal("0.001"), "TOO_PRECISE"),
        ("-1", Decimal(1), "NEGATIVE"),
        ("5吨", Decimal(1), "UNIT_IN_CELL"),
        ("1e3", Decimal(1), "BAD_NUMBER"),
        ("10000001", Decimal(1), "TOO_LARGE"),
        ("10000000001", Decimal("0.001"), "TOO_LARGE"),
    ],
)
def test_quantity_rejects(cell: Cell, factor: Decimal, reason: str) -> None:
    assert problem(lambda: v.quantity(cell, factor=factor)).reason == reason


# calendar_date (RELIABILITY F5)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-03-15",
        "2026/3/15",
        "2026.03.15",
        "20260315",
        "2026年3月15日",
        "2026 年 03 月 15 号",
        "2026-03-15 10:30",
        "2026/03/15 23:59:59",
        "2026-03-15T08:00:00",
        "２０２６－０３－１５",
        date(2026, 3, 15),
        datetime(2026, 3, 15, 23, 59, 59),
    ],
)
def test_date_formats(cell: Cell) -> None:
    assert v.calendar_date(cell, latest=TODAY) == date(2026, 3, 15)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2099-01-01", "FUTURE_DATE"),
        (datetime(2026, 12, 1, 0, 0), "FUTURE_DATE"),  # 2026-11-30T16:00Z in CST
        ("2026-02-30", "INVALID_DATE"),
        ("2026-13-01", "INVALID_DATE"),
        ("1949-09-30", "INVALID_DATE"),
        ("0000-01-01", "INVALID_DATE"),
        (45000, "EXCEL_SERIAL"),
        (45000.25, "EXCEL_SERIAL"),
        ("45000", "EXCEL_SERIAL"),
        ("01/02/2026", "AMBIGUOUS_DATE"),
        ("2/1/26", "AMBIGUOUS_DATE"),
        ("15.03.2026", "AMBIGUOUS_DATE"),
        ("2026-03", "BAD_DATE"),
        ("2026-03/15", "BAD_DATE"),
        ("2026-03-15 25:00", "BAD_DATE"),
        ("yesterday", "BAD_DATE"),
        (True, "WRONG_TYPE"),
    ],
)
def test_date_rejects(cell: Cell, reason: str) -> None:
    assert problem(lambda: v.calendar_date(cell, latest=TODAY)).reason == reason


def test_latest_day_itself_and_earliest_day_are_allowed() -> None:
    assert v.calendar_date(datetime(2026, 11, 30, 23, 59), latest=TODAY) == TODAY
    assert v.calendar_date("1949-10-01") == date(1949, 10, 1)
    assert v.calendar_date("2099-01-01") == date(2099, 1, 1)  # no latest given


def test_future_message_names_the_latest_date() -> None:
    assert (
        "2026-11-30"
        in problem(lambda: v.calendar_date("2099-01-01", latest=TODAY)).message
    )


def test_serial_message_says_what_excel_meant() -> None:
    message = problem(lambda: v.calendar_date(45000)).message

    assert "2023-03-15" in message
    assert "format the column as a date" in message


def test_ambiguous_message_asks_for_iso() -> None:
    assert "YYYY-MM-DD" in problem(lambda: v.calendar_date("01/02/2026")).message


DATE_FORMATS = [
    "{:%Y-%m-%d}",
    "{:%Y/%m/%d}",
    "{:%Y.%m.%d}",
    "{:%Y%m%d}",
    "{d.year}年{d.month}月{d.day}日",
    "{d.year}年{d.month}月{d.day}号",
    "{:%Y-%m-%d %H:%M}",
]


@given(
    st.dates(min_value=date(1949, 10, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(DATE_FORMATS),
)
def test_dates_round_trip(day: date, template: str) -> None:
    assert v.calendar_date(template.format(day, d=day)) == day


# year


@pytest.mark.parametrize(
    "cell", [2025, 2025.0, Decimal(2025), "2025", "2025年", "２０２５", " 2025 "]
)
def test_year_accepts(cell: Cell) -> None:
    assert v.year(cell, earliest=2000, latest=2026) == 2025


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        (1999, "OUT_OF_RANGE"),
        ("2027", "OUT_OF_RANGE"),
        (2025.5, "BAD_YEAR"),
        ("25", "BAD_YEAR"),
        ("2025-01", "BAD_YEAR"),
        (True, "BAD_YEAR"),
        (date(2025, 1, 1), "BAD_YEAR"),
        (float("nan"), "BAD_YEAR"),
    ],
)
def test_year_rejects(cell: Cell, reason: str) -> None:
    assert problem(lambda: v.year(cell, earliest=2000, latest=2026)).reason == reason


# choice, choices, flag


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("red", Colour.RED),
        (" 红 ", Colour.RED),
        ("ＲＥＤ", Colour.RED),
        ("Green", Colour.GREEN),
        (Colour.GREEN, Colour.GREEN),
        (None, None),
        ("", None),
    ],
)
def test_choice(cell: Cell | Colour, expected: Colour | None) -> None:
    assert v.choice(cell, COLOURS) == expected


def test_unknown_choice_lists_the_allowed_values() -> None:
    error = problem(lambda: v.choice("紫", COLOURS))

    assert error.reason == "UNKNOWN_VALUE"
    assert (
        error.message
        == "“紫” is not an allowed value; use one of: 红、红色、RED、绿、GREEN、废水/废气"
    )


def test_unknown_choice_lists_at_most_twenty() -> None:
    many = {f"k{i}": Colour.RED for i in range(25)}

    message = problem(lambda: v.choice("x", many)).message

    assert "k19…" in message
    assert "k20" not in message


def test_member_outside_the_vocabulary_is_unknown() -> None:
    only_red = {"红": Colour.RED}

    assert problem(lambda: v.choice(Colour.GREEN, only_red)).reason == "UNKNOWN_VALUE"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("红、绿", [Colour.RED, Colour.GREEN]),
        ("红,红色；green", [Colour.RED, Colour.GREEN]),
        ("绿／红\n红", [Colour.GREEN, Colour.RED]),
        ("废水/废气", [Colour.BLUE]),
        ("、", None),
        (None, None),
        (Colour.RED, [Colour.RED]),
    ],
)
def test_choices(cell: Cell | Colour, expected: list[Colour] | None) -> None:
    assert v.choices(cell, COLOURS) == expected


def test_choices_with_an_unknown_part() -> None:
    assert problem(lambda: v.choices("红、紫", COLOURS)).reason == "UNKNOWN_VALUE"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("是", True),
        ("否", False),
        ("TRUE", True),
        ("false", False),
        ("Yes", True),
        ("no", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (None, None),
        (" ", None),
    ],
)
def test_flag(cell: Cell, expected: bool | None) -> None:
    assert v.flag(cell) is expected


@pytest.mark.parametrize("cell", ["maybe", "对", 2, 1.0, date(2026, 1, 1)])
def test_flag_rejects(cell: Cell) -> None:
    assert problem(lambda: v.flag(cell)).reason == "UNKNOWN_VALUE"
