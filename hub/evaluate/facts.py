"""What an evaluation knows of one enterprise: the recorded facts, as plain data.

resolvers/ loads them for every listed enterprise with a few set-based
queries; hub/evaluate/scoring.py turns them into a score, a grade and an
explanation without touching the database.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.enums import (
    EmergencyLevel,
    EnterpriseStatus,
    EventKind,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    RiskLevel,
    SupervisionCategory,
)


@dataclass(frozen=True, slots=True)
class PenaltyFact:
    id: int
    decision_date: date
    categories: tuple[PenaltyCategory, ...]
    fine_amount: Decimal  # yuan
    violation_type: str
    status: PenaltyStatus  # REVOKED penalties never count


@dataclass(frozen=True, slots=True)
class EventFact:
    id: int
    kind: EventKind
    occurred_on: date
    severity: EmergencyLevel | None = None  # emergencies
    criminal: bool | None = None  # court rulings
    violation_code: str | None = None  # e.g. HIDDEN_PIPE, NO_EIA, FAKE_MONITORING
    valid_until: date | None = None  # credit commitments


@dataclass(frozen=True, slots=True)
class PolicyFact:
    id: int
    start_date: date
    end_date: date
    status: PolicyStatus


@dataclass(frozen=True, slots=True)
class RiskFact:
    id: int
    overall_level: RiskLevel
    assessed_on: date
    plan_filed_on: date | None


@dataclass(slots=True)
class EnterpriseFacts:
    """Every fact of one enterprise that any scheme may use (all dates, not
    only the period: each rule picks what falls in its window)."""

    enterprise_id: int
    code: str
    status: EnterpriseStatus
    supervision: SupervisionCategory
    penalties: list[PenaltyFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)
    policies: list[PolicyFact] = field(default_factory=list)
    risks: list[RiskFact] = field(default_factory=list)
