"""The shared shape of every dataset list: filter, count, keyset page, owners."""

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, func, select

from hub.models import Enterprise
from resolvers.access import AnySelect, IntColumn, in_districts
from resolvers.context import Context
from resolvers.datasets import Dataset
from resolvers.enterprise import require_credit_code, require_district
from resolvers.graph import load_enterprises_by_ids
from resolvers.pagination import Page, PageRequest, make_page
from resolvers.views import EnterpriseView


class Owned(Protocol):
    id: int
    enterprise_id: int
    enterprise: EnterpriseView | None


V = TypeVar("V", bound=Owned)


def owner_conditions(
    enterprise_id: IntColumn,
    *,
    enterprise_code: str | None,
    district: str | None,
) -> list[ColumnElement[bool]]:
    """Conditions on a dataset row's enterprise: its credit code or district."""
    conditions = []
    if enterprise_code is not None:
        code = require_credit_code(enterprise_code, field="filter.enterpriseCode")
        conditions.append(
            enterprise_id
            == select(Enterprise.id).where(Enterprise.code == code).scalar_subquery()
        )
    if district is not None:
        codes = frozenset({require_district(district, field="filter.district")})
        conditions.append(
            enterprise_id.in_(
                select(Enterprise.id)
                .where(in_districts(Enterprise.district_code, codes))
                .scalar_subquery()
            )
        )
    return conditions


async def fetch_page(
    ctx: Context,
    stmt: AnySelect,
    *,
    id_column: IntColumn,
    kind: str,
    page: PageRequest,
    make: Callable[[Sequence[Any]], V],
    enterprise_wanted: frozenset[Dataset] | None,
) -> Page[V]:
    """Run a readable dataset select as one keyset page; attach owners if selected."""
    total = None
    if page.want_total:
        total = await ctx.db.scalar(select(func.count()).select_from(stmt.subquery()))
    if page.after_id is not None:
        stmt = stmt.where(id_column > page.after_id)
    rows = (await ctx.db.execute(stmt.order_by(id_column).limit(page.first + 1))).all()
    views = [make(r) for r in rows]
    result = make_page(kind, views, [v.id for v in views], page, total)
    ctx.returned_ids.update(v.enterprise_id for v in result.items)
    if enterprise_wanted is not None:
        owners = await load_enterprises_by_ids(
            ctx, [v.enterprise_id for v in result.items], enterprise_wanted
        )
        for v in result.items:
            v.enterprise = owners.get(v.enterprise_id)
    return result
