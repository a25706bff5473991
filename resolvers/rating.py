"""Credit ratings: the grade in force on a date, histories and the ratings list."""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from hub.enums import Grade, RatingStatus, Scheme
from hub.models import CreditRating
from resolvers.access import PUBLISHED_RATING_STATUSES
from resolvers.context import Context, serialized
from resolvers.datasets import Dataset
from resolvers.errors import BadUserInput
from resolvers.graph import rating_view, select_ratings
from resolvers.listing import fetch_page, owner_conditions
from resolvers.pagination import Page, PageRequest
from resolvers.views import RatingView

CURSOR_KIND = "rating"


class RatingFilter(Protocol):
    enterprise_code: str | None
    district: str | None
    scheme: Scheme | None
    grade: Grade | None
    year: int | None
    status: RatingStatus | None


def rating_in_force(
    ratings: Sequence[RatingView], *, as_of: date, scheme: Scheme
) -> RatingView | None:
    """The published decision of `scheme` whose validity covers `as_of`.

    When decisions overlap (a downgrade inside an annual period) the one that
    took effect last wins. `ratings` are newest first, so the first match is it.
    """
    for r in ratings:
        if (
            r.scheme is scheme
            and r.status in PUBLISHED_RATING_STATUSES
            and r.valid_from <= as_of
            and (r.valid_to is None or r.valid_to >= as_of)
        ):
            return r
    return None


def rating_history(
    ratings: Sequence[RatingView], *, scheme: Scheme | None
) -> list[RatingView]:
    """Every decision the caller may see, newest first, optionally of one scheme."""
    if scheme is None:
        return list(ratings)
    return [r for r in ratings if r.scheme is scheme]


def check_year(year: int | None, *, field: str) -> None:
    if year is not None and not 1990 <= year <= 2100:
        raise BadUserInput(
            f"{field} must be a calendar year between 1990 and 2100, got {year}",
            reason="INVALID_YEAR",
            field=field,
        )


@serialized
async def list_ratings(
    ctx: Context,
    f: RatingFilter,
    page: PageRequest,
    *,
    enterprise_wanted: frozenset[Dataset] | None,
) -> Page[RatingView]:
    check_year(f.year, field="filter.year")
    stmt = select_ratings(ctx).where(
        *owner_conditions(
            CreditRating.enterprise_id,
            enterprise_code=f.enterprise_code,
            district=f.district,
        )
    )
    if f.scheme is not None:
        stmt = stmt.where(CreditRating.scheme == f.scheme)
    if f.grade is not None:
        stmt = stmt.where(CreditRating.grade == f.grade)
    if f.year is not None:
        stmt = stmt.where(CreditRating.year == f.year)
    if f.status is not None:
        stmt = stmt.where(CreditRating.status == f.status)
    return await fetch_page(
        ctx,
        stmt,
        id_column=CreditRating.id,
        kind=CURSOR_KIND,
        page=page,
        make=rating_view,
        enterprise_wanted=enterprise_wanted,
    )
