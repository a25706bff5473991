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
list would give PostgreSQL a thousand parameters per select to plan. One id
or code goes in as a scalar (`= $1`) instead: PostgreSQL guesses ten
elements for an array it cannot see, so a generic plan of the array form
always looked dearer than a custom one for one key, and the statement was
planned again on every request (0.7 ms of the database server's CPU, more
than running it).

Each statement is also compiled to its SQL text once (`Compiled`), with its
constant parameters (the row rules' dates and status lists) rendered in
place, and then sent as driver SQL: compiling it again on every request was
6 % of a single lookup's profile.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Dialect, Integer, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import fetch_row
from hub.models import Enterprise
from resolvers.access import AnySelect, access_key, readable_enterprises
from resolvers.context import Context
from resolvers.datasets import Source
from resolvers.json_rows import RowDecoder, json_rows, row_decoder
from resolvers.views import EnterpriseView

CACHE_SIZE = 256


@dataclass(slots=True)
class Compiled:
    """A statement's SQL text and its parameters, the open one left to fill."""

    driver: str  # the text and processors are the driver's own
    sql: str
    args: list[Any]  # the constants, already through their bind processors
    position: int  # of the open parameter in `args`
    process: Callable[[Any], Any] | None  # the open parameter's bind processor


@dataclass(slots=True)
class Entry:
    stmt: AnySelect
    decoders: list[RowDecoder]
    parameter: str  # the name of the statement's one open parameter
    compiled: Compiled | None = None  # on first use, for the connection's dialect


_STATEMENTS: OrderedDict[tuple[object, ...], Entry] = OrderedDict()


def is_postgresql(ctx: Context) -> bool:
    bind = ctx.db.bind
    return bind is not None and bind.dialect.name == "postgresql"


async def attach_in_one_trip(
    ctx: Context, by_id: dict[int, EnterpriseView], sources: Sequence[Source]
) -> None:
    """Attach these datasets of the enterprises `by_id` (one statement)."""
    one = len(by_id) == 1
    entry = _cached(
        ("id" if one else "ids", *sources), ctx, lambda: _by_ids(ctx, sources, one=one)
    )
    row = await _one_row(ctx, entry, _value(list(by_id), one=one))
    for source, decode, cell in zip(sources, entry.decoders, row, strict=True):
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
    one = len(codes) == 1
    entry = _cached(
        ("code" if one else "codes", *sources),
        ctx,
        lambda: _by_codes(ctx, sources, enterprises, one=one),
    )
    decoders = entry.decoders
    row = await _one_row(ctx, entry, _value(list(codes), one=one))
    found = [view(decoders[0](item)) for item in _items(row[0])]
    by_id = {e.id: e for e in found}
    for source, decode, cell in zip(sources, decoders[1:], row[1:], strict=True):
        for item in _items(cell):
            source.attach(by_id, decode(item))
    return found


def _matching(column: Any, name: str, kind: Any, *, one: bool) -> Any:
    """`column = $1` for one key, `column = ANY($1)` for several (module docstring).

    The parameter carries a placeholder value, so that the statement compiles
    with its constants.
    """
    if one:
        return column == bindparam(name, value=None, type_=kind)
    return column == any_(bindparam(name, value=[], type_=ARRAY(kind)))


def _value(keys: list[Any], *, one: bool) -> Any:
    """What fills the parameter `_matching` made."""
    return keys[0] if one else keys


def _by_ids(ctx: Context, sources: Sequence[Source], *, one: bool) -> Entry:
    name = "id" if one else "ids"
    selects = [
        s.select(ctx).where(_matching(s.enterprise_id, name, Integer, one=one))
        for s in sources
    ]
    return _row_of(name, selects, [s.order for s in sources])


def _by_codes(
    ctx: Context,
    sources: Sequence[Source],
    enterprises: Callable[[], AnySelect],
    *,
    one: bool,
) -> Entry:
    name = "code" if one else "codes"
    matches = _matching(Enterprise.code, name, String, one=one)
    ids = readable_enterprises(select(Enterprise.id).where(matches), ctx.caller)
    # Many codes: look them up once for all the datasets (a CTE PostgreSQL
    # materialises), not once per dataset; one code is one index probe.
    wanted = ids.scalar_subquery() if one else select(ids.cte("wanted").c.id)
    selects = [
        enterprises().where(matches),
        *(s.select(ctx).where(s.enterprise_id.in_(wanted)) for s in sources),
    ]
    return _row_of(name, selects, [(("id", False),), *(s.order for s in sources)])


def _row_of(
    parameter: str,
    selects: Sequence[AnySelect],
    orders: Sequence[tuple[tuple[str, bool], ...]],
) -> Entry:
    row = select(*(json_rows(st, o) for st, o in zip(selects, orders, strict=True)))
    return Entry(row, [row_decoder(st) for st in selects], parameter)


def _cached(
    shape: tuple[object, ...], ctx: Context, build: Callable[[], Entry]
) -> Entry:
    # Everything a source's select embeds: the row rules, today's date and
    # the official scheme (the rating in force).
    key = (*shape, access_key(ctx.caller), ctx.today, ctx.settings.official_scheme)
    hit = _STATEMENTS.get(key)
    if hit is not None:
        _STATEMENTS.move_to_end(key)
        return hit
    entry = _STATEMENTS[key] = build()
    if len(_STATEMENTS) > CACHE_SIZE:
        _STATEMENTS.popitem(last=False)
    return entry


async def _one_row(ctx: Context, entry: Entry, value: Any) -> Sequence[Any]:
    session = ctx.db
    bind = session.bind
    assert isinstance(bind, AsyncEngine)
    # A query's session without a connection yet: the statement takes a pooled
    # connection of its own (hub.db.fetch_row), without the session's work.
    # Otherwise driver SQL on the session's connection: still SQLAlchemy's
    # connection, transaction and error wrapping, without compiling the
    # statement again.
    own = (
        ctx.read_only
        and bind.dialect.driver == "asyncpg"
        and not session.in_transaction()
    )
    compiled = entry.compiled
    if compiled is None or compiled.driver != bind.dialect.driver:
        compiled = entry.compiled = _compile(entry, bind.dialect)
    args = list(compiled.args)
    args[compiled.position] = (
        value if compiled.process is None else compiled.process(value)
    )
    if not own:
        connection = await session.connection()
        return (await connection.exec_driver_sql(compiled.sql, tuple(args))).one()
    row = await fetch_row(bind, compiled.sql, args)
    assert row is not None  # a select without FROM: one row
    return cast(Sequence[Any], row)


def _compile(entry: Entry, dialect: Dialect) -> Compiled:
    compiled = entry.stmt.compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    # The expanded state holds the parameters in positional order, and the
    # IN lists' processors under their expanded names ($4, $5 ... for one
    # list); the other parameters' processors stay with the compiled form.
    # A statement without IN lists has no expanded state.
    state = compiled._post_compile_expanded_state
    positions = compiled.positiontup if state is None else state.positiontup
    assert positions is not None  # PostgreSQL's drivers are positional
    names = list(positions)
    parameters = compiled.params if state is None else state.parameters
    processors = dict(compiled._bind_processors)
    if state is not None:
        processors.update(state.processors)
    args = []
    for name in names:
        value, process = parameters[name], _processor(processors.get(name))
        args.append(value if process is None else process(value))
    return Compiled(
        dialect.driver,
        compiled.string,
        args,
        names.index(entry.parameter),
        _processor(processors.get(entry.parameter)),
    )


def _processor(found: object) -> Callable[[Any], Any] | None:
    if found is None or callable(found):
        return found
    raise TypeError("tuple IN lists have per-element processors: not compiled here")


def _items(cell: Any) -> Sequence[Any]:
    # asyncpg decodes json itself (hub.db sets orjson as its codec).
    items = orjson.loads(cell) if isinstance(cell, str | bytes) else cell
    return items or ()
