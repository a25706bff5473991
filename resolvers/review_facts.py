"""The facts a credit review reads, for many enterprises at once, through the row rules.

One select per kind of record for a whole batch of codes, each restricted by
resolvers/access.py exactly as the caller's lookups are: a county bureau
reviews its own district, and the public rules hide what the caller may not
see (unpublished grades, penalties outside their publication window).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    any_,
    bindparam,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from auth.caller import Caller
from hub.enums import PenaltyCategory, PenaltyStatus, PolicyStatus, Scheme
from hub.evaluate.facts import EventFact
from hub.evaluate.policy import SchemePolicy
from hub.models import (
    CompulsoryInsurance,
    CreditRating,
    Enterprise,
    EnvironmentalEvent,
    InsurancePolicy,
    PenaltyDecision,
    RepairApplication,
    RiskAssessment,
)
from hub.review.facts import (
    OPEN_REPAIR_STATUSES,
    GradeFact,
    OpenRepair,
    PublishedPenalty,
    ReviewFacts,
    RiskOnFile,
)
from hub.review.vetoes import months_before, veto_events, veto_rules
from resolvers.access import (
    PUBLISHED_RATING_STATUSES,
    AnySelect,
    IntColumn,
    StrColumn,
    penalty_rule,
    rating_rule,
    readable_datasets,
)
from resolvers.context import CST
from resolvers.facts import EVENT_FACT_COLUMNS
from resolvers.graph import enterprise_view, select_enterprises_for
from resolvers.views import EnterpriseView


@dataclass(frozen=True, slots=True)
class Reviewed:
    enterprise: EnterpriseView
    facts: ReviewFacts


async def load_review_facts(
    session: AsyncSession,
    caller: Caller,
    codes: Sequence[str],
    *,
    as_of: date,
    today: date,
    scheme: Scheme,
    policies: Mapping[Scheme, Sequence[SchemePolicy]],
    veto_lookback_months: int,
) -> dict[str, Reviewed]:
    """The facts on `as_of` of every readable enterprise among `codes` (canonical)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows = await session.execute(
        select_enterprises_for(caller).where(
            _among(Enterprise.code, sorted(set(codes)), String, postgresql)
        )
    )
    enterprises = {v.id: v for v in map(enterprise_view, rows)}
    if not enterprises:
        return {}
    ids = list(enterprises)

    def scoped(
        stmt: AnySelect, column: IntColumn, rule: ColumnElement[bool] | None = None
    ) -> AnySelect:
        restricted = readable_datasets(
            stmt, caller, rule=true() if rule is None else rule, enterprise_id=column
        )
        return restricted.where(_among(column, ids, Integer, postgresql))

    grades: dict[int, GradeFact] = {}
    ratings = scoped(
        select(
            CreditRating.enterprise_id,
            CreditRating.id,
            CreditRating.scheme,
            CreditRating.grade,
            CreditRating.valid_from,
            CreditRating.valid_to,
        ),
        CreditRating.enterprise_id,
        rating_rule(caller),
    ).where(
        CreditRating.scheme == scheme,
        CreditRating.status.in_(PUBLISHED_RATING_STATUSES),
        CreditRating.valid_from <= as_of,
        or_(CreditRating.valid_to.is_(None), CreditRating.valid_to >= as_of),
    )
    # The decision that took effect last wins (a downgrade inside a period).
    for owner, *rest in await session.execute(
        ratings.order_by(CreditRating.valid_from.desc(), CreditRating.id.desc())
    ):
        grades.setdefault(owner, GradeFact(*rest))

    penalties: dict[int, list[PublishedPenalty]] = {}
    for owner, id_, number, day, categories, fine, ends in await session.execute(
        scoped(
            select(
                PenaltyDecision.enterprise_id,
                PenaltyDecision.id,
                PenaltyDecision.decision_number,
                PenaltyDecision.decision_date,
                PenaltyDecision.categories,
                PenaltyDecision.fine_amount,
                PenaltyDecision.publication_end_date,
            ),
            PenaltyDecision.enterprise_id,
            penalty_rule(caller, today),
        )
        .where(
            PenaltyDecision.status != PenaltyStatus.REVOKED,
            PenaltyDecision.decision_date <= as_of,
            PenaltyDecision.publication_end_date >= as_of,
        )
        .order_by(PenaltyDecision.decision_date.desc(), PenaltyDecision.id.desc())
    ):
        cats = tuple(PenaltyCategory[c] for c in categories)
        penalties.setdefault(owner, []).append(
            PublishedPenalty(id_, number, day, cats, fine, ends)
        )

    risks: dict[int, RiskOnFile] = {}
    for owner, id_, level, assessed, filed in await session.execute(
        scoped(
            select(
                RiskAssessment.enterprise_id,
                RiskAssessment.id,
                RiskAssessment.overall_level,
                RiskAssessment.assessed_on,
                RiskAssessment.plan_filed_on,
            ),
            RiskAssessment.enterprise_id,
        )
        .where(RiskAssessment.assessed_on <= as_of)
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc())
    ):
        plan = filed if filed is not None and filed <= as_of else None
        risks.setdefault(owner, RiskOnFile(id_, level, assessed, plan))

    listed = set(
        await session.scalars(
            scoped(
                select(CompulsoryInsurance.enterprise_id),
                CompulsoryInsurance.enterprise_id,
            ).where(CompulsoryInsurance.year == as_of.year)
        )
    )
    insured: dict[int, int] = {}
    for owner, id_ in await session.execute(
        scoped(
            select(InsurancePolicy.enterprise_id, InsurancePolicy.id),
            InsurancePolicy.enterprise_id,
        )
        .where(
            InsurancePolicy.status != PolicyStatus.SURRENDERED,
            InsurancePolicy.start_date <= as_of,
            InsurancePolicy.end_date >= as_of,
        )
        .order_by(InsurancePolicy.id)
    ):
        insured.setdefault(owner, id_)

    events: dict[int, list[EventFact]] = {}
    for owner, *fields in await session.execute(
        scoped(
            select(EnvironmentalEvent.enterprise_id, *EVENT_FACT_COLUMNS),
            EnvironmentalEvent.enterprise_id,
        ).where(
            EnvironmentalEvent.occurred_on
            >= months_before(as_of, veto_lookback_months),
            EnvironmentalEvent.occurred_on <= as_of,
        )
    ):
        events.setdefault(owner, []).append(EventFact(*fields))

    repairs: dict[int, OpenRepair] = {}
    applied_by = datetime.combine(as_of + timedelta(days=1), time(), CST)
    for owner, id_, status, applied in await session.execute(
        scoped(
            select(
                RepairApplication.enterprise_id,
                RepairApplication.id,
                RepairApplication.status,
                RepairApplication.applied_at,
            ),
            RepairApplication.enterprise_id,
        )
        .where(
            RepairApplication.status.in_(OPEN_REPAIR_STATUSES),
            RepairApplication.applied_at < applied_by,
        )
        .order_by(RepairApplication.applied_at.desc(), RepairApplication.id.desc())
    ):
        repairs.setdefault(
            owner, OpenRepair(id_, status, applied.astimezone(CST).date())
        )

    rules = veto_rules(policies, as_of)
    return {
        view.code: Reviewed(
            view,
            ReviewFacts(
                code=view.code,
                as_of=as_of,
                grade=grades.get(id_),
                penalties=tuple(penalties.get(id_, ())),
                vetoes=veto_events(
                    rules, events.get(id_, ()), as_of=as_of, months=veto_lookback_months
                ),
                risk=risks.get(id_),
                compulsory_insurance=id_ in listed,
                policy_in_force=insured.get(id_),
                open_repair=repairs.get(id_),
            ),
        )
        for id_, view in enterprises.items()
    }


def _among(
    column: IntColumn | StrColumn,
    values: list[Any],
    item: type[TypeEngine[Any]],
    postgresql: bool,
) -> ColumnElement[bool]:
    """`column` is one of `values`: one array parameter on PostgreSQL (a
    thousand-element IN list costs a bind each to render and to send)."""
    if postgresql:
        return column == any_(bindparam(None, values, type_=ARRAY(item())))
    return column.in_(values)
