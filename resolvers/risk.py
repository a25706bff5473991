"""Environmental risk assessments (HJ 941-2018): level as of a date, and the list."""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from hub.enums import RiskLevel
from hub.models import RiskAssessment
from resolvers.context import Context, serialized
from resolvers.datasets import Dataset
from resolvers.graph import risk_view, select_risks
from resolvers.listing import fetch_page, owner_conditions
from resolvers.pagination import Page, PageRequest
from resolvers.penalty import check_range
from resolvers.views import RiskView

CURSOR_KIND = "risk"


class RiskFilter(Protocol):
    enterprise_code: str | None
    district: str | None
    level: RiskLevel | None
    assessed_from: date | None
    assessed_to: date | None


def risk_as_of(risks: Sequence[RiskView], *, as_of: date) -> RiskView | None:
    """The latest assessment made on or before `as_of` (risks are newest first)."""
    return next((r for r in risks if r.assessed_on <= as_of), None)


@serialized
async def list_risks(
    ctx: Context,
    f: RiskFilter,
    page: PageRequest,
    *,
    enterprise_wanted: frozenset[Dataset] | None,
) -> Page[RiskView]:
    check_range(f.assessed_from, f.assessed_to, field="filter.assessedFrom")
    stmt = select_risks(ctx).where(
        *owner_conditions(
            RiskAssessment.enterprise_id,
            enterprise_code=f.enterprise_code,
            district=f.district,
        )
    )
    if f.level is not None:
        stmt = stmt.where(RiskAssessment.overall_level == f.level)
    if f.assessed_from is not None:
        stmt = stmt.where(RiskAssessment.assessed_on >= f.assessed_from)
    if f.assessed_to is not None:
        stmt = stmt.where(RiskAssessment.assessed_on <= f.assessed_to)
    return await fetch_page(
        ctx,
        stmt,
        id_column=RiskAssessment.id,
        kind=CURSOR_KIND,
        page=page,
        make=risk_view,
        enterprise_wanted=enterprise_wanted,
    )
