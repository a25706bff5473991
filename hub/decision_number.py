"""Penalty decision numbers (行政处罚决定书文号): one canonical matching key.

The same decision is written 锡山环罚决〔2023〕45号, [2023], ﹝2023﹞, ［２０２３］ or
【2023】; every writer stores the key from here, so it never lands twice.
"""

import unicodedata

_BRACKETS = str.maketrans(
    {"[": "〔", "]": "〕", "(": "〔", ")": "〕", "【": "〔", "】": "〕"}
)


def canonical_decision_number(number: str) -> str:
    """The matching key of a decision number: one bracket form (〔〕), no spaces.

    NFKC first folds full-width forms (［２０２３］ → [2023]) and ﹝﹞ into 〔〕.
    """
    folded = "".join(unicodedata.normalize("NFKC", number).split())
    return folded.translate(_BRACKETS)
