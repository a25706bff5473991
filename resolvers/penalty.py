"""Administrative penalty decisions: per-enterprise filters and the list."""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import String, cast

from hub.enums import PenaltyCategory, PenaltyStatus
from hub.models import PenaltyDecision
from resolvers.context import Context, serialized
from resolvers.datasets import Dataset
from resolvers.errors import BadUserInput
from resolvers.graph import penalty_view, select_penalties
from resolvers.listing import fetch_page, owner_conditions
from resolvers.pagination import Page, PageRequest
from resolvers.views import PenaltyView

CURSOR_KIND = "penalty"


class PenaltyFilter(Protocol):
    enterprise_code: str | None
    district: str | None
    authority_code: str | None
    status: PenaltyStatus | None
    category: PenaltyCategory | None
    decided_from: date | None
    decided_to: date | None


def check_range(start: date | None, end: date | None, *, field: str) -> None:
    if start is not None and end is not None and start > end:
        raise BadUserInput(
            f"{field}: the start {start} is after the end {end}",
            reason="INVALID_DATE_RANGE",
            field=field,
        )


def penalties_between(
    penalties: Sequence[PenaltyView],
    *,
    start: date | None,
    end: date | None,
    status: PenaltyStatus | None,
) -> list[PenaltyView]:
    """The enterprise's visible decisions dated within [start, end], newest first."""
    check_range(start, end, field="from")
    return [
        p
        for p in penalties
        if (start is None or p.decision_date >= start)
        and (end is None or p.decision_date <= end)
        and (status is None or p.status is status)
    ]


@serialized
async def list_penalties(
    ctx: Context,
    f: PenaltyFilter,
    page: PageRequest,
    *,
    enterprise_wanted: frozenset[Dataset] | None,
) -> Page[PenaltyView]:
    check_range(f.decided_from, f.decided_to, field="filter.decidedFrom")
    stmt = select_penalties(ctx).where(
        *owner_conditions(
            PenaltyDecision.enterprise_id,
            enterprise_code=f.enterprise_code,
            district=f.district,
        )
    )
    if f.authority_code is not None:
        stmt = stmt.where(
            PenaltyDecision.authority_code == f.authority_code.strip().upper()
        )
    if f.status is not None:
        stmt = stmt.where(PenaltyDecision.status == f.status)
    if f.category is not None:
        # categories is a JSON array of names; its text form is the same on both databases.
        stmt = stmt.where(
            cast(PenaltyDecision.categories, String).like(f'%"{f.category.name}"%')
        )
    if f.decided_from is not None:
        stmt = stmt.where(PenaltyDecision.decision_date >= f.decided_from)
    if f.decided_to is not None:
        stmt = stmt.where(PenaltyDecision.decision_date <= f.decided_to)
    return await fetch_page(
        ctx,
        stmt,
        id_column=PenaltyDecision.id,
        kind=CURSOR_KIND,
        page=page,
        make=penalty_view,
        enterprise_wanted=enterprise_wanted,
    )
