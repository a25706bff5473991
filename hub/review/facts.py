"""What a credit review knows of one enterprise on one day, as plain data.

resolvers/review.py reads it through the caller's row rules;
hub/review/decide.py turns it into a decision without touching the database.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub.enums import (
    EventKind,
    Grade,
    PenaltyCategory,
    RecordType,
    RepairStatus,
    RiskLevel,
    Scheme,
)

OPEN_REPAIR_STATUSES = frozenset(
    {RepairStatus.APPLIED, RepairStatus.DISTRICT_AGREED, RepairStatus.IN_PUBLIC_NOTICE}
)


@dataclass(frozen=True, slots=True)
class Citation:
    """The record behind a reason: its type and id."""

    type: RecordType
    id: str


@dataclass(frozen=True, slots=True)
class GradeFact:
    rating_id: int
    scheme: Scheme
    grade: Grade
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class PublishedPenalty:
    """A penalty decision inside its publication window on the review date."""

    id: int
    decision_number: str
    decision_date: date
    categories: tuple[PenaltyCategory, ...]
    fine_amount: Decimal
    publication_end_date: date


@dataclass(frozen=True, slots=True)
class VetoEvent:
    """An event a scheme's one-vote veto rule (一票否决) selects."""

    id: int
    kind: EventKind
    occurred_on: date
    rule_code: str
    rule_label: str


@dataclass(frozen=True, slots=True)
class RiskOnFile:
    """The latest HJ 941 assessment made by the review date."""

    id: int
    level: RiskLevel
    assessed_on: date
    plan_filed_on: date | None

    @property
    def plan_filed(self) -> bool:
        return self.plan_filed_on is not None


@dataclass(frozen=True, slots=True)
class OpenRepair:
    id: int
    status: RepairStatus
    applied_on: date


@dataclass(frozen=True, slots=True)
class ReviewFacts:
    """Everything a decision rule may test, for one enterprise on `as_of`."""

    code: str
    as_of: date
    grade: GradeFact | None
    penalties: tuple[PublishedPenalty, ...] = ()
    vetoes: tuple[VetoEvent, ...] = ()
    risk: RiskOnFile | None = None
    compulsory_insurance: bool = False  # on the compulsory list for as_of's year
    policy_in_force: int | None = None  # id of the policy covering as_of
    open_repair: OpenRepair | None = None

    @property
    def insurance_missing(self) -> bool:
        return self.compulsory_insurance and self.policy_in_force is None

    def grade_citation(self) -> tuple[Citation, ...]:
        if self.grade is None:
            return ()
        return (Citation(RecordType.CREDIT_RATING, str(self.grade.rating_id)),)
