"""GB 32100 credit codes: real codes, the bad-input vectors, and properties."""

import pytest
from hypothesis import given, strategies as st

from hub.credit_code import (
    ALPHABET,
    CreditCodeError,
    complete_credit_code,
    parse_credit_code,
)

REAL_CODES = [
    "91320621MA1MXW0Y42",  # 通为电气海安有限公司
    "91320621MADJKENK5N",  # 南通英飞凌铝业有限公司
    "913204127514327449",  # 江苏联曦新材料科技有限公司
    "914403001922038216",  # 华为技术有限公司
    "91512081MA62K0260E",  # worked example in a public validator
    "91110108600037341D",
    "91440300MA5DA1B21A",
    "12100000400000018N",
    "913101151000000408",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert parse_credit_code(code) == code


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("  9144030071526726xg  ", "9144030071526726XG"),
        ("91110108600037341d", "91110108600037341D"),
        ("９１１１０１０８６０００３７３４１D", "91110108600037341D"),
        ("911101 08600037341D", "91110108600037341D"),
    ],
)
def test_spellings_of_one_code_are_one_code(raw: str, canonical: str) -> None:
    assert parse_credit_code(raw) == canonical


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("914403001922038217", "check character 18 ('7') is wrong: expected '6'"),
        ("91320621MADJKENK5M", "check character 18 ('M') is wrong: expected 'N'"),
        ("913204127514327448", "check character 18 ('8') is wrong: expected '9'"),
        ("91350203M0001QAY9B", "check character 18 ('B') is wrong: expected '9'"),
        ("91110108600037341E", "check character 18 ('E') is wrong: expected 'D'"),
        ("91101108600037341D", "check character 18 ('D') is wrong: expected 'M'"),
        ("91110108600037341", "credit code must have 18 characters, got 17"),
        ("91110108600037341D0", "credit code must have 18 characters, got 19"),
        ("110108000000016", "credit code must have 18 characters, got 15"),
        ("", "credit code must have 18 characters, got 0"),
        (
            "9111010860O037341D",
            "character 11 ('O') is not allowed: a credit code uses digits and the "
            "letters A-Y without I, O, S, V, Z",
        ),
        (
            "91110108600037345R",
            "character 17 ('5') fails the GB 11714 organisation-code check: expected '1'",
        ),
        (
            "91A10108600037341D",
            "characters 3-8 must be the 6-digit administrative division code",
        ),
    ],
)
def test_invalid_codes_say_what_is_wrong(code: str, message: str) -> None:
    with pytest.raises(CreditCodeError) as raised:
        parse_credit_code(code)
    assert str(raised.value) == message


prefix = st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "Y1"])
division = st.from_regex(r"\A3202[0-9]{2}\Z")


@given(
    prefix,
    division,
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
)
def test_completed_codes_parse(p: str, d: str, org: str) -> None:
    code = complete_credit_code(p + d + org)
    assert parse_credit_code(code) == code


@given(
    prefix,
    division,
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
    st.integers(0, 17),
    st.sampled_from(ALPHABET),
)
def test_any_single_substitution_is_caught(
    p: str, d: str, org: str, pos: int, c: str
) -> None:
    code = complete_credit_code(p + d + org)
    changed = code[:pos] + c + code[pos + 1 :]
    if changed != code:
        with pytest.raises(CreditCodeError):
            parse_credit_code(changed)
