"""The review policy files: the shipped ones load, a broken one is refused at its line."""

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest

from auth.scopes import Purpose
from hub.app import create_app
from hub.config import Settings
from hub.enums import Eligibility, Grade, MeasureDomain
from hub.evaluate.policy_source import PolicyError
from hub.review.rulebook import POLICY_DIR, load_rulebook

TODAY = date(2026, 6, 15)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    """A copy of the shipped policy files, to break one thing in."""
    copied = tmp_path / "review"
    copied.mkdir()
    for path in POLICY_DIR.glob("*.toml"):
        shutil.copy(path, copied)
    return copied


def edit(path: Path, old: str, new: str, *, after: str | None = None) -> int:
    """Replace the first `old` (after the one place `after` is) in `path`;
    the line it was on."""
    text = path.read_text(encoding="utf-8")
    start = 0
    if after is not None:
        assert text.count(after) == 1, after
        start = text.index(after) + len(after)
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def line_of(path: Path, start: str) -> int:
    """The number of the first line of `path` that starts with `start`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.startswith(start))


def refused(directory: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_rulebook(directory)
    return caught.value


class TestShippedPolicy:
    def test_the_shipped_policy_loads(self) -> None:
        # when
        rulebook = load_rulebook()
        # then
        catalogue = rulebook.measures_on(TODAY)
        review = rulebook.review_on(TODAY)
        subsidy = rulebook.subsidy_on(TODAY)
        assert catalogue is not None
        assert review is not None
        assert subsidy is not None
        assert len(catalogue.measures) == 22
        assert len({m.code for m in catalogue.measures}) == 22
        assert (subsidy.default_programme, list(subsidy.programmes)) == (
            "ENV-SPECIAL-FUND",
            ["ENV-SPECIAL-FUND", "GREEN-UPGRADE"],
        )
        assert [p.name for p in subsidy.programmes.values()] == [
            "生态环境保护专项资金",
            "绿色技术改造补助",
        ]
        assert subsidy.domains == {MeasureDomain.SUBSIDY}
        assert subsidy.programmes["ENV-SPECIAL-FUND"].table.by_grade == {
            Grade.GREEN: Eligibility.PASS,
            Grade.BLUE: Eligibility.PASS,
            Grade.YELLOW: Eligibility.CONDITIONAL,
            Grade.RED: Eligibility.FAIL,
            Grade.BLACK: Eligibility.FAIL,
        }
        assert review.loan.purposes == {
            Purpose.LOAN_APPROVAL,
            Purpose.POST_LOAN_MONITORING,
        }
        assert review.supervision.purposes == {Purpose.SUPERVISION}
        assert review.veto_lookback_months == 12
        assert {v.header.version for v in (catalogue, review, subsidy)} == {"2014.1"}

    def test_nothing_is_in_effect_before_the_first_version(self) -> None:
        # when
        rulebook = load_rulebook()
        # then
        before = date(2014, 2, 28)
        assert (
            rulebook.measures_on(before),
            rulebook.review_on(before),
            rulebook.subsidy_on(before),
        ) == (None, None, None)


class TestBrokenFile:
    def test_an_unknown_fact(self, policy: Path) -> None:
        # given
        target = policy / "review_2014.toml"
        line = edit(
            target,
            'fact = "veto_event"',
            'fact = "veto_events"',
            after='code = "LOAN-VETO-EVENT"',
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "unknown fact 'veto_events' (expected one of: grade, unrated, penalty, "
            "veto_event, risk, insurance_missing, repair_open)",
        )

    def test_an_outcome_off_the_purposes_scale(self, policy: Path) -> None:
        # given a lender's outcome in the supervision table
        target = policy / "review_2014.toml"
        line = edit(
            target,
            'at_least = "INTENSIVE"',
            'at_least = "STOP_LENDING"',
            after='code = "SUP-VETO-EVENT"',
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "unknown at_least 'STOP_LENDING' (expected one of: REDUCED, NORMAL, "
            "INCREASED, INTENSIVE)",
        )

    def test_a_grade_missing_from_a_grades_table(self, policy: Path) -> None:
        # given the green-upgrade programme without its BLACK outcome
        target = policy / "subsidy_2014.toml"
        line = edit(
            target,
            ', BLACK = "FAIL" }',
            " }",
            after='code = "GREEN-UPGRADE"',
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "missing key 'BLACK'",
        )
        assert (
            target.read_text(encoding="utf-8")
            .splitlines()[line - 1]
            .startswith("grades = ")
        )

    def test_a_misspelt_key(self, policy: Path) -> None:
        # given
        target = policy / "subsidy_2014.toml"
        line = edit(
            target, "label =", "lable =", after='code = "UPG-PENALTY-PUBLISHED"'
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "unknown key 'lable' (expected one of: at_least, code, label, when)",
        )

    def test_a_default_programme_that_is_not_listed(self, policy: Path) -> None:
        # given
        target = policy / "subsidy_2014.toml"
        line = edit(
            target,
            'default_programme = "ENV-SPECIAL-FUND"',
            'default_programme = "ENV-FUND"',
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "default_programme 'ENV-FUND' is not one of the [[programmes]]",
        )

    def test_an_unknown_domain_in_a_measure(self, policy: Path) -> None:
        # given
        target = policy / "measures_2014.toml"
        line = edit(
            target,
            'domain = "PRICING"',
            'domain = "PRICES"',
            after='code = "PRICE-RED-SURCHARGE"',
        )
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "unknown domain 'PRICES' (expected one of: CREDIT, SUBSIDY, INSPECTION, "
            "PERMITS, PRICING, INSURANCE, PROCUREMENT, HONOURS)",
        )

    def test_a_rule_code_used_twice(self, policy: Path) -> None:
        # given: the fourth supervision rule takes the code of the second
        target = policy / "review_2014.toml"
        line = edit(target, 'code = "SUP-RISK-MAJOR"', 'code = "SUP-RISK-NO-PLAN"')
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            target,
            line,
            "rule code SUP-RISK-NO-PLAN is used twice",
        )

    def test_a_toml_syntax_error(self, policy: Path) -> None:
        # given a string left open
        target = policy / "measures_2014.toml"
        line = edit(target, 'code = "CREDIT-BLUE-NORMAL"', 'code = "CREDIT-BLUE-NORMAL')
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line) == (target, line)
        assert error.reason.startswith("TOML syntax: ")


class TestBrokenDirectory:
    @pytest.mark.parametrize(
        ("key", "old", "new", "value"),
        [
            (
                "version",
                "effective_from = 2014-03-01",
                "effective_from = 2026-07-01",
                "2014.1",
            ),
            (
                "effective_from",
                'version = "2014.1"',
                'version = "2026.1"',
                "2014-03-01",
            ),
        ],
    )
    def test_two_review_files_of_one_version(
        self, policy: Path, key: str, old: str, new: str, value: str
    ) -> None:
        # given a second review file that changes one of the two
        second = policy / "review_2026.toml"
        shutil.copy(policy / "review_2014.toml", second)
        edit(second, old, new)
        line = line_of(second, f"{key} = ")
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            second,
            line,
            f"review {key} {value} is also in review_2014.toml",
        )

    def test_a_directory_without_subsidy_programmes(self, policy: Path) -> None:
        # given
        (policy / "subsidy_2014.toml").unlink()
        # when
        error = refused(policy)
        # then
        assert (error.path, error.line, error.reason) == (
            policy,
            None,
            'no policy file of kind = "subsidy"',
        )

    def test_a_later_version_takes_effect_on_its_date(self, policy: Path) -> None:
        # given a subsidy file from 1 July without the green-upgrade programme
        shipped = (policy / "subsidy_2014.toml").read_text(encoding="utf-8")
        upgrade = shipped.index('[[programmes]]\ncode = "GREEN-UPGRADE"')
        later = policy / "subsidy_2026.toml"
        later.write_text(shipped[:upgrade], encoding="utf-8")
        edit(later, 'version = "2014.1"', 'version = "2026.1"')
        edit(later, "effective_from = 2014-03-01", "effective_from = 2026-07-01")
        # when
        rulebook = load_rulebook(policy)
        # then
        june = rulebook.subsidy_on(date(2026, 6, 30))
        july = rulebook.subsidy_on(date(2026, 7, 1))
        assert june is not None
        assert july is not None
        assert (june.header.version, list(june.programmes)) == (
            "2014.1",
            ["ENV-SPECIAL-FUND", "GREEN-UPGRADE"],
        )
        assert (july.header.version, list(july.programmes)) == (
            "2026.1",
            ["ENV-SPECIAL-FUND"],
        )


class TestStartUp:
    def test_the_hub_refuses_to_start_on_a_broken_review_policy(
        self, settings: Settings, policy: Path
    ) -> None:
        # given
        target = policy / "subsidy_2014.toml"
        line = edit(target, "label =", "lable =", after='code = "SUB-VETO-EVENT"')
        # when / then
        with pytest.raises(PolicyError) as caught:
            create_app(dataclasses.replace(settings, review_policy_dir=policy))
        assert (caught.value.path, caught.value.line) == (target, line)
        assert "unknown key 'lable'" in caught.value.reason

    def test_the_hub_starts_on_a_copy_of_the_shipped_policy(
        self, settings: Settings, policy: Path
    ) -> None:
        create_app(dataclasses.replace(settings, review_policy_dir=policy))
