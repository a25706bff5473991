"""A decision rule's `when` table: which fact of a review it tests, and the test."""

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from hub.enums import Grade, PenaltyCategory, RecordType, RiskLevel
from hub.evaluate.policy_source import Table
from hub.review.facts import Citation, ReviewFacts


class Fact(Enum):
    GRADE = "grade"  # the grade in force is one of `grades`
    UNRATED = "unrated"  # no grade in force
    PENALTY = "penalty"  # penalties inside their publication window
    VETO_EVENT = "veto_event"  # events a scheme's veto rules select
    RISK = "risk"  # the latest HJ 941 assessment
    INSURANCE_MISSING = "insurance_missing"  # compulsory 环责险 not in force
    REPAIR_OPEN = "repair_open"  # a repair application not yet decided


# The keys each fact understands besides `fact`; any other key is refused.
_KEYS: dict[Fact, tuple[str, ...]] = {
    Fact.GRADE: ("grades",),
    Fact.UNRATED: (),
    Fact.PENALTY: ("categories", "fine_at_least", "min_count"),
    Fact.VETO_EVENT: (),
    Fact.RISK: ("risk_levels", "plan_filed"),
    Fact.INSURANCE_MISSING: (),
    Fact.REPAIR_OPEN: (),
}


@dataclass(frozen=True, slots=True)
class When:
    """A conjunction of tests on one fact; an empty set or None means "any"."""

    fact: Fact
    grades: frozenset[Grade] = frozenset()
    categories: frozenset[PenaltyCategory] = frozenset()
    fine_at_least: Decimal | None = None  # yuan, inclusive
    min_count: int = 1
    risk_levels: frozenset[RiskLevel] = frozenset()
    plan_filed: bool | None = None


def read_when(table: Table) -> When:
    fact = table.choice("fact", Fact)
    table.allow(("fact", *_KEYS[fact]))
    fine = table.number("fine_at_least") if table.has("fine_at_least") else None
    if fine is not None and fine < 0:
        raise table.error("fine_at_least", "fine_at_least must not be negative")
    min_count = table.integer("min_count") if table.has("min_count") else 1
    if min_count < 1:
        raise table.error("min_count", "min_count must be at least 1")
    return When(
        fact=fact,
        grades=table.choices("grades", Grade) if table.has("grades") else frozenset(),
        categories=(
            table.choices("categories", PenaltyCategory)
            if table.has("categories")
            else frozenset()
        ),
        fine_at_least=fine,
        min_count=min_count,
        risk_levels=(
            table.choices("risk_levels", RiskLevel)
            if table.has("risk_levels")
            else frozenset()
        ),
        plan_filed=table.flag("plan_filed") if table.has("plan_filed") else None,
    )


def holds(when: When, facts: ReviewFacts) -> tuple[Citation, ...] | None:
    """The records that make `when` hold, or None when it does not.

    An empty tuple holds without a record to cite (no grade in force).
    """
    grade = facts.grade
    if when.fact is Fact.UNRATED:
        return () if grade is None else None
    if when.fact is Fact.GRADE:
        if grade is None or (when.grades and grade.grade not in when.grades):
            return None
        return facts.grade_citation()
    if when.fact is Fact.PENALTY:
        hits = [
            Citation(RecordType.PENALTY_DECISION, str(p.id))
            for p in facts.penalties
            if (not when.categories or not when.categories.isdisjoint(p.categories))
            and (when.fine_at_least is None or p.fine_amount >= when.fine_at_least)
        ]
        return tuple(hits) if len(hits) >= when.min_count else None
    if when.fact is Fact.VETO_EVENT:
        ids = sorted({v.id for v in facts.vetoes})
        cited = tuple(Citation(RecordType.ENVIRONMENTAL_EVENT, str(i)) for i in ids)
        return cited or None
    if when.fact is Fact.RISK:
        risk = facts.risk
        if (
            risk is None
            or (when.risk_levels and risk.level not in when.risk_levels)
            or (when.plan_filed is not None and risk.plan_filed is not when.plan_filed)
        ):
            return None
        return (Citation(RecordType.RISK_ASSESSMENT, str(risk.id)),)
    if when.fact is Fact.INSURANCE_MISSING:
        if not facts.insurance_missing:
            return None
        listing = f"{facts.code}/{facts.as_of.year}"
        return (Citation(RecordType.COMPULSORY_INSURANCE, listing),)
    repair = facts.open_repair
    if repair is None:
        return None
    return (Citation(RecordType.REPAIR_APPLICATION, str(repair.id)),)
