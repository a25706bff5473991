"""Pollution-liability insurance: the policy in force, and yearly enrollment."""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import ColumnElement, and_, exists, func, not_, select

from hub.enums import PolicyStatus
from hub.models import CompulsoryInsurance, Enterprise, InsurancePolicy
from resolvers.access import in_districts
from resolvers.context import Context, serialized
from resolvers.datasets import Dataset
from resolvers.enterprise import require_district
from resolvers.graph import (
    attach_datasets,
    enterprise_view,
    policy_view,
    select_enterprises,
    select_policies,
)
from resolvers.pagination import Page, PageRequest, encode_cursor
from resolvers.rating import check_year
from resolvers.views import EnrollmentView, PolicyView

CURSOR_KIND = "enrollment"


class EnrollmentFilter(Protocol):
    district: str | None
    compulsory: bool | None
    insured: bool | None


def policy_in_force(
    policies: Sequence[PolicyView], *, as_of: date
) -> PolicyView | None:
    """The policy covering `as_of` (a surrendered policy covers nothing)."""
    return next(
        (
            p
            for p in policies
            if p.status is not PolicyStatus.SURRENDERED
            and p.start_date <= as_of <= p.end_date
        ),
        None,
    )


def covers_year(year: int) -> ColumnElement[bool]:
    return and_(
        InsurancePolicy.status != PolicyStatus.SURRENDERED,
        InsurancePolicy.start_date <= date(year, 12, 31),
        InsurancePolicy.end_date >= date(year, 1, 1),
    )


@serialized
async def list_enrollment(
    ctx: Context,
    year: int,
    f: EnrollmentFilter,
    page: PageRequest,
    *,
    enterprise_wanted: frozenset[Dataset],
) -> Page[EnrollmentView]:
    """Enterprises on the year's compulsory list or insured during the year."""
    check_year(year, field="year")
    listed = exists().where(
        CompulsoryInsurance.enterprise_id == Enterprise.id,
        CompulsoryInsurance.year == year,
    )
    insured = exists().where(
        InsurancePolicy.enterprise_id == Enterprise.id, covers_year(year)
    )
    stmt = select_enterprises(ctx).where(listed | insured)
    if f.district is not None:
        codes = frozenset({require_district(f.district, field="filter.district")})
        stmt = stmt.where(in_districts(Enterprise.district_code, codes))
    if f.compulsory is not None:
        stmt = stmt.where(listed if f.compulsory else not_(listed))
    if f.insured is not None:
        stmt = stmt.where(insured if f.insured else not_(insured))
    total = None
    if page.want_total:
        total = await ctx.db.scalar(select(func.count()).select_from(stmt.subquery()))
    if page.after_id is not None:
        stmt = stmt.where(Enterprise.id > page.after_id)
    rows = (
        await ctx.db.execute(stmt.order_by(Enterprise.id).limit(page.first + 1))
    ).all()
    enterprises = [enterprise_view(r) for r in rows][: page.first]
    ids = [e.id for e in enterprises]
    listed_ids: set[int] = set()
    policies: dict[int, list[PolicyView]] = {i: [] for i in ids}
    if ids:
        listed_ids.update(
            await ctx.db.scalars(
                select(CompulsoryInsurance.enterprise_id).where(
                    CompulsoryInsurance.year == year,
                    CompulsoryInsurance.enterprise_id.in_(ids),
                )
            )
        )
        stmt_p = select_policies(ctx).where(
            InsurancePolicy.enterprise_id.in_(ids), covers_year(year)
        )
        for row in await ctx.db.execute(
            stmt_p.order_by(InsurancePolicy.start_date.desc())
        ):
            p = policy_view(row)
            policies[p.enterprise_id].append(p)
    await attach_datasets(ctx, enterprises, enterprise_wanted)
    items = [
        EnrollmentView(year, e.id in listed_ids, policies[e.id], e) for e in enterprises
    ]
    return Page(
        items=items,
        cursors=[encode_cursor(CURSOR_KIND, i) for i in ids],
        has_next=len(rows) > page.first,
        total=total,
    )
