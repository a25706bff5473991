"""Unified social credit code (统一社会信用代码, GB 32100-2015): the one validator.

Every place that accepts a credit code calls `parse_credit_code`, so the same
enterprise is never stored or looked up under two spellings.
"""

import re
import unicodedata
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 over positions 9-16
_SEPARATORS = re.compile(r"[\s\-‐‑–—]+")


@dataclass(frozen=True, slots=True)
class CreditCodeError(ValueError):
    """A credit code that fails GB 32100; `message` says what is wrong."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def normalize_credit_code(raw: str) -> str:
    """Trim, fold full-width characters, drop separators and upper-case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def mod31_check_char(first17: str) -> str:
    """GB 32100 check character (position 18) for the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """GB 11714 check character (position 17) for positions 9-16."""
    total = sum(_org_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    v = 11 - total % 11
    return "X" if v == 10 else "0" if v == 11 else str(v)


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def parse_credit_code(raw: str) -> str:
    """Return the canonical code, or raise CreditCodeError saying what is wrong."""
    code = normalize_credit_code(raw)
    if len(code) != 18:
        raise CreditCodeError(
            code, f"credit code must have 18 characters, got {len(code)}"
        )
    for pos, c in enumerate(code, start=1):
        if c not in _VALUE:
            raise CreditCodeError(
                code,
                f"character {pos} ({c!r}) is not allowed: a credit code uses "
                "digits and the letters A-Y without I, O, S, V, Z",
            )
    if not code[2:8].isdigit():
        raise CreditCodeError(
            code, "characters 3-8 must be the 6-digit administrative division code"
        )
    expected_org = org_check_char(code[8:16])
    if code[16] != expected_org:
        raise CreditCodeError(
            code,
            f"character 17 ({code[16]!r}) fails the GB 11714 organisation-code "
            f"check: expected {expected_org!r}",
        )
    expected = mod31_check_char(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            code,
            f"check character 18 ({code[17]!r}) is wrong: expected {expected!r}",
        )
    return code


def complete_credit_code(first16: str) -> str:
    """Append both check characters to 16 characters (used by demo data)."""
    with_org = first16 + org_check_char(first16[8:16])
    return with_org + mod31_check_char(with_org)
