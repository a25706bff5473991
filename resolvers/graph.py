"""Load the nested datasets of a whole selection: one SQL per dataset.

Instead of a DataLoader per field (2-4x the CPU, see shared/peer/README.md),
the schema tells which datasets the selection reaches and each is fetched once
for every enterprise in the response, then served as plain attributes.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, true

from auth.caller import Caller
from hub.enums import PenaltyCategory
from hub.models import (
    CompulsoryInsurance,
    CreditRating,
    District,
    Enterprise,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)
from resolvers.access import (
    AnySelect,
    penalty_rule,
    rating_rule,
    readable_datasets,
    readable_enterprises,
)
from resolvers.context import Context
from resolvers.datasets import Dataset, Source
from resolvers.in_force import latest_in_force
from resolvers.one_trip import (
    attach_in_one_trip,
    is_postgresql,
    load_by_codes_in_one_trip,
)
from resolvers.views import (
    DistrictView,
    EnterpriseView,
    PenaltyView,
    PolicyView,
    RatingView,
    RiskView,
    columns_for,
)

RATING_COLUMNS = columns_for(RatingView, CreditRating.__table__)  # type: ignore[arg-type]
PENALTY_COLUMNS = columns_for(PenaltyView, PenaltyDecision.__table__)  # type: ignore[arg-type]
RISK_COLUMNS = columns_for(RiskView, RiskAssessment.__table__)  # type: ignore[arg-type]
POLICY_COLUMNS = columns_for(PolicyView, InsurancePolicy.__table__)  # type: ignore[arg-type]
ENTERPRISE_COLUMNS = (
    Enterprise.id,
    Enterprise.code,
    Enterprise.name,
    District.code,
    District.name,
    District.name_en,
    Enterprise.address,
    Enterprise.industry_code,
    Enterprise.supervision_category,
    Enterprise.legal_representative,
    Enterprise.status,
)


def select_enterprises(ctx: Context) -> AnySelect:
    """Enterprise rows with their district, restricted to what the caller sees."""
    return select_enterprises_for(ctx.caller)


def select_enterprises_for(caller: Caller) -> AnySelect:
    stmt: AnySelect = select(*ENTERPRISE_COLUMNS).join(
        District, District.code == Enterprise.district_code
    )
    return readable_enterprises(stmt, caller)


def enterprise_view(row: Sequence[Any]) -> EnterpriseView:
    return EnterpriseView(
        row[0],
        row[1],
        row[2],
        DistrictView(row[3], row[4], row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
    )


def rating_view(row: Sequence[Any]) -> RatingView:
    return RatingView(*row)


def penalty_view(row: Sequence[Any]) -> PenaltyView:
    view = PenaltyView(*row)
    view.categories = [PenaltyCategory[c] for c in row[3]]
    return view


def risk_view(row: Sequence[Any]) -> RiskView:
    return RiskView(*row)


def policy_view(row: Sequence[Any]) -> PolicyView:
    return PolicyView(*row)


def select_ratings(ctx: Context) -> AnySelect:
    return readable_datasets(
        select(*RATING_COLUMNS),
        ctx.caller,
        rule=rating_rule(ctx.caller),
        enterprise_id=CreditRating.enterprise_id,
    )


def select_rating_in_force(ctx: Context) -> AnySelect:
    """The one decision currentRating picks with its defaults, chosen in SQL.

    Every decision of a batch's enterprises (2.7 each in the demo register)
    cost a batch of 100 about a sixth of its CPU, here and in PostgreSQL,
    to pick one in memory. A published decision is readable by every
    caller who may read the enterprise, so the decisions that could supersede
    it are the caller's too: the pick is the one rating_in_force makes.
    """
    return readable_datasets(
        select(*RATING_COLUMNS).where(
            *latest_in_force(
                CreditRating, scheme=ctx.settings.official_scheme, as_of=ctx.today
            )
        ),
        ctx.caller,
        rule=rating_rule(ctx.caller),
        enterprise_id=CreditRating.enterprise_id,
    )


def select_penalties(ctx: Context) -> AnySelect:
    return readable_datasets(
        select(*PENALTY_COLUMNS),
        ctx.caller,
        rule=penalty_rule(ctx.caller, ctx.today),
        enterprise_id=PenaltyDecision.enterprise_id,
    )


def select_risks(ctx: Context) -> AnySelect:
    return readable_datasets(
        select(*RISK_COLUMNS),
        ctx.caller,
        rule=true(),
        enterprise_id=RiskAssessment.enterprise_id,
    )


def select_policies(ctx: Context) -> AnySelect:
    return readable_datasets(
        select(*POLICY_COLUMNS),
        ctx.caller,
        rule=true(),
        enterprise_id=InsurancePolicy.enterprise_id,
    )


def _attach_rating(by_id: dict[int, EnterpriseView], row: Sequence[Any]) -> None:
    rating = rating_view(row)
    owner = by_id[rating.enterprise_id]
    rating.held_by(owner)
    owner.ratings.append(rating)


def _attach_penalty(by_id: dict[int, EnterpriseView], row: Sequence[Any]) -> None:
    penalty = penalty_view(row)
    owner = by_id[penalty.enterprise_id]
    penalty.held_by(owner)
    owner.penalties.append(penalty)


def _attach_risk(by_id: dict[int, EnterpriseView], row: Sequence[Any]) -> None:
    risk = risk_view(row)
    owner = by_id[risk.enterprise_id]
    risk.held_by(owner)
    owner.risks.append(risk)


def _attach_policy(by_id: dict[int, EnterpriseView], row: Sequence[Any]) -> None:
    policy = policy_view(row)
    by_id[policy.enterprise_id].policies.append(policy)


def _attach_listed_year(by_id: dict[int, EnterpriseView], row: Sequence[Any]) -> None:
    by_id[row[0]].compulsory_years.append(row[1])


def _select_listed_years(_ctx: Context) -> AnySelect:
    return select(CompulsoryInsurance.enterprise_id, CompulsoryInsurance.year)


SOURCES = (
    Source(
        Dataset.RATINGS,
        select_ratings,
        CreditRating.enterprise_id,
        (("valid_from", True), ("id", True)),
        _attach_rating,
    ),
    Source(
        Dataset.RATING_IN_FORCE,
        select_rating_in_force,
        CreditRating.enterprise_id,
        (("valid_from", True), ("id", True)),
        _attach_rating,
    ),
    Source(
        Dataset.PENALTIES,
        select_penalties,
        PenaltyDecision.enterprise_id,
        (("decision_date", True), ("id", True)),
        _attach_penalty,
    ),
    Source(
        Dataset.RISKS,
        select_risks,
        RiskAssessment.enterprise_id,
        (("assessed_on", True), ("id", True)),
        _attach_risk,
    ),
    Source(
        Dataset.POLICIES,
        select_policies,
        InsurancePolicy.enterprise_id,
        (("start_date", True), ("id", True)),
        _attach_policy,
    ),
    Source(
        Dataset.COMPULSORY,
        _select_listed_years,
        CompulsoryInsurance.enterprise_id,
        (("year", True),),
        _attach_listed_year,
    ),
)


async def attach_datasets(
    ctx: Context, enterprises: Sequence[EnterpriseView], wanted: frozenset[Dataset]
) -> None:
    """Fill the requested dataset lists of every enterprise, newest first."""
    ctx.returned_codes.update(e.code for e in enterprises)
    if not enterprises or not wanted:
        return
    by_id = {e.id: e for e in enterprises}
    ids = list(by_id)
    sources = [s for s in SOURCES if s.dataset in wanted]
    if len(sources) > 1 and is_postgresql(ctx):
        await attach_in_one_trip(ctx, by_id, sources)
        return
    for source in sources:
        stmt = source.select(ctx).where(source.enterprise_id.in_(ids))
        columns = stmt.selected_columns
        ordered = stmt.order_by(
            *(columns[n].desc() if desc else columns[n] for n, desc in source.order)
        )
        for found in await ctx.db.execute(ordered):
            source.attach(by_id, found)


async def load_enterprises_by_codes(
    ctx: Context, codes: Sequence[str], wanted: frozenset[Dataset]
) -> list[EnterpriseView]:
    """Readable enterprises with these canonical codes, their datasets attached."""
    sources = [s for s in SOURCES if s.dataset in wanted]
    if is_postgresql(ctx):
        found = await load_by_codes_in_one_trip(
            ctx,
            codes,
            sources,
            enterprises=lambda: select_enterprises(ctx),
            view=enterprise_view,
        )
        ctx.returned_codes.update(e.code for e in found)
        return found
    rows = await ctx.db.execute(
        select_enterprises(ctx).where(Enterprise.code.in_(set(codes)))
    )
    views = [enterprise_view(r) for r in rows]
    await attach_datasets(ctx, views, wanted)
    return views


async def load_enterprises_by_ids(
    ctx: Context, ids: Sequence[int], wanted: frozenset[Dataset]
) -> dict[int, EnterpriseView]:
    """Readable enterprises by id, with their datasets; hidden ids are absent."""
    if not ids:
        return {}
    rows = await ctx.db.execute(
        select_enterprises(ctx).where(Enterprise.id.in_(set(ids)))
    )
    views = [enterprise_view(r) for r in rows]
    await attach_datasets(ctx, views, wanted)
    return {v.id: v for v in views}


async def returned_enterprise_codes(ctx: Context) -> list[str]:
    """Credit codes of every enterprise whose data the response carries."""
    missing = ctx.returned_ids - {0}
    codes = set(ctx.returned_codes)
    if missing:
        async with ctx.lock:
            codes.update(
                await ctx.db.scalars(
                    select(Enterprise.code).where(Enterprise.id.in_(missing))
                )
            )
    return sorted(codes)
