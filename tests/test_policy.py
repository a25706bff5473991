"""Policy files: the shipped schemes load, a bad file is refused at its line."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from hub.enums import Grade, Scheme
from hub.evaluate.policy import (
    SCHEMES_DIR,
    Kind,
    PolicyError,
    SchemePolicy,
    load_policies,
    load_policy,
    policy_for,
)

DYNAMIC = """\
scheme = "JS_DYNAMIC_12"
version = "t1"
effective_from = 2020-01-01
title = "测试"
kind = "dynamic_score"
max_score = 12

[[bands]]
grade = "GREEN"
min = 11

[[bands]]
grade = "BLUE"
min = 6

[[bands]]
grade = "BLACK"

[[deductions]]
code = "D-WARNING"
label = "警告"
points = 1
valid_months = 6
[deductions.match]
source = "penalty"
categories = ["WARNING"]

[[deductions]]
code = "D-FINE"
label = "罚款"
points = 3
valid_months = 6
[deductions.match]
source = "penalty"
categories = ["FINE"]
"""

WEIGHTED = """\
scheme = "NATIONAL_2013"
version = "t1"
effective_from = 2014-01-01
title = "测试"
kind = "weighted_indicators"
categories = ["污染防治", "环境管理"]
veto_grade = "RED"

[[bands]]
grade = "GREEN"
min = 90

[[bands]]
grade = "RED"

[[indicators]]
code = "N01"
category = "污染防治"
label = "达标排放"
weight = 40

[[indicators]]
code = "N02"
category = "环境管理"
label = "行政处罚"
weight = 60
[[indicators.conditions]]
code = "N02-PENALTY"
label = "受到处罚"
score = 0
[indicators.conditions.match]
source = "penalty"

