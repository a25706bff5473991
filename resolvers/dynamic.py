"""Dynamic management (动态管理): grades follow serious events at once.

Called in the transaction that records penalties or events. Under an annual
scheme a veto event drops the grade in force to the scheme's lowest grade,
and an ordered suspension or closure one level; under the dynamic scheme the
score is recomputed and the grade follows it. Each change is a new FINAL
decision that supersedes the one in force (basis DOWNGRADE or DYNAMIC),
citing the triggering record; `hub evaluate dynamic` recomputes the dynamic
scores daily, as deductions expire.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import (
    Dataset,
    Grade,
    PenaltyCategory,
    RatingBasis,
    RatingStatus,
    Scheme,
)
from hub.evaluate.facts import EnterpriseFacts
from hub.evaluate.loading import Policies
from hub.evaluate.matching import select as matching
from hub.evaluate.policy import Kind, SchemePolicy, policy_for
from hub.evaluate.scoring import Outcome, evaluate
from hub.models import CreditRating, EnvironmentalEvent, PenaltyDecision
from resolvers.access import PUBLISHED_RATING_STATUSES
from resolvers.evaluation import explanation
from resolvers.facts import IN_LIST_LIMIT, load_facts
from resolvers.transitions import Actor, transition

ORDER = (Grade.GREEN, Grade.BLUE, Grade.YELLOW, Grade.RED, Grade.BLACK)
# Penalties that drop an annual grade one level even without a veto.
ONE_LEVEL = frozenset(
    {
        PenaltyCategory.ORDERED_SUSPENSION,
        PenaltyCategory.ORDERED_CLOSURE,
        PenaltyCategory.ADMINISTRATIVE_DETENTION,
    }
)
# How far back facts can still count (the longest deduction, and a margin).
LOOKBACK = timedelta(days=800)


@dataclass(frozen=True, slots=True)
class Change:
    enterprise_id: int
    scheme: Scheme
    old: Grade
    new: Grade
    rating_id: int


async def manage(
    session: AsyncSession,
    *,
    policies: Policies,
    enterprise_ids: Iterable[int],
    new_records: set[tuple[str, int]],
    actor: Actor,
    now: datetime,
    today: date,
) -> list[Change]:
    """Apply dynamic management to these enterprises after `new_records`
    (("PENALTY", id), ("EVENT", id)) were recorded."""
    ids = sorted(set(enterprise_ids))
    if not ids or not policies:
        return []
    facts = await load_facts(session, ids, since=today - LOOKBACK)
    plans: list[_Plan] = []
    for scheme, versions in policies.items():
        policy = policy_for({scheme: versions}, scheme, today)
        for rating in await _in_force(session, scheme, ids, today):
            owner = facts[rating.enterprise_id]
            outcome: Outcome | None = None
            if policy.kind is Kind.DYNAMIC_SCORE:
                outcome = evaluate(policy, owner, period_start=today, period_end=today)
                target, why, basis = (
                    outcome.grade,
                    f"动态记分 {outcome.score}",
                    RatingBasis.DYNAMIC,
                )
                if target == rating.grade:
                    continue
            else:
                forced, why = _annual_target(
                    policy, owner, rating.grade, new_records, today
                )
                if forced is None or ORDER.index(forced) <= ORDER.index(rating.grade):
                    continue
                target, basis = forced, RatingBasis.DOWNGRADE
            plans.append(_Plan(rating, target, basis, why, outcome))
    return await supersede(session, plans, actor=actor, now=now, today=today)


@dataclass(frozen=True, slots=True)
class _Plan:
    old: CreditRating
    grade: Grade
    basis: RatingBasis
    reason: str
    outcome: Outcome | None


def _annual_target(
    policy: SchemePolicy,
    facts: EnterpriseFacts,
    current: Grade,
    new_records: set[tuple[str, int]],
    today: date,
) -> tuple[Grade | None, str]:
    """The grade a new record forces under an annual scheme, and why."""
    for rule in policy.vetoes:
        for hit in matching(rule.match, facts, date.min, today):
            if hit.record in new_records and policy.veto_grade is not None:
                kind, id_ = hit.record
                return (
                    policy.veto_grade,
                    f"一票否决 {rule.code} {rule.label} ({kind}:{id_})",
                )
    for penalty in facts.penalties:
        if ("PENALTY", penalty.id) in new_records and ONE_LEVEL & set(
            penalty.categories
        ):
            lowered = ORDER[min(ORDER.index(current) + 1, len(ORDER) - 1)]
            if lowered not in policy_grades(policy):
                lowered = current
            return lowered, f"降一级: 责令停产/关闭 (PENALTY:{penalty.id})"
    return None, ""


def policy_grades(policy: SchemePolicy) -> set[Grade]:
    return {band.grade for band in policy.bands}


async def _in_force(
    session: AsyncSession, scheme: Scheme, ids: list[int], today: date
) -> list[CreditRating]:
    """The published decision in force today per enterprise (the latest
    to take effect wins)."""
    stmt = select(CreditRating)
    if len(ids) <= IN_LIST_LIMIT:  # else the whole scheme, filtered here
        stmt = stmt.where(CreditRating.enterprise_id.in_(ids))
    wanted = set(ids)
    rows = (
        await session.scalars(
            stmt.where(
                CreditRating.scheme == scheme,
                CreditRating.status.in_(PUBLISHED_RATING_STATUSES),
                CreditRating.valid_from <= today,
                (CreditRating.valid_to.is_(None)) | (CreditRating.valid_to >= today),
            ).order_by(CreditRating.valid_from.desc(), CreditRating.id.desc())
        )
    ).all()
    seen: dict[int, CreditRating] = {}
    for rating in rows:
        if rating.enterprise_id in wanted:
            seen.setdefault(rating.enterprise_id, rating)
    return list(seen.values())


async def supersede(
    session: AsyncSession,
    plans: list[_Plan],
    *,
    actor: Actor,
    now: datetime,
    today: date,
) -> list[Change]:
    """New FINAL decisions from today that replace the old ones (kept, cut
    short); inserted together, one flush, however many grades move."""
    made = [
        CreditRating(
            enterprise_id=p.old.enterprise_id,
            scheme=p.old.scheme,
            year=p.old.year,
            grade=p.grade,
            score=p.outcome.score if p.outcome else p.old.score,
            status=RatingStatus.FINAL,
            reason=p.reason,
            decided_by=p.old.decided_by,
            decided_at=now,
            valid_from=today,
            valid_to=None,
            basis=p.basis,
            explanation=explanation(p.outcome) if p.outcome else p.old.explanation,
            veto=p.outcome.veto if p.outcome else None,
            published_at=now,
            supersedes_id=p.old.id,
        )
        for p in plans
    ]
    session.add_all(made)
    await session.flush()
    changes = []
    for p, new in zip(plans, made, strict=True):
        old = p.old
        transition(
            session,
            new,
            to_status=RatingStatus.FINAL,
            actor=actor,
            now=now,
            reason=p.reason,
            initial=True,
        )
        old.valid_to = max(today - timedelta(days=1), old.valid_from)
        transition(
            session,
            old,
            to_status=old.status,
            actor=actor,
            now=now,
            reason=f"superseded by rating {new.id} ({p.basis.value}): {p.reason}",
        )
        changes.append(
            Change(old.enterprise_id, old.scheme, old.grade, p.grade, new.id)
        )
    return changes


async def after_batch(
    session: AsyncSession,
    *,
    dataset: Dataset,
    batch_id: int,
    policies: Policies,
    actor: Actor,
    now: datetime,
    today: date,
) -> list[Change]:
    """Dynamic management for the penalties or events a batch wrote."""
    if dataset not in _RECORDS:
        return []
    model, kind = _RECORDS[dataset]
    rows = (
        await session.execute(
            select(model.id, model.enterprise_id).where(model.batch_id == batch_id)
        )
    ).all()
    return await manage(
        session,
        policies=policies,
        enterprise_ids={owner for _, owner in rows},
        new_records={(kind, id_) for id_, _ in rows},
        actor=actor,
        now=now,
        today=today,
    )


_RECORDS: dict[
    Dataset, tuple[type[PenaltyDecision] | type[EnvironmentalEvent], str]
] = {
    Dataset.PENALTIES: (PenaltyDecision, "PENALTY"),
    Dataset.EVENTS: (EnvironmentalEvent, "EVENT"),
}


async def recompute(
    session: AsyncSession,
    *,
    policies: Policies,
    actor: Actor,
    now: datetime,
    today: date,
) -> list[Change]:
    """Every dynamic-scheme grade in force, recomputed as of `today`: points of
    expired deductions come back (run daily, `hub evaluate dynamic`)."""
    dynamic = {
        scheme: versions
        for scheme, versions in policies.items()
        if policy_for({scheme: versions}, scheme, today).kind is Kind.DYNAMIC_SCORE
    }
    ids = await session.scalars(
        select(CreditRating.enterprise_id)
        .where(
            CreditRating.scheme.in_(list(dynamic)),
            CreditRating.status.in_(PUBLISHED_RATING_STATUSES),
        )
        .distinct()
    )
    return await manage(
        session,
        policies=dynamic,
        enterprise_ids=list(ids),
        new_records=set(),
        actor=actor,
        now=now,
        today=today,
    )
