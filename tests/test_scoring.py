"""Worked examples per shipped scheme: band boundaries, expiry, vetoes, explanations."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from hub.enums import (
    EmergencyLevel,
    EnterpriseStatus,
    EventKind,
    Grade,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from hub.evaluate.facts import (
    EnterpriseFacts,
    EventFact,
    PenaltyFact,
    PolicyFact,
    RiskFact,
)
from hub.evaluate.policy import SCHEMES_DIR, load_policies, policy_for
from hub.evaluate.scoring import Line, Outcome, evaluate

POLICIES = load_policies(SCHEMES_DIR)
ANNUAL = policy_for(POLICIES, Scheme.JS_ANNUAL_100, date(2025, 12, 31))
DYNAMIC = policy_for(POLICIES, Scheme.JS_DYNAMIC_12, date(2026, 6, 15))
NATIONAL = policy_for(POLICIES, Scheme.NATIONAL_2013, date(2025, 12, 31))

YEAR = {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31)}
IN_YEAR = date(2025, 5, 20)

Facts = PenaltyFact | EventFact | PolicyFact | RiskFact


def enterprise(*facts: Facts) -> EnterpriseFacts:
    return EnterpriseFacts(
        enterprise_id=1,
        code="91320200MA1MXW0Y42",
        status=EnterpriseStatus.OPERATING,
        supervision=SupervisionCategory.CITY_KEY,
        penalties=[f for f in facts if isinstance(f, PenaltyFact)],
        events=[f for f in facts if isinstance(f, EventFact)],
        policies=[f for f in facts if isinstance(f, PolicyFact)],
        risks=[f for f in facts if isinstance(f, RiskFact)],
    )


def penalty(
    id: int,
    *categories: PenaltyCategory,
    fine: int = 0,
    on: date = IN_YEAR,
    status: PenaltyStatus = PenaltyStatus.EFFECTIVE,
) -> PenaltyFact:
    return PenaltyFact(id, on, categories, Decimal(fine), "违反大气污染防治法", status)


def warning(id: int, on: date = IN_YEAR) -> PenaltyFact:
    return penalty(id, PenaltyCategory.WARNING, on=on)


def fine(id: int, amount: int = 50_000, on: date = IN_YEAR) -> PenaltyFact:
    return penalty(id, PenaltyCategory.FINE, fine=amount, on=on)


def finding(id: int, code: str, on: date = IN_YEAR) -> EventFact:
    return EventFact(id, EventKind.INSPECTION_FINDING, on, violation_code=code)


def exceeds(*ids: int) -> list[EventFact]:
    return [finding(id, "EXCEEDS_STANDARD") for id in ids]


def emergency(id: int, severity: EmergencyLevel, on: date = IN_YEAR) -> EventFact:
    return EventFact(id, EventKind.EMERGENCY, on, severity=severity)


def court(id: int, *, criminal: bool, on: date = IN_YEAR) -> EventFact:
    return EventFact(id, EventKind.COURT_RULING, on, criminal=criminal)


def commitment(id: int, on: date, valid_until: date | None = None) -> EventFact:
    return EventFact(id, EventKind.CREDIT_COMMITMENT, on, valid_until=valid_until)


def insurance(id: int, start: date, end: date) -> PolicyFact:
    return PolicyFact(id, start, end, PolicyStatus.ACTIVE)


def plan(id: int, filed_on: date | None = date(2023, 4, 1)) -> RiskFact:
    return RiskFact(id, RiskLevel.GENERAL, date(2023, 3, 1), filed_on)


def summary(outcome: Outcome) -> tuple[Decimal, Grade, str | None]:
    return outcome.score, outcome.grade, outcome.veto


class TestAnnual:
    def score(self, *facts: Facts) -> Outcome:
        return evaluate(ANNUAL, enterprise(*facts), **YEAR)

    def test_a_clean_year(self) -> None:
        assert self.score() == Outcome(Decimal(100), Grade.GREEN, None, ())

    @pytest.mark.parametrize(
        ("facts", "score", "grade"),
        [
            (exceeds(1), 95, Grade.GREEN),
            ([*exceeds(1), warning(2)], 94, Grade.BLUE),
            (exceeds(1, 2, 3, 4), 80, Grade.BLUE),
            ([*exceeds(1, 2, 3, 4), warning(5)], 79, Grade.YELLOW),
            ([*exceeds(1, 2, 3, 4), fine(5, 200_000), fine(6)], 65, Grade.YELLOW),
            (
                [*exceeds(1, 2, 3, 4), fine(5, 200_000), fine(6), warning(7)],
                64,
                Grade.RED,
            ),
            (
                [
                    *exceeds(1, 2, 3, 4),
                    penalty(5, PenaltyCategory.ORDERED_SUSPENSION),
                    fine(6, 200_000),
                    fine(7),
                    *[warning(id) for id in (8, 9, 10, 11)],
                ],
                41,
                Grade.RED,
            ),
            (
                [
                    *exceeds(1, 2, 3, 4),
                    penalty(5, PenaltyCategory.ORDERED_SUSPENSION),
                    fine(6, 200_000),
                    fine(7),
                    *[warning(id) for id in (8, 9, 10, 11, 12)],
                ],
                40,
                Grade.BLACK,
            ),
        ],
    )
    def test_band_boundaries(
        self, facts: list[Facts], score: int, grade: Grade
    ) -> None:
        assert summary(self.score(*facts)) == (Decimal(score), grade, None)

    def test_explanation_cites_each_rule_and_its_records(self) -> None:
        outcome = self.score(
            *exceeds(1, 2, 3, 4), fine(5, 200_000), fine(6), warning(7)
        )
        assert outcome.lines == (
            Line(
                "JS100-FINE-LARGE",
                "罚款（十万元以上）",
                Decimal(-10),
                (("PENALTY", 5),),
                "行政处罚: 1 × 10",
            ),
            Line(
                "JS100-FINE",
                "罚款（十万元以下）",
                Decimal(-5),
                (("PENALTY", 6),),
                "行政处罚: 1 × 5",
            ),
            Line(
                "JS100-WARNING",
                "警告、通报批评",
                Decimal(-1),
                (("PENALTY", 7),),
                "行政处罚: 1 × 1",
            ),
            Line(
                "JS100-EXCEEDS",
                "污染物超标排放",
                Decimal(-20),
                (("EVENT", 1), ("EVENT", 2), ("EVENT", 3), ("EVENT", 4)),
                "污染防治: 4 × 5",
            ),
        )

    def test_a_rule_is_capped(self) -> None:
        outcome = self.score(*exceeds(1, 2, 3, 4, 5, 6))
        assert outcome.score == Decimal(80)
        assert outcome.lines[0].note == "污染防治: 6 × 5, capped at 20"

    def test_a_fine_at_the_threshold_is_the_larger_fine(self) -> None:
        outcome = self.score(fine(1, 100_000), fine(2, 99_999))
        assert [(line.rule, line.records) for line in outcome.lines] == [
            ("JS100-FINE-LARGE", (("PENALTY", 1),)),
            ("JS100-FINE", (("PENALTY", 2),)),
        ]

    def test_a_penalty_counts_under_its_first_rule_only(self) -> None:
        both = penalty(1, PenaltyCategory.WARNING, PenaltyCategory.FINE, fine=5_000)
        outcome = self.score(both)
        assert outcome.score == Decimal(95)
        assert [line.rule for line in outcome.lines] == ["JS100-FINE"]

    def test_facts_outside_the_year_do_not_count(self) -> None:
        outcome = self.score(
            fine(1, on=date(2024, 12, 31)),
            fine(2, on=date(2026, 1, 1)),
            finding(3, "HIDDEN_PIPE", on=date(2024, 12, 31)),
        )
        assert summary(outcome) == (Decimal(100), Grade.GREEN, None)

    def test_revoked_penalties_are_ignored(self) -> None:
        revoked = penalty(
            1, PenaltyCategory.ORDERED_SUSPENSION, status=PenaltyStatus.REVOKED
        )
        changed = penalty(2, PenaltyCategory.WARNING, status=PenaltyStatus.CHANGED)
        outcome = self.score(revoked, changed)
        assert outcome.score == Decimal(99)
        assert outcome.lines[0].records == (("PENALTY", 2),)

    def test_insurance_held_in_the_year_earns_the_bonus(self) -> None:
        outcome = self.score(
            *exceeds(1), insurance(7, date(2024, 7, 1), date(2025, 6, 30))
        )
        assert outcome.score == Decimal(97)
        assert outcome.lines[-1] == Line(
            "JS100-INSURANCE",
            "投保环境污染责任保险",
            Decimal(2),
            (("POLICY", 7),),
            "加分项: 1 × 2",
        )

    def test_the_score_never_exceeds_100(self) -> None:
        outcome = self.score(insurance(7, date(2025, 1, 1), date(2025, 12, 31)))
        assert outcome.score == Decimal(100)
        assert outcome.lines[0].note == "加分项: 1 × 2; score capped at 100"

    def test_the_score_never_falls_below_0(self) -> None:
        outcome = self.score(
            *[penalty(id, PenaltyCategory.ORDERED_CLOSURE) for id in (1, 2)],
            *[fine(id, 500_000) for id in (3, 4, 5)],
            *[fine(id) for id in (6, 7, 8, 9)],
            *exceeds(10, 11, 12, 13),
            emergency(14, EmergencyLevel.GENERAL),
        )
        assert summary(outcome) == (Decimal(0), Grade.BLACK, None)
        assert outcome.lines[0].note == "行政处罚: 2 × 20; score floored at 0"

    @pytest.mark.parametrize(
        ("fact", "veto"),
        [
            (finding(9, "HIDDEN_PIPE"), "JS100-VETO-HIDDEN-PIPE"),
            (finding(9, "NO_EIA"), "JS100-VETO-NO-EIA"),
            (finding(9, "FAKE_MONITORING"), "JS100-VETO-FAKE-MONITORING"),
            (court(9, criminal=True), "JS100-VETO-CRIME"),
            (emergency(9, EmergencyLevel.LARGER), "JS100-VETO-EMERGENCY"),
        ],
    )
    def test_a_veto_forces_black_whatever_the_score(
        self, fact: EventFact, veto: str
    ) -> None:
        outcome = self.score(fact, insurance(7, date(2025, 1, 1), date(2025, 12, 31)))
        assert outcome.score >= Decimal(98)
        assert (outcome.grade, outcome.veto) == (Grade.BLACK, veto)
        assert outcome.lines[-1].rule == veto
        assert outcome.lines[-1].records == (("EVENT", 9),)
        assert outcome.lines[-1].points == Decimal(0)

    def test_a_general_emergency_deducts_without_veto(self) -> None:
        outcome = self.score(emergency(9, EmergencyLevel.GENERAL))
        assert summary(outcome) == (Decimal(90), Grade.BLUE, None)


AS_OF = date(2026, 6, 15)
RECENT = date(2026, 3, 1)  # in force on AS_OF: 2026-03-16 to 2026-09-15


class TestDynamic:
    def score(self, *facts: Facts, as_of: date = AS_OF) -> Outcome:
        return evaluate(
            DYNAMIC, enterprise(*facts), period_start=date(2026, 1, 1), period_end=as_of
        )

    def test_full_marks(self) -> None:
        assert self.score() == Outcome(Decimal(12), Grade.GREEN, None, ())

    @pytest.mark.parametrize(
        ("facts", "score", "grade"),
        [
            ([warning(1, RECENT)], 11, Grade.GREEN),
            ([warning(1, RECENT), warning(2, RECENT)], 10, Grade.BLUE),
            ([fine(1, on=RECENT), fine(2, on=RECENT)], 6, Grade.BLUE),
            (
                [fine(1, on=RECENT), fine(2, on=RECENT), warning(3, RECENT)],
                5,
                Grade.YELLOW,
            ),
            ([fine(id, on=RECENT) for id in (1, 2, 3)], 3, Grade.YELLOW),
            (
                [*[fine(id, on=RECENT) for id in (1, 2, 3)], warning(4, RECENT)],
                2,
                Grade.RED,
            ),
            (
                [
                    *[fine(id, on=RECENT) for id in (1, 2, 3)],
                    warning(4, RECENT),
                    warning(5, RECENT),
                ],
                1,
                Grade.RED,
            ),
            (
                [
                    *[fine(id, on=RECENT) for id in (1, 2, 3)],
                    *[warning(id, RECENT) for id in (4, 5, 6)],
                ],
                0,
                Grade.BLACK,
            ),
            ([court(1, criminal=True, on=RECENT)], 0, Grade.BLACK),
            ([court(1, criminal=True, on=RECENT), warning(2, RECENT)], -1, Grade.BLACK),
        ],
    )
    def test_band_boundaries(
        self, facts: list[Facts], score: int, grade: Grade
    ) -> None:
        assert summary(self.score(*facts)) == (Decimal(score), grade, None)

    def test_each_deduction_is_a_line_with_its_validity(self) -> None:
        outcome = self.score(fine(4, on=RECENT), court(5, criminal=True, on=RECENT))
        assert outcome.lines == (
            Line(
                "JS12-CRIMINAL",
                "追究刑事责任",
                Decimal(-12),
                (("EVENT", 5),),
                "valid 2026-03-16 to 2027-03-15",
            ),
            Line(
                "JS12-FINE",
                "罚款",
                Decimal(-3),
                (("PENALTY", 4),),
                "valid 2026-03-16 to 2026-09-15",
            ),
        )

    @pytest.mark.parametrize(
        ("as_of", "score"),
        [
            (date(2026, 3, 1), 12),  # the day of the fine
            (date(2026, 3, 15), 12),  # validity starts 15 days after
            (date(2026, 3, 16), 9),
            (date(2026, 9, 14), 9),
            (date(2026, 9, 15), 9),  # the last day of six months
            (date(2026, 9, 16), 12),  # restored automatically
        ],
    )
    def test_a_six_month_deduction_starts_late_and_expires(
        self, as_of: date, score: int
    ) -> None:
        assert self.score(fine(1, on=RECENT), as_of=as_of).score == Decimal(score)

    @pytest.mark.parametrize(
        ("as_of", "score"), [(date(2026, 9, 14), 6), (date(2026, 9, 15), 12)]
    )
    def test_a_twelve_month_deduction(self, as_of: date, score: int) -> None:
        suspension = penalty(
            1, PenaltyCategory.ORDERED_SUSPENSION, on=date(2025, 8, 31)
        )
        assert self.score(suspension, as_of=as_of).score == Decimal(score)

    def test_six_months_from_the_31st_run_to_the_end_of_february(self) -> None:
        # 2025-08-16 + 15 days = 2025-08-31; February has no 31st.
        outcome = self.score(fine(1, on=date(2025, 8, 16)), as_of=date(2026, 2, 28))
        assert outcome.lines[0].note == "valid 2025-08-31 to 2026-02-28"
        assert (
            self.score(fine(1, on=date(2025, 8, 16)), as_of=date(2026, 3, 1)).score
            == 12
        )

    def test_the_heaviest_matching_rule_decides(self) -> None:
        both = penalty(
            1, PenaltyCategory.FINE, PenaltyCategory.ORDERED_SUSPENSION, on=RECENT
        )
        outcome = self.score(both)
        assert outcome.score == Decimal(6)
        assert [line.rule for line in outcome.lines] == ["JS12-SUSPENSION"]

    def test_emergencies_by_severity(self) -> None:
        outcome = self.score(
            emergency(1, EmergencyLevel.GENERAL, RECENT),
            emergency(2, EmergencyLevel.LARGER, RECENT),
        )
        assert [(line.rule, line.points) for line in outcome.lines] == [
            ("JS12-EMERGENCY-LARGER", Decimal(-6)),
            ("JS12-EMERGENCY-GENERAL", Decimal(-3)),
        ]
        assert (
            self.score(emergency(1, EmergencyLevel.MAJOR, RECENT)).grade is Grade.BLACK
        )

    def test_revoked_penalties_are_ignored(self) -> None:
        revoked = penalty(
            1, PenaltyCategory.FINE, on=RECENT, status=PenaltyStatus.REVOKED
        )
        assert self.score(revoked) == Outcome(Decimal(12), Grade.GREEN, None, ())

    def test_the_commitment_bonus_is_capped_at_12(self) -> None:
        outcome = self.score(commitment(8, date(2026, 1, 10), date(2026, 12, 31)))
        assert outcome == Outcome(
            Decimal(12),
            Grade.GREEN,
            None,
            (
                Line(
                    "JS12-COMMITMENT",
                    "签订环保信用承诺",
                    Decimal(1),
                    (("EVENT", 8),),
                    "valid 2026-01-10 to 2026-12-31; score capped at 12",
                ),
            ),
        )

    def test_the_commitment_bonus_lifts_a_deducted_score(self) -> None:
        outcome = self.score(warning(1, RECENT), commitment(8, date(2026, 1, 10)))
        assert summary(outcome) == (Decimal(12), Grade.GREEN, None)
        outcome = self.score(fine(1, on=RECENT), commitment(8, date(2026, 1, 10)))
        assert summary(outcome) == (Decimal(10), Grade.BLUE, None)
        assert outcome.lines[-1].note == "valid 2026-01-10 to 2027-01-09"

    def test_an_expired_commitment_earns_nothing(self) -> None:
        lapsed = commitment(8, date(2025, 1, 10), date(2026, 6, 14))
        assert self.score(fine(1, on=RECENT), lapsed).score == Decimal(9)

    def test_a_configured_start_score(self) -> None:
        newcomer = dataclasses.replace(DYNAMIC, start_score=Decimal(9))
        outcome = evaluate(newcomer, enterprise(), period_start=AS_OF, period_end=AS_OF)
        assert summary(outcome) == (Decimal(9), Grade.BLUE, None)


COVERED = insurance(20, date(2024, 12, 1), date(2025, 12, 31))
PLAN = plan(21)


class TestNational:
    def score(self, *facts: Facts) -> Outcome:
        return evaluate(NATIONAL, enterprise(*facts), **YEAR)

    def test_full_marks_with_a_plan_and_insurance(self) -> None:
        outcome = self.score(COVERED, PLAN)
        assert summary(outcome) == (Decimal(100), Grade.GREEN, None)
        assert len(outcome.lines) == 21
        assert sum(line.points for line in outcome.lines) == Decimal(100)

    @pytest.mark.parametrize(
        ("facts", "score", "grade"),
        [
            # exceeding once: N01 60 × 15 % (−6); no insurance: N15 60 × 10 % (−4)
            ([PLAN, *exceeds(1)], 90, Grade.GREEN),
            # no plan: N15 50 × 10 % (−5)
            ([COVERED, *exceeds(1)], 89, Grade.BLUE),
            # any penalty: N17 0 × 15 % (−15)
            ([PLAN, *exceeds(1), fine(2)], 75, Grade.BLUE),
            ([COVERED, *exceeds(1), fine(2)], 74, Grade.YELLOW),
            # three exceedances: N01 0 (−15); a general emergency: N15 40 (−6);
            # solid waste N02 60 × 5 % (−2); hazardous waste N03 60 × 5 % (−2)
            (
                [
                    COVERED,
                    PLAN,
                    *exceeds(1, 2, 3),
                    fine(4),
                    emergency(5, EmergencyLevel.GENERAL),
                    finding(6, "SOLID_WASTE_MISHANDLED"),
                    finding(7, "HAZARDOUS_WASTE_MISMANAGED"),
                ],
                60,
                Grade.YELLOW,
            ),
            # facilities not running: N11 40 × 5 % (−3)
            (
                [
                    COVERED,
                    PLAN,
                    *exceeds(1, 2, 3),
                    fine(4),
                    emergency(5, EmergencyLevel.GENERAL),
                    finding(6, "SOLID_WASTE_MISHANDLED"),
                    finding(7, "FACILITY_NOT_RUNNING"),
                ],
                59,
                Grade.RED,
            ),
        ],
    )
    def test_band_boundaries(
        self, facts: list[Facts], score: int, grade: Grade
    ) -> None:
        assert summary(self.score(*facts)) == (Decimal(score), grade, None)

    def test_indicator_lines_cite_their_records(self) -> None:
        lines = {line.rule: line for line in self.score(fine(7), *exceeds(8)).lines}
        assert lines["N17"] == Line(
            "N17",
            "行政处罚与行政命令",
            Decimal(0),
            (("PENALTY", 7),),
            "0 × 15%: N17-PENALTY 受到环境行政处罚",
        )
        assert lines["N01"] == Line(
            "N01",
            "大气及水污染物达标排放",
            Decimal(9),
            (("EVENT", 8),),
            "60 × 15%: N01-EXCEEDS 监督性监测发现超标排放",
        )
        # No plan and no insurance: the lower score, 50, decides.
        assert lines["N15"] == Line(
            "N15",
            "环境风险管理",
            Decimal(5),
            (),
            "50 × 10%: N15-NO-PLAN 未备案突发环境事件应急预案",
        )
        assert lines["N18"] == Line("N18", "群众投诉", Decimal(4), (), "100 × 4%")

    def test_insurance_must_cover_the_whole_year(self) -> None:
        partial = insurance(20, date(2025, 3, 1), date(2026, 2, 28))
        assert self.score(partial, PLAN).score == Decimal(96)

    def test_a_plan_filed_after_the_year_does_not_count(self) -> None:
        late = plan(21, filed_on=date(2026, 1, 5))
        assert self.score(COVERED, late).score == Decimal(95)

    def test_revoked_penalties_are_ignored(self) -> None:
        revoked = penalty(1, PenaltyCategory.FINE, status=PenaltyStatus.REVOKED)
        assert self.score(COVERED, PLAN, revoked).score == Decimal(100)

    @pytest.mark.parametrize(
        ("fact", "veto"),
        [
            (finding(9, "HIDDEN_PIPE"), "N-VETO-HIDDEN-PIPE"),
            (finding(9, "TOTAL_LOAD_EXCEEDED"), "N-VETO-TOTAL-LOAD"),
            (court(9, criminal=True), "N-VETO-CRIME"),
            (emergency(9, EmergencyLevel.ESPECIALLY_MAJOR), "N-VETO-EMERGENCY"),
        ],
    )
    def test_a_veto_forces_red_whatever_the_score(
        self, fact: EventFact, veto: str
    ) -> None:
        outcome = self.score(COVERED, PLAN, fact)
        assert summary(outcome) == (Decimal(100), Grade.RED, veto)
        assert outcome.lines[-1] == Line(
            veto,
            outcome.lines[-1].label,
            Decimal(0),
            (("EVENT", 9),),
            "veto: RED whatever the score",
        )


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="is after"):
        evaluate(
            ANNUAL,
            enterprise(),
            period_start=date(2025, 2, 1),
            period_end=date(2025, 1, 1),
        )
