"""Decision numbers: every bracket spelling of one number has one matching key."""

from hypothesis import given, strategies as st

from hub.decision_number import canonical_decision_number

BRACKETS = [
    ("〔", "〕"),
    ("[", "]"),
    ("﹝", "﹞"),
    ("［", "］"),
    ("【", "】"),
    ("(", ")"),
]
PREFIXES = st.sampled_from(
    ["锡山环罚决", "锡宜环罚决", "通01环罚", "常环行罚", "锡环应急"]
)


@given(
    prefix=PREFIXES,
    year=st.integers(min_value=2000, max_value=2099),
    serial=st.integers(min_value=1, max_value=99_999),
    spelling=st.sampled_from(BRACKETS),
    full_width_digits=st.booleans(),
)
def test_every_spelling_has_the_canonical_key(
    prefix: str,
    year: int,
    serial: int,
    spelling: tuple[str, str],
    full_width_digits: bool,
) -> None:
    digits = str(year)
    if full_width_digits:
        digits = digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    written = f"{prefix}{spelling[0]}{digits}{spelling[1]}{serial}号"
    assert canonical_decision_number(written) == f"{prefix}〔{year}〕{serial}号"


@given(
    a=st.integers(min_value=1, max_value=9999),
    b=st.integers(min_value=1, max_value=9999),
)
def test_different_numbers_keep_different_keys(a: int, b: int) -> None:
    keys = {canonical_decision_number(f"锡山环罚决[2023]{n}号") for n in (a, b)}
    assert len(keys) == (1 if a == b else 2)
