"""Enterprise lookups: by credit code, by a batch of codes, and filtered lists."""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from hub.credit_code import CreditCodeError, parse_credit_code
from hub.enums import Grade, Scheme, SupervisionCategory
from hub.models import CreditRating, Enterprise
from resolvers.access import in_districts, rating_rule
from resolvers.context import Context, serialized
from resolvers.datasets import Dataset
from resolvers.errors import BadUserInput
from resolvers.graph import (
    attach_datasets,
    enterprise_view,
    load_enterprises_by_codes,
    select_enterprises,
)
from resolvers.name_search import name_contains, search_text
from resolvers.pagination import Page, PageRequest, make_page
from resolvers.views import EnterpriseView

CURSOR_KIND = "enterprise"


class EnterpriseFilter(Protocol):
    district: str | None
    grade: Grade | None
    scheme: Scheme | None
    supervision_category: SupervisionCategory | None
    name_contains: str | None
    rating_year: int | None


def require_credit_code(raw: str, *, field: str) -> str:
    """The canonical credit code, or BAD_USER_INPUT / INVALID_CREDIT_CODE."""
    try:
        return parse_credit_code(raw)
    except CreditCodeError as e:
        raise BadUserInput(
            f"{field}: {e.message}", reason="INVALID_CREDIT_CODE", field=field
        ) from None


def require_district(raw: str, *, field: str) -> str:
    if len(raw) != 6 or not (raw.isascii() and raw.isdigit()):
        raise BadUserInput(
            f"{field} must be a 6-digit division code such as 320205, got {raw!r}",
            reason="INVALID_DISTRICT_CODE",
            field=field,
        )
    return raw


@serialized
async def get_enterprise(
    ctx: Context, code: str, *, wanted: frozenset[Dataset]
) -> EnterpriseView | None:
    """The enterprise with this credit code, if the caller may see it."""
    canonical = require_credit_code(code, field="code")
    found = await load_enterprises_by_codes(ctx, [canonical], wanted)
    return found[0] if found else None


@serialized
async def get_enterprises_by_codes(
    ctx: Context, codes: Sequence[str], *, wanted: frozenset[Dataset]
) -> list[EnterpriseView | None]:
    """Enterprises in input order, None where a code is unknown or hidden."""
    limit = ctx.settings.max_batch_codes
    if len(codes) > limit:
        raise BadUserInput(
            f"codes holds {len(codes)} credit codes; at most {limit} per request",
            reason="TOO_MANY_CODES",
            field="codes",
            maxCodes=limit,
        )
    canonical = [
        require_credit_code(c, field=f"codes[{i}]") for i, c in enumerate(codes)
    ]
    if not canonical:
        return []
    views = await load_enterprises_by_codes(ctx, sorted(set(canonical)), wanted)
    by_code = {v.code: v for v in views}
    return [by_code.get(c) for c in canonical]


def _rating_condition(ctx: Context, f: EnterpriseFilter) -> ColumnElement[bool] | None:
    """EXISTS over the caller-visible ratings matching grade/scheme/year."""
    if f.grade is None and f.scheme is None and f.rating_year is None:
        return None
    conditions: list[ColumnElement[bool]] = [
        CreditRating.enterprise_id == Enterprise.id,
        rating_rule(ctx.caller),
    ]
    if f.grade is not None:
        conditions.append(CreditRating.grade == f.grade)
    if f.scheme is not None:
        conditions.append(CreditRating.scheme == f.scheme)
    if f.rating_year is not None:
        conditions.append(CreditRating.year == f.rating_year)
    else:
        conditions += _in_force(ctx.today)
    return exists().where(and_(*conditions))


def _in_force(day: date) -> list[ColumnElement[bool]]:
    return [
        CreditRating.valid_from <= day,
        or_(CreditRating.valid_to.is_(None), CreditRating.valid_to >= day),
    ]


@serialized
async def list_enterprises(
    ctx: Context, f: EnterpriseFilter, page: PageRequest, *, wanted: frozenset[Dataset]
) -> Page[EnterpriseView]:
    """Enterprises matching the filter, in id order, one page at a time."""
    stmt = select_enterprises(ctx)
    if f.district is not None:
        stmt = stmt.where(
            in_districts(
                Enterprise.district_code,
                frozenset({require_district(f.district, field="filter.district")}),
            )
        )
    if f.supervision_category is not None:
        stmt = stmt.where(Enterprise.supervision_category == f.supervision_category)
    text = search_text(f.name_contains, field="filter.nameContains")
    if text is not None:
        stmt = name_contains(stmt, text, dialect=ctx.db.get_bind().dialect.name)
    rating_condition = _rating_condition(ctx, f)
    if rating_condition is not None:
        stmt = stmt.where(rating_condition)
    total = None
    if page.want_total:
        total = await ctx.db.scalar(select(func.count()).select_from(stmt.subquery()))
    if page.after_id is not None:
        stmt = stmt.where(Enterprise.id > page.after_id)
    rows = (
        await ctx.db.execute(stmt.order_by(Enterprise.id).limit(page.first + 1))
    ).all()
    views = [enterprise_view(r) for r in rows]
    result = make_page(CURSOR_KIND, views, [v.id for v in views], page, total)
    await attach_datasets(ctx, result.items, wanted)
    return result
