"""Load the facts of many enterprises at once: one query per dataset.

An evaluation of 100,000 enterprises must not ask per enterprise; each
dataset is read once for the time window the schemes look at, and the rows
are dealt out to the enterprises in memory.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import PenaltyCategory, PenaltyStatus
from hub.evaluate.facts import (
    EnterpriseFacts,
    EventFact,
    PenaltyFact,
    PolicyFact,
    RiskFact,
)
from hub.models import (
    Enterprise,
    EnvironmentalEvent,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)

# The columns of an EventFact, in its fields' order.
EVENT_FACT_COLUMNS: tuple[Any, ...] = (
    EnvironmentalEvent.id,
    EnvironmentalEvent.kind,
    EnvironmentalEvent.occurred_on,
    EnvironmentalEvent.severity,
    EnvironmentalEvent.criminal,
    EnvironmentalEvent.violation_code,
    EnvironmentalEvent.valid_until,
)
# Above this many enterprises the window is read whole and filtered here.
IN_LIST_LIMIT = 1000


async def load_facts(
    session: AsyncSession, enterprise_ids: Iterable[int], *, since: date
) -> dict[int, EnterpriseFacts]:
    """The facts of each enterprise dated on or after `since` (policies that
    end on or after it; the latest risk assessments of any date)."""
    ids = sorted(set(enterprise_ids))
    wanted = set(ids)
    few = len(ids) <= IN_LIST_LIMIT
    facts: dict[int, EnterpriseFacts] = {}
    rows = await session.execute(
        select(
            Enterprise.id,
            Enterprise.code,
            Enterprise.status,
            Enterprise.supervision_category,
        ).where(Enterprise.id.in_(ids) if few else Enterprise.id.isnot(None))
    )
    for id_, code, status, category in rows:
        if id_ in wanted:
            facts[id_] = EnterpriseFacts(id_, code, status, category)

    penalties = select(
        PenaltyDecision.enterprise_id,
        PenaltyDecision.id,
        PenaltyDecision.decision_date,
        PenaltyDecision.categories,
        PenaltyDecision.fine_amount,
        PenaltyDecision.violation_type,
        PenaltyDecision.status,
    ).where(
        PenaltyDecision.decision_date >= since,
        PenaltyDecision.status != PenaltyStatus.REVOKED,
    )
    if few:
        penalties = penalties.where(PenaltyDecision.enterprise_id.in_(ids))
    for (
        owner,
        id_,
        decided,
        categories,
        fine,
        violation,
        state,
    ) in await session.execute(penalties):
        if owner in facts:
            facts[owner].penalties.append(
                PenaltyFact(
                    id_,
                    decided,
                    tuple(PenaltyCategory(c) for c in categories),
                    fine,
                    violation,
                    state,
                )
            )

    events = select(EnvironmentalEvent.enterprise_id, *EVENT_FACT_COLUMNS).where(
        EnvironmentalEvent.occurred_on >= since
    )
    if few:
        events = events.where(EnvironmentalEvent.enterprise_id.in_(ids))
    for owner, *fields in await session.execute(events):
        if owner in facts:
            facts[owner].events.append(EventFact(*fields))

    policies = select(
        InsurancePolicy.enterprise_id,
        InsurancePolicy.id,
        InsurancePolicy.start_date,
        InsurancePolicy.end_date,
        InsurancePolicy.status,
    ).where(InsurancePolicy.end_date >= since)
    if few:
        policies = policies.where(InsurancePolicy.enterprise_id.in_(ids))
    for owner, id_, start, end, policy_status in await session.execute(policies):
        if owner in facts:
            facts[owner].policies.append(PolicyFact(id_, start, end, policy_status))

    risks = select(
        RiskAssessment.enterprise_id,
        RiskAssessment.id,
        RiskAssessment.overall_level,
        RiskAssessment.assessed_on,
        RiskAssessment.plan_filed_on,
    )
    if few:
        risks = risks.where(RiskAssessment.enterprise_id.in_(ids))
    for owner, id_, level, assessed, filed in await session.execute(risks):
        if owner in facts:
            facts[owner].risks.append(RiskFact(id_, level, assessed, filed))
    return facts
