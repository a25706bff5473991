"""Exports of the four shared datasets for other systems: the rows a caller may have.

Each dataset is one statement (resolvers/export_specs.py), joined with the
enterprise (credit code, name) and its district, restricted by the same row
rules as the GraphQL lists (resolvers/access.py), and read in chunks by keyset
on the row id, so an export of any size never sits in memory and holds no
transaction open.
"""

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from auth.caller import Caller
from auth.scopes import Scope
from hub.enums import Scheme
from resolvers.access import AnySelect, readable_datasets
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.export_specs import (
    EXPORTS,
    OWNER,
    PLACE,
    RATINGS,
    Column,
    ExportSpec,
    Selection,
)

CHUNK_ROWS = 2000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(slots=True)
class Export:
    """The columns the caller gets and the rows, a chunk at a time."""

    spec: ExportSpec
    columns: list[Column]
    left_out: list[Column]
    chunks: AsyncIterator[list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class Summary:
    """How many rows an export holds, and whose (for the audit log)."""

    rows: int
    codes: list[str]


def get_spec(name: str) -> ExportSpec:
    """The dataset called `name`, or NOT_FOUND naming the ones there are."""
    spec = EXPORTS.get(name)
    if spec is None:
        raise NotFound(
            f"There is no export {name!r}; use one of: {', '.join(EXPORTS)}.",
            reason="UNKNOWN_DATASET",
        )
    return spec


def require_scope(spec: ExportSpec, caller: Caller) -> None:
    """FORBIDDEN unless the caller holds the dataset's scope."""
    if spec.scope not in caller.scopes:
        raise Forbidden(
            f"Not allowed to export {spec.name}: needs scope {spec.scope.value}",
            reason="MISSING_SCOPE",
            requiredScopes=[[spec.scope.value]],
        )


def parse_as_of(text: str | None, *, today: date, field: str = "asOf") -> date:
    """A calendar date written YYYY-MM-DD; `today` when not given."""
    if text is None:
        return today
    value = text.strip()
    try:
        if not _ISO_DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadUserInput(
            f"{field}: {text!r} is not a calendar date written YYYY-MM-DD",
            reason="INVALID_DATE",
            field=field,
        ) from None


def check_scheme(spec: ExportSpec, scheme: Scheme | None) -> None:
    if scheme is not None and spec is not RATINGS:
        raise BadUserInput(
            f"scheme applies to the ratings export only, not to {spec.name}",
            reason="SCHEME_NOT_APPLICABLE",
            field="scheme",
        )


def split_columns(
    spec: ExportSpec, scopes: frozenset[Scope]
) -> tuple[list[Column], list[Column]]:
    """The columns the scopes allow, and those left out."""
    served = [c for c in spec.columns if c.needs is None or c.needs in scopes]
    return served, [c for c in spec.columns if c not in served]


def _statement(spec: ExportSpec, s: Selection, *exprs: Any) -> AnySelect:
    stmt: AnySelect = (
        select(*exprs)
        .select_from(spec.model)
        .join(OWNER, OWNER.id == spec.owner)
        .join(PLACE, PLACE.code == OWNER.district_code)
        .where(*spec.conditions(s))
    )
    return readable_datasets(
        stmt, s.caller, rule=spec.rule(s), enterprise_id=spec.owner
    )


async def summarize(session: AsyncSession, spec: ExportSpec, s: Selection) -> Summary:
    """Rows and enterprises of the export, in one grouped statement."""
    stmt = _statement(spec, s, OWNER.code, func.count()).group_by(OWNER.code)
    counted = (await session.execute(stmt.order_by(OWNER.code))).all()
    return Summary(sum(n for _, n in counted), [code for code, _ in counted])


def export_rows(
    session: AsyncSession,
    spec: ExportSpec,
    s: Selection,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> Export:
    """The export of `spec` in the caller's view, by row id.

    Raises FORBIDDEN without the dataset's scope. Columns the caller may not
    read are not even selected.
    """
    require_scope(spec, s.caller)
    check_scheme(spec, s.scheme)
    columns, left_out = split_columns(spec, s.caller.scopes)
    stmt = _statement(spec, s, spec.key, *(c.expr for c in columns))
    return Export(
        spec, columns, left_out, _chunks(session, stmt, spec.key, columns, chunk_rows)
    )


async def _chunks(
    session: AsyncSession,
    stmt: AnySelect,
    key: QueryableAttribute[int],
    columns: Sequence[Column],
    size: int,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    converters = [(i, c.convert) for i, c in enumerate(columns) if c.convert]
    after = 0
    while True:
        rows = (
            await session.execute(stmt.where(key > after).order_by(key).limit(size))
        ).all()
        if not rows:
            return
        chunk = []
        for row in rows:
            values = list(row[1:])
            for i, convert in converters:
                values[i] = convert(values[i])
            chunk.append(tuple(values))
        yield chunk
        if len(rows) < size:
            return
        after = rows[-1][0]