[[vetoes]]
code = "N-VETO"
label = "暗管"
[vetoes.match]
source = "event"
violation_codes = ["HIDDEN_PIPE"]
"""


def write(directory: Path, text: str, name: str = "policy.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def mutate(text: str, changes: dict[int, str]) -> str:
    """Replace whole lines, by 1-based number."""
    lines = text.splitlines()
    for number, new in changes.items():
        lines[number - 1] = new
    return "\n".join(lines) + "\n"


def refusal(path: Path) -> tuple[int | None, str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.path == path
    return caught.value.line, caught.value.reason


class TestShippedSchemes:
    def test_one_version_of_each_scheme(self) -> None:
        policies = load_policies(SCHEMES_DIR)
        assert {s: [p.version for p in v] for s, v in policies.items()} == {
            Scheme.JS_ANNUAL_100: ["3.0"],
            Scheme.JS_DYNAMIC_12: ["2020.1"],
            Scheme.NATIONAL_2013: ["2013.1"],
        }

    def test_annual(self) -> None:
        policy = load_policy(SCHEMES_DIR / "js_annual_100.toml")
        assert policy.kind is Kind.ANNUAL_DEDUCTION
        assert [(b.grade, b.min) for b in policy.bands] == [
            (Grade.GREEN, 95),
            (Grade.BLUE, 80),
            (Grade.YELLOW, 65),
            (Grade.RED, 41),
            (Grade.BLACK, None),
        ]
        assert policy.veto_grade is Grade.BLACK
        assert (policy.start_score, policy.min_score) == (Decimal(100), Decimal(0))
        assert [r.code for r in policy.bonuses] == ["JS100-INSURANCE"]
        assert len(policy.vetoes) == 8

    def test_dynamic(self) -> None:
        policy = load_policy(SCHEMES_DIR / "js_dynamic_12.toml")
        assert policy.kind is Kind.DYNAMIC_SCORE
        assert [(b.grade, b.min) for b in policy.bands] == [
            (Grade.GREEN, 11),
            (Grade.BLUE, 6),
            (Grade.YELLOW, 3),
            (Grade.RED, 1),
            (Grade.BLACK, None),
        ]
        assert (policy.start_score, policy.max_score) == (Decimal(12), Decimal(12))
        assert policy.min_score is None
        assert policy.validity_starts_after_days == 15
        assert {r.valid_months for r in policy.deductions} == {6, 12}
        assert all(1 <= r.points <= 12 for r in policy.deductions)

    def test_national(self) -> None:
        policy = load_policy(SCHEMES_DIR / "national_2013.toml")
        assert policy.kind is Kind.WEIGHTED_INDICATORS
        assert len(policy.indicators) == 21
        by_category: dict[str, Decimal] = {}
        for i in policy.indicators:
            by_category[i.category] = by_category.get(i.category, Decimal(0)) + i.weight
        assert by_category == {
            "污染防治": 29,
            "生态保护": 5,
            "环境管理": 54,
            "社会监督": 12,
        }
        weights = {i.label: i.weight for i in policy.indicators}
        assert weights["大气及水污染物达标排放"] == 15
        assert weights["行政处罚与行政命令"] == 15
        assert weights["环境风险管理"] == 10
        assert policy.veto_grade is Grade.RED
        assert Grade.BLACK not in {b.grade for b in policy.bands}

    def test_a_band_runs_up_to_the_next_min(self) -> None:
        policy = load_policy(SCHEMES_DIR / "js_annual_100.toml")
        assert policy.grade_for(Decimal(95)) is Grade.GREEN
        assert policy.grade_for(Decimal("94.5")) is Grade.BLUE
        assert policy.grade_for(Decimal("40.5")) is Grade.BLACK
        assert policy.grade_for(Decimal(-3)) is Grade.BLACK


DYNAMIC_KEYS = (
    "bands, bonuses, deductions, effective_from, kind, max_score, min_score, scheme, "
    "start_score, title, validity_starts_after_days, version"
)
RULE_KEYS = "code, label, match, points, valid_months"
CATEGORIES = (
    "WARNING, CIRCULATED_CRITICISM, FINE, CONFISCATION_OF_ILLEGAL_GAINS, "
    "CONFISCATION_OF_ILLEGAL_PROPERTY, LICENCE_SUSPENSION, QUALIFICATION_DOWNGRADE, "
    "LICENCE_REVOCATION, RESTRICTED_OPERATIONS, ORDERED_SUSPENSION, ORDERED_CLOSURE, "
    "EMPLOYMENT_RESTRICTION, ADMINISTRATIVE_DETENTION, OTHER"
)

# (changed lines of DYNAMIC, the line the error names, its reason)
BAD_DYNAMIC = {
    "toml-syntax": ({14: "min = "}, 14, "TOML syntax: Invalid value"),
    "toml-duplicate-key": (
        {23: "points = 2"},
        23,
        "TOML syntax: Cannot overwrite a value",
    ),
    "unknown-top-key": (
        {6: "max_scor = 12"},
        6,
        f"unknown key 'max_scor' (expected one of: {DYNAMIC_KEYS})",
    ),
    "key-of-another-kind": (
        {7: 'veto_grade = "BLACK"'},
        7,
        f"unknown key 'veto_grade' (expected one of: {DYNAMIC_KEYS})",
    ),
    "unknown-rule-key": (
        {31: "pionts = 3"},
        31,
        f"unknown key 'pionts' (expected one of: {RULE_KEYS})",
    ),
    "cap-on-a-dynamic-rule": (
        {32: "cap = 3"},
        32,
        f"unknown key 'cap' (expected one of: {RULE_KEYS})",
    ),
    "unknown-match-key": (
        {27: "cap = 3"},
        27,
        "unknown key 'cap' (expected one of: categories, fine_at_least, "
        "fine_below, source)",
    ),
    "unknown-grade": (
        {13: 'grade = "NAVY"'},
        13,
        "unknown grade 'NAVY' (expected one of: GREEN, BLUE, YELLOW, RED, BLACK)",
    ),
    "unknown-category": (
        {35: 'categories = ["FINE", "FINES"]'},
        35,
        f"unknown categories 'FINES' (expected one of: {CATEGORIES})",
    ),
    "unknown-kind": (
        {5: 'kind = "dynamic"'},
        5,
        "unknown kind 'dynamic' (expected one of: annual_deduction, dynamic_score, "
        "weighted_indicators)",
    ),
    "unknown-source": (
        {34: 'source = "penalties"'},
        34,
        "unknown source 'penalties' (expected one of: penalty, event, policy, risk)",
    ),
    "key-of-another-source": (
        {34: 'source = "event"'},
        35,
        "categories does not apply to source 'event'",
    ),
    "missing-key": ({31: ""}, 28, "missing key 'points'"),
    "missing-validity": ({32: ""}, 28, "missing key 'valid_months'"),
    "wrong-type": ({31: 'points = "3"'}, 31, "points must be a number, not a string"),
    "empty-list": ({35: "categories = []"}, 35, "categories must not be empty"),
    "effective-date-missing": ({3: ""}, 1, "missing key 'effective_from'"),
    "effective-date-quoted": (
        {3: 'effective_from = "2020-01-01"'},
        3,
        "effective_from must be a date like 2020-01-01 (no quotes), not a string",
    ),
    "effective-date-with-time": (
        {3: "effective_from = 2020-01-01T08:00:00"},
        3,
        "effective_from must be a date like 2020-01-01 (no quotes), not a date-time",
    ),
    "bands-overlap": (
        {14: "min = 11"},
        14,
        "bands overlap: BLUE min 11 is not below GREEN min 11 "
        "(list the highest grade first)",
    ),
    "bands-out-of-order": (
        {14: "min = 12"},
        14,
        "bands overlap: BLUE min 12 is not below GREEN min 11 "
        "(list the highest grade first)",
    ),
    "bands-gap-at-the-bottom": (
        {18: "min = 0"},
        18,
        "gap: scores below 0 would have no grade; the lowest band has no min",
    ),
    "band-without-min": (
        {14: ""},
        12,
        "band BLUE needs a min: only the lowest band has none",
    ),
    "band-with-max": (
        {14: "max = 10"},
        14,
        "bands have no max: a band runs up to the next band's min",
    ),
    "band-above-the-maximum": (
        {10: "min = 13"},
        10,
        "min 13 is above the maximum score 12",
    ),
    "grade-twice": (
        {13: 'grade = "GREEN"'},
        13,
        "grade GREEN is listed twice",
    ),
    "points-above-range": (
        {31: "points = 13"},
        31,
        "points 13 is out of range (above 0 up to 12)",
    ),
    "points-zero": (
        {31: "points = 0"},
        31,
        "points 0 is out of range (above 0 up to 12)",
    ),
    "validity-out-of-range": (
        {32: "valid_months = 0"},
        32,
        "valid_months 0 is out of range 1..60",
    ),
    "start-score-out-of-range": (
        {7: "start_score = 13"},
        7,
        "start_score 13 is out of range",
    ),
    "duplicate-code": (
        {29: 'code = "D-WARNING"'},
        29,
        "duplicate rule code 'D-WARNING' (first at line 20)",
    ),
    "code-spelling": (
        {29: 'code = "d-fine"'},
        29,
        "code 'd-fine' must be capital letters, digits, - and _",
    ),
    "inline-match-table": (
        {33: 'match = { source = "penalty", categories = ["FINES"] }', 34: "", 35: ""},
        33,
        f"unknown categories 'FINES' (expected one of: {CATEGORIES})",
    ),
    "top-level-key-written-under-a-table": (
        {18: "start_score = 9"},
        18,
        "unknown key 'start_score' (expected one of: grade, min)",
    ),
    "fine-band-empty": (
        {26: "fine_at_least = 100", 27: "fine_below = 100"},
        27,
        "fine_below must be above fine_at_least",
    ),
}


@pytest.mark.parametrize(
    ("changes", "line", "reason"), BAD_DYNAMIC.values(), ids=BAD_DYNAMIC.keys()
)
def test_bad_dynamic_file_is_refused(
    tmp_path: Path, changes: dict[int, str], line: int, reason: str
) -> None:
    path = write(tmp_path, mutate(DYNAMIC, changes))
    assert refusal(path) == (line, reason)


# (changed lines of WEIGHTED, the line the error names, its reason)
BAD_WEIGHTED = {
    "veto-grade-the-scheme-lacks": (
        {7: 'veto_grade = "BLACK"'},
        7,
        "veto_grade BLACK is not a grade of this scheme (GREEN, RED)",
    ),
    "vetoes-without-grade": (
        {7: ""},
        34,
        "vetoes need a veto_grade: the grade they force",
    ),
    "weights-not-100": (
        {26: "weight = 50"},
        16,
        "the indicator weights add up to 90 %, not 100 %",
    ),
    "unknown-category": (
        {18: 'category = "污染"'},
        18,
        "category '污染' is not one of the scheme's categories: 污染防治, 环境管理",
    ),
    "category-without-indicator": (
        {6: 'categories = ["污染防治", "环境管理", "社会监督"]'},
        6,
        "category '社会监督' has no indicator",
    ),
    "score-above-100": (
        {30: "score = 101"},
        30,
        "score 101 is out of range (from 0 up to 100)",
    ),
    "duplicate-code-in-a-condition": (
        {28: 'code = "N02"'},
        28,
        "duplicate rule code 'N02' (first at line 23)",
    ),
    "condition-without-match": (
        {31: "", 32: ""},
        27,
        "a condition needs exactly one of match and missing",
    ),
    "min-count-zero": (
        {30: "score = 0\nmin_count = 0"},
        31,
        "min_count must be at least 1",
    ),
    "violation-code-spelling": (
        {39: 'violation_codes = ["hidden_pipe"]'},
        39,
        "violation code 'hidden_pipe' must be capital letters, digits and _",
    ),
    "points-on-a-veto": (
        {36: "points = 1"},
        36,
        "unknown key 'points' (expected one of: code, label, match)",
    ),
}


@pytest.mark.parametrize(
    ("changes", "line", "reason"), BAD_WEIGHTED.values(), ids=BAD_WEIGHTED.keys()
)
def test_bad_weighted_file_is_refused(
    tmp_path: Path, changes: dict[int, str], line: int, reason: str
) -> None:
    path = write(tmp_path, mutate(WEIGHTED, changes))
    assert refusal(path) == (line, reason)


def test_cap_below_points_is_refused_in_the_shipped_annual_file(
    tmp_path: Path,
) -> None:
    text = (SCHEMES_DIR / "js_annual_100.toml").read_text(encoding="utf-8")
    path = write(tmp_path, text.replace("cap = 40", "cap = 10"))
    line = text.splitlines().index("cap = 40") + 1
    assert refusal(path) == (line, "cap 10 is out of range (from 20 up to 100)")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b'scheme = "JS_DYNAMIC_12"\ntitle = "\xb2\xe2"\n')
    assert refusal(path) == (2, "the file is not UTF-8")


def test_error_names_file_line_and_reason(tmp_path: Path) -> None:
    path = write(tmp_path, mutate(DYNAMIC, {31: "points = 13"}))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == (
        f"{path}:31: points 13 is out of range (above 0 up to 12)"
    )


def version(text: str, name: str, effective_from: str) -> str:
    return mutate(
        text, {2: f'version = "{name}"', 3: f"effective_from = {effective_from}"}
    )


class TestVersions:
    @pytest.fixture
    def policies(self, tmp_path: Path) -> dict[Scheme, list[SchemePolicy]]:
        # The file names sort against the dates: order comes from the dates.
        write(tmp_path, version(DYNAMIC, "2026", "2026-01-01"), "a.toml")
        write(tmp_path, version(DYNAMIC, "2020", "2020-01-01"), "b.toml")
        write(tmp_path, WEIGHTED, "c.toml")
        return load_policies(tmp_path)

    def test_sorted_by_effective_date(
        self, policies: dict[Scheme, list[SchemePolicy]]
    ) -> None:
        assert [p.version for p in policies[Scheme.JS_DYNAMIC_12]] == ["2020", "2026"]

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2020, 1, 1), "2020"),
            (date(2025, 12, 31), "2020"),
            (date(2026, 1, 1), "2026"),
            (date(2040, 6, 1), "2026"),
        ],
    )
    def test_the_version_in_effect(
        self, policies: dict[Scheme, list[SchemePolicy]], on: date, expected: str
    ) -> None:
        assert policy_for(policies, Scheme.JS_DYNAMIC_12, on).version == expected

    def test_before_the_first_version(
        self, tmp_path: Path, policies: dict[Scheme, list[SchemePolicy]]
    ) -> None:
        with pytest.raises(PolicyError) as caught:
            policy_for(policies, Scheme.JS_DYNAMIC_12, date(2019, 12, 31))
        assert (caught.value.path, caught.value.line, caught.value.reason) == (
            tmp_path / "b.toml",
            None,
            "no version of JS_DYNAMIC_12 in effect on 2019-12-31: "
            "the first takes effect on 2020-01-01",
        )

    def test_scheme_without_a_file(
        self, policies: dict[Scheme, list[SchemePolicy]]
    ) -> None:
        with pytest.raises(PolicyError, match="no policy file for JS_ANNUAL_100"):
            policy_for(policies, Scheme.JS_ANNUAL_100, date(2024, 1, 1))

    def test_two_versions_on_one_date_are_refused(self, tmp_path: Path) -> None:
        write(tmp_path, version(DYNAMIC, "a", "2020-01-01"), "a.toml")
        second = write(tmp_path, version(DYNAMIC, "b", "2020-01-01"), "b.toml")
        with pytest.raises(PolicyError) as caught:
            load_policies(tmp_path)
        assert (caught.value.path, caught.value.line, caught.value.reason) == (
            second,
            3,
            "JS_DYNAMIC_12 effective_from 2020-01-01 is also in a.toml",
        )

    def test_two_files_with_one_version_are_refused(self, tmp_path: Path) -> None:
        write(tmp_path, version(DYNAMIC, "v1", "2020-01-01"), "a.toml")
        second = write(tmp_path, version(DYNAMIC, "v1", "2021-01-01"), "b.toml")
        with pytest.raises(PolicyError) as caught:
            load_policies(tmp_path)
        assert (caught.value.path, caught.value.line, caught.value.reason) == (
            second,
            2,
            "JS_DYNAMIC_12 version v1 is also in a.toml",
        )

    def test_an_empty_directory_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(PolicyError) as caught:
            load_policies(tmp_path)
        assert (
            str(caught.value)
            == f"{tmp_path}: no policy files (*.toml) in the directory"
        )
