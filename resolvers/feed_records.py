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
    if dataset is Dataset.PENALTIES:
        for p in await session.scalars(
            select(PenaltyDecision).where(PenaltyDecision.batch_id == batch_id)
        ):
            kind = (
                "REVOKED"
                if p.status is PenaltyStatus.REVOKED
                else "CHANGED"
                if p.id in updated
                else "PUBLISHED"
            )
            events.append(_event(feed, kind, p.enterprise_id, p.id, _penalty(p), now))
    elif dataset is Dataset.INSURANCE:
        for i in await session.scalars(
            select(InsurancePolicy).where(InsurancePolicy.batch_id == batch_id)
        ):
            kind = "ENROLLED" if i.status is PolicyStatus.ACTIVE else "LAPSED"
            events.append(_event(feed, kind, i.enterprise_id, i.id, _policy(i), now))
    else:
        for r in await session.scalars(
            select(RiskAssessment).where(RiskAssessment.batch_id == batch_id)
        ):
            payload = {
                "level": r.overall_level.value,
                "assessedOn": r.assessed_on.isoformat(),
            }
            events.append(
                _event(feed, "LEVEL_ASSESSED", r.enterprise_id, r.id, payload, now)
            )
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


def _penalty(p: PenaltyDecision) -> dict[str, Any]:
    return {
        "decisionNumber": p.decision_number,
        "categories": p.categories,
        "decisionDate": p.decision_date.isoformat(),
        "authority": p.authority_name,
        "status": p.status.value,
        "publicationEndDate": p.publication_end_date.isoformat(),
    }


def _policy(i: InsurancePolicy) -> dict[str, Any]:
    return {
        "policyNumber": i.policy_number,
        "insurer": i.insurer_name,
        "startDate": i.start_date.isoformat(),
        "endDate": i.end_date.isoformat(),
        "status": i.status.value,
    }
