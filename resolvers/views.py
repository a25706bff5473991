"""Plain read models handed to the schema layer.

Built straight from SQL rows (no ORM identity map: loading thousands of nested
rows as ORM objects costs several times more). The schema serves their
attributes as plain fields; nested datasets are attached once per selection.
"""

import weakref
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy import Column, Table

from hub.enums import (
    EClass,
    EnterpriseStatus,
    Grade,
    MClass,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    QClass,
    RatingStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)

# A dataset row's enterprise (RatingView, PenaltyView, RiskView): the view
# itself when the row is served alone (a page of ratings holds its
# enterprises only through them), a weak reference when the enterprise holds
# the row in its own lists (resolvers.graph): a strong one there made a cycle
# of every enterprise with its rows, so that each answer was freed only by
# the garbage collector, a batch of 1,000 several megabytes at a time.
Owner: TypeAlias = "EnterpriseView | weakref.ref[EnterpriseView] | None"


class OwnedRow:
    """A dataset row's `enterprise`, read through its `owner` (see Owner).

    Each row type declares `owner` as its last dataclass field."""

    __slots__ = ()
    owner: Owner

    @property
    def enterprise(self) -> "EnterpriseView | None":
        owner = self.owner
        return owner() if isinstance(owner, weakref.ref) else owner

    @enterprise.setter
    def enterprise(self, value: "EnterpriseView | None") -> None:
        # The slot is the row type's own (its dataclass field), not this class's.
        self.owner = value  # type: ignore[misc]

    def held_by(self, owner: "EnterpriseView") -> None:
        """`owner` holds this row in its own lists: refer back weakly."""
        self.owner = weakref.ref(owner)  # type: ignore[misc]


@dataclass(slots=True)
class DistrictView:
    code: str
    name: str
    name_en: str


@dataclass(slots=True)
class RatingView(OwnedRow):
    id: int
    enterprise_id: int
    scheme: Scheme
    year: int | None
    grade: Grade
    score: Decimal | None
    status: RatingStatus
    reason: str | None
    decided_by: str
    decided_at: datetime
    valid_from: date
    valid_to: date | None
    notice_until: date | None
    owner: "Owner" = None  # OwnedRow


@dataclass(slots=True)
class PenaltyView(OwnedRow):
    id: int
    enterprise_id: int
    decision_number: str
    categories: list[PenaltyCategory]
    violation_type: str
    facts: str
    legal_basis: str
    content: str | None
    fine_amount: Decimal
    confiscation_amount: Decimal
    decision_date: date
    authority_name: str
    authority_code: str
    publication_end_date: date
    status: PenaltyStatus
    owner: "Owner" = None  # OwnedRow


@dataclass(slots=True)
class MediumRiskView:
    """Risk of one medium (air or water): level and its Q/M/E classes."""

    level: RiskLevel
    q: QClass | None
    m: MClass | None
    e: EClass | None


@dataclass(slots=True)
class RiskView(OwnedRow):
    id: int
    enterprise_id: int
    overall_level: RiskLevel
    air_level: RiskLevel | None
    air_q: QClass | None
    air_m: MClass | None
    air_e: EClass | None
    water_level: RiskLevel | None
    water_q: QClass | None
    water_m: MClass | None
    water_e: EClass | None
    level_string: str
    assessed_on: date
    plan_filing_number: str | None
    plan_filed_on: date | None
    filing_authority: str | None
    owner: "Owner" = None  # OwnedRow

    @property
    def air(self) -> MediumRiskView | None:
        if self.air_level is None:
            return None
        return MediumRiskView(self.air_level, self.air_q, self.air_m, self.air_e)

    @property
    def water(self) -> MediumRiskView | None:
        if self.water_level is None:
            return None
        return MediumRiskView(
            self.water_level, self.water_q, self.water_m, self.water_e
        )


@dataclass(slots=True)
class PolicyView:
    id: int
    enterprise_id: int
    insurer_name: str
    insurer_code: str
    policy_number: str
    start_date: date
    end_date: date
    cumulative_limit: Decimal
    per_accident_limit: Decimal
    premium: Decimal
    status: PolicyStatus


@dataclass(slots=True, weakref_slot=True)
class EnterpriseView:
    id: int
    code: str
    name: str
    district: DistrictView
    address: str
    industry: str
    supervision_category: SupervisionCategory
    legal_representative: str | None
    status: EnterpriseStatus
    # Attached by resolvers.graph for the datasets the selection asks for.
    ratings: list[RatingView] = field(default_factory=list)
    penalties: list[PenaltyView] = field(default_factory=list)
    risks: list[RiskView] = field(default_factory=list)
    policies: list[PolicyView] = field(default_factory=list)
    compulsory_years: list[int] = field(default_factory=list)


@dataclass(slots=True)
class EnrollmentView:
    """One enterprise's insurance position in one year."""

    year: int
    compulsory: bool
    policies: list[PolicyView]
    enterprise: EnterpriseView

    @property
    def insured(self) -> bool:
        return bool(self.policies)


def columns_for(view: type[Any], table: Table) -> list[Column[Any]]:
    """The table columns matching the view's leading fields, in field order."""
    return [table.c[f.name] for f in fields(view) if f.name in table.c]
