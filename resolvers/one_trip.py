"""On PostgreSQL, a lookup and its datasets in one statement and one round trip.

Each enterprise lookup was an enterprise select plus one select per nested
dataset; each cost a round trip and SQLAlchemy's execution work, more than
the GraphQL work of the answer. Here every select becomes a JSON cell of one
row (resolvers/json_rows.py). The selects are the same ones the general path
runs, through the same row rules (resolvers/access.py); only their shipping
changes. The statements take a few hundred microseconds to build, so each is
built once and cached under everything it embeds: the datasets, the caller's
access key and today's date (the penalties' publication window). Their only
parameter is one array of the request's ids or codes (`= ANY($1)`): an IN
list would give PostgreSQL a thousand parameters per select to plan.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Integer, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from hub.models import Enterprise
from resolvers.access import AnySelect, access_key, readable_enterprises
from resolvers.context import Context
from resolvers.datasets import Source
from resolvers.json_rows import RowDecoder, json_rows, row_decoder
from resolvers.views import EnterpriseView

CACHE_SIZE = 256
Entry = tuple[AnySelect, list[RowDecoder]]
_STATEMENTS: OrderedDict[tuple[object, ...], Entry] = OrderedDict()


def is_postgresql(ctx: Context) -> bool:
    bind = ctx.db.bind
    return bind is not None and bind.dialect.name == "postgresql"


async def attach_in_one_trip(
    ctx: Context, by_id: dict[int, EnterpriseView], sources: Sequence[Source]
) -> None:
    """Attach these datasets of the enterprises `by_id` (one statement)."""
    stmt, decoders = _cached(("ids", *sources), ctx, lambda: _by_ids(ctx, sources))
    row = await _one_row(ctx, stmt, {"ids": list(by_id)})
    for source, decode, cell in zip(sources, decoders, row, strict=True):
        for item in _items(cell):
            source.attach(by_id, decode(item))


async def load_by_codes_in_one_trip(
    ctx: Context,
    codes: Sequence[str],
    sources: Sequence[Source],
    *,
    enterprises: Callable[[], AnySelect],
    view: Callable[[Sequence[Any]], EnterpriseView],
) -> list[EnterpriseView]:
    """The readable enterprises with these codes, their datasets attached.

    `enterprises` makes the general path's readable select of enterprise rows
    (called only to build the statement) and `view` builds an EnterpriseView
    from one of them.
    """
    stmt, decoders = _cached(
        ("codes", *sources), ctx, lambda: _by_codes(ctx, sources, enterprises)
    )
    row = await _one_row(ctx, stmt, {"codes": list(codes)})
    found = [view(decoders[0](item)) for item in _items(row[0])]
    by_id = {e.id: e for e in found}
    for source, decode, cell in zip(sources, decoders[1:], row[1:], strict=True):
        for item in _items(cell):
            source.attach(by_id, decode(item))
    return found


def _by_ids(ctx: Context, sources: Sequence[Source]) -> Entry:
    ids = bindparam("ids", type_=ARRAY(Integer))
    selects = [s.select(ctx).where(s.enterprise_id == any_(ids)) for s in sources]
    return _row_of(selects, [s.order for s in sources])


def _by_codes(
    ctx: Context, sources: Sequence[Source], enterprises: Callable[[], AnySelect]
) -> Entry:
    codes = bindparam("codes", type_=ARRAY(String))
    wanted = readable_enterprises(
        select(Enterprise.id).where(Enterprise.code == any_(codes)), ctx.caller
    ).scalar_subquery()
    selects = [
        enterprises().where(Enterprise.code == any_(codes)),
        *(s.select(ctx).where(s.enterprise_id.in_(wanted)) for s in sources),
    ]
    return _row_of(selects, [(("id", False),), *(s.order for s in sources)])


def _row_of(
    selects: Sequence[AnySelect], orders: Sequence[tuple[tuple[str, bool], ...]]
) -> Entry:
    row = select(*(json_rows(st, o) for st, o in zip(selects, orders, strict=True)))
    return row, [row_decoder(st) for st in selects]


def _cached(
    shape: tuple[object, ...], ctx: Context, build: Callable[[], Entry]
) -> Entry:
    key = (*shape, access_key(ctx.caller), ctx.today)
    hit = _STATEMENTS.get(key)
    if hit is not None:
        _STATEMENTS.move_to_end(key)
        return hit
    entry = _STATEMENTS[key] = build()
    if len(_STATEMENTS) > CACHE_SIZE:
        _STATEMENTS.popitem(last=False)
    return entry


async def _one_row(
    ctx: Context, stmt: AnySelect, params: dict[str, Any]
) -> Sequence[Any]:
    # Core on the session's connection: the ORM's execution layer adds
    # nothing to a statement of plain columns.
    connection = await ctx.db.connection()
    return (await connection.execute(stmt, params)).one()


def _items(cell: Any) -> Sequence[Any]:
    # asyncpg decodes json itself (hub.db sets orjson as its codec).
    items = orjson.loads(cell) if isinstance(cell, str | bytes) else cell
    return items or ()
