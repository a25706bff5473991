"""Change-feed events for collected records: penalties, risk, insurance."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import Dataset, FeedDataset, PenaltyStatus, PolicyStatus
from hub.models import InsurancePolicy, PenaltyDecision, RiskAssessment
from resolvers.feed import NewEvent, queue

FEEDS = {
    Dataset.PENALTIES: FeedDataset.PENALTY,
    Dataset.RISK: FeedDataset.RISK,
    Dataset.INSURANCE: FeedDataset.INSURANCE,
}


async def queue_batch_events(
    session: AsyncSession,
    dataset: Dataset,
    *,
    batch_id: int,
    updated: set[int],
    now: datetime,
) -> None:
    """One event per record the batch created or changed."""
    feed = FEEDS.get(dataset)
    if feed is None:
        return
    events = []
    # Plain rows, not ORM objects: a batch can be a 100,000-row file.
    if dataset is Dataset.PENALTIES:
        p = PenaltyDecision
        for row in await session.execute(
            select(
                p.id,
                p.enterprise_id,
                p.decision_number,
                p.categories,
                p.decision_date,
                p.authority_name,
                p.status,
                p.publication_end_date,
            ).where(p.batch_id == batch_id)
        ):
            kind = (
                "REVOKED"
                if row.status is PenaltyStatus.REVOKED
                else "CHANGED"
                if row.id in updated
                else "PUBLISHED"
            )
            payload = {
                "decisionNumber": row.decision_number,
                "categories": row.categories,
                "decisionDate": row.decision_date.isoformat(),
                "authority": row.authority_name,
                "status": row.status.value,
                "publicationEndDate": row.publication_end_date.isoformat(),
            }
            events.append(_event(feed, kind, row.enterprise_id, row.id, payload, now))
    elif dataset is Dataset.INSURANCE:
        i = InsurancePolicy
        for policy in await session.execute(
            select(
                i.id,
                i.enterprise_id,
                i.policy_number,
                i.insurer_name,
                i.start_date,
                i.end_date,
                i.status,
            ).where(i.batch_id == batch_id)
        ):
            kind = "ENROLLED" if policy.status is PolicyStatus.ACTIVE else "LAPSED"
            payload = {
                "policyNumber": policy.policy_number,
                "insurer": policy.insurer_name,
                "startDate": policy.start_date.isoformat(),
                "endDate": policy.end_date.isoformat(),
                "status": policy.status.value,
            }
            events.append(
                _event(feed, kind, policy.enterprise_id, policy.id, payload, now)
            )
    else:
        events += await _risk_events(session, feed, batch_id, now)
    queue(session, events)


def _event(
    feed: FeedDataset,
    kind: str,
    owner: int,
    record: int,
    payload: dict[str, Any],
    now: datetime,
) -> NewEvent:
    return NewEvent(feed, kind, owner, record, payload, now)


async def _risk_events(
    session: AsyncSession, feed: FeedDataset, batch_id: int, now: datetime
) -> list[NewEvent]:
    """LEVEL_CHANGED when an assessment's level differs from the enterprise's
    assessment before it (or is its first); LEVEL_ASSESSED when it confirms it."""
    r = RiskAssessment
    owners = select(r.enterprise_id).where(r.batch_id == batch_id).scalar_subquery()
    history: dict[int, list[Any]] = {}
    for row in await session.execute(
        select(r.id, r.enterprise_id, r.overall_level, r.assessed_on, r.batch_id)
        .where(r.enterprise_id.in_(owners))
        .order_by(r.enterprise_id, r.assessed_on, r.id)
    ):
        history.setdefault(row.enterprise_id, []).append(row)
    events = []
    for rows in history.values():
        for before, risk in zip([None, *rows[:-1]], rows, strict=True):
            if risk.batch_id != batch_id:
                continue
            previous = None if before is None else before.overall_level
            kind = (
                "LEVEL_ASSESSED" if previous is risk.overall_level else "LEVEL_CHANGED"
            )
            payload = {
                "level": risk.overall_level.value,
                "previousLevel": None if previous is None else previous.value,
                "assessedOn": risk.assessed_on.isoformat(),
            }
            events.append(_event(feed, kind, risk.enterprise_id, risk.id, payload, now))
    return events
