"""Credit repair rules (信用修复条件): the first rule that refuses a repair, if any."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.enums import (
    EventKind,
    Grade,
    PenaltyStatus,
    RepairStatus,
    Scheme,
    scheme_grades,
)
from hub.models import (
    CreditRating,
    EnvironmentalEvent,
    PenaltyDecision,
    RepairApplication,
)
from resolvers.access import PUBLISHED_RATING_STATUSES
from resolvers.context import cst_date

REPAIRABLE_GRADES = frozenset({Grade.YELLOW, Grade.RED, Grade.BLACK})
FAKE_MONITORING = "FAKE_MONITORING"  # EnvironmentalEvent.violation_code
CLOSED_STATUSES = (RepairStatus.DONE, RepairStatus.REFUSED)


class RepairRule(StrEnum):
    """Why a repair was refused (refusal_rule)."""

    NOT_REPAIRABLE_GRADE = "NOT_REPAIRABLE_GRADE"
    RATING_CHANGED = "RATING_CHANGED"
    ALREADY_APPLIED = "ALREADY_APPLIED"
    PENALTY_STILL_PUBLISHED = "PENALTY_STILL_PUBLISHED"
    FALSIFIED_DATA = "FALSIFIED_DATA"
    REPEAT_VIOLATION = "REPEAT_VIOLATION"
    DISTRICT_DISAGREED = "DISTRICT_DISAGREED"
    CITY_REFUSED = "CITY_REFUSED"


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: RepairRule
    reason: str


def raised_grade(grade: Grade, *, scheme: Scheme, levels: int) -> Grade:
    """`grade` raised `levels` steps towards GREEN (the national scheme has no BLACK)."""
    ladder = list(scheme_grades(scheme))
    position = ladder.index(grade) if grade in ladder else len(ladder) - 1
    return ladder[max(0, position - levels)]


async def rating_in_force(
    db: AsyncSession, *, enterprise_id: int, scheme: Scheme, on: date
) -> CreditRating | None:
    """The published decision covering `on`; of overlapping ones, the latest to take effect."""
    stmt = (
        select(CreditRating)
        .where(
            CreditRating.enterprise_id == enterprise_id,
            CreditRating.scheme == scheme,
            CreditRating.status.in_(PUBLISHED_RATING_STATUSES),
            CreditRating.valid_from <= on,
            or_(CreditRating.valid_to.is_(None), CreditRating.valid_to >= on),
        )
        .order_by(CreditRating.valid_from.desc(), CreditRating.id.desc())
        .limit(1)
    )
    return await db.scalar(stmt)


async def recheck(
    db: AsyncSession, application: RepairApplication, *, today: date, settings: Settings
) -> Refusal | None:
    """The rules again, for the grade applied for, which must still be in force."""
    applied = await db.get_one(CreditRating, application.rating_id)
    in_force = await rating_in_force(
        db, enterprise_id=applied.enterprise_id, scheme=applied.scheme, on=today
    )
    if in_force is None or in_force.id != applied.id:
        return Refusal(
            RepairRule.RATING_CHANGED,
            f"decision {applied.id} ({applied.grade.value}) applied for is no longer "
            "the grade in force; apply again for the grade in force",
        )
    return await first_refusal(
        db, applied, today=today, settings=settings, application_id=application.id
    )


async def first_refusal(
    db: AsyncSession,
    rating: CreditRating,
    *,
    today: date,
    settings: Settings,
    application_id: int | None = None,
) -> Refusal | None:
    """The first rule `rating` (the grade in force today) fails, in a fixed order.

    Checked on applying, before the city's public notice and after it: a
    penalty or a violation recorded meanwhile refuses the repair.

    `application_id`: the application being re-checked, which does not count
    as another open application.
    """
    if rating.grade not in REPAIRABLE_GRADES:
        return Refusal(
            RepairRule.NOT_REPAIRABLE_GRADE,
            f"the grade in force is {rating.grade.value}; only YELLOW, RED and "
            "BLACK grades can be repaired",
        )
    owner = rating.enterprise_id
    return (
        await _already_applied(db, owner, application_id)
        or await _penalty_published(db, owner, today)
        or await _falsified(db, owner, today, settings.repair_falsification_days)
        or await _repeat_violation(db, rating)
    )


async def _already_applied(
    db: AsyncSession, enterprise_id: int, application_id: int | None
) -> Refusal | None:
    stmt = select(RepairApplication.id, RepairApplication.status).where(
        RepairApplication.enterprise_id == enterprise_id,
        RepairApplication.status.not_in(CLOSED_STATUSES),
    )
    if application_id is not None:
        stmt = stmt.where(RepairApplication.id != application_id)
    row = (await db.execute(stmt.limit(1))).first()
    if row is None:
        return None
    return Refusal(
        RepairRule.ALREADY_APPLIED,
        f"repair application {row.id} of this enterprise is still open "
        f"({row.status.value})",
    )


async def _penalty_published(
    db: AsyncSession, enterprise_id: int, today: date
) -> Refusal | None:
    stmt = (
        select(PenaltyDecision.decision_number, PenaltyDecision.publication_end_date)
        .where(
            PenaltyDecision.enterprise_id == enterprise_id,
            PenaltyDecision.status != PenaltyStatus.REVOKED,
            PenaltyDecision.publication_end_date >= today,
        )
        .order_by(
            PenaltyDecision.publication_end_date.desc(), PenaltyDecision.id.desc()
        )
        .limit(1)
    )
    row = (await db.execute(stmt)).first()
    if row is None:
        return None
    return Refusal(
        RepairRule.PENALTY_STILL_PUBLISHED,
        f"penalty decision {row.decision_number} is published until "
        f"{row.publication_end_date.isoformat()} (公示期); no repair before its "
        "publication ends",
    )


async def _falsified(
    db: AsyncSession, enterprise_id: int, today: date, days: int
) -> Refusal | None:
    stmt = (
        select(EnvironmentalEvent.reference, EnvironmentalEvent.occurred_on)
        .where(
            EnvironmentalEvent.enterprise_id == enterprise_id,
            EnvironmentalEvent.violation_code == FAKE_MONITORING,
            EnvironmentalEvent.occurred_on > today - timedelta(days=days),
        )
        .order_by(EnvironmentalEvent.occurred_on.desc())
        .limit(1)
    )
    row = (await db.execute(stmt)).first()
    if row is None:
        return None
    allowed = row.occurred_on + timedelta(days=days)
    return Refusal(
        RepairRule.FALSIFIED_DATA,
        f"falsified monitoring data ({row.reference}) on "
        f"{row.occurred_on.isoformat()}; no repair within {days} days, "
        f"i.e. before {allowed.isoformat()}",
    )


async def _repeat_violation(db: AsyncSession, rating: CreditRating) -> Refusal | None:
    decided = cst_date(rating.decided_at)
    penalty = (
        await db.execute(
            select(PenaltyDecision.decision_number, PenaltyDecision.decision_date)
            .where(
                PenaltyDecision.enterprise_id == rating.enterprise_id,
                PenaltyDecision.status != PenaltyStatus.REVOKED,
                PenaltyDecision.decision_date > decided,
            )
            .order_by(PenaltyDecision.decision_date, PenaltyDecision.id)
            .limit(1)
        )
    ).first()
    if penalty is not None:
        return _repeat(
            f"penalty decision {penalty.decision_number}",
            penalty.decision_date,
            decided,
        )
    event = (
        await db.execute(
            select(EnvironmentalEvent.reference, EnvironmentalEvent.occurred_on)
            .where(
                EnvironmentalEvent.enterprise_id == rating.enterprise_id,
                EnvironmentalEvent.kind != EventKind.CREDIT_COMMITMENT,
                EnvironmentalEvent.occurred_on > decided,
            )
            .order_by(EnvironmentalEvent.occurred_on, EnvironmentalEvent.id)
            .limit(1)
        )
    ).first()
    if event is not None:
        return _repeat(f"event {event.reference}", event.occurred_on, decided)
    return None


def _repeat(what: str, on: date, decided: date) -> Refusal:
    return Refusal(
        RepairRule.REPEAT_VIOLATION,
        f"{what} on {on.isoformat()}, after the grade was decided on "
        f"{decided.isoformat()}: a repeat violation",
    )
