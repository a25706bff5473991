"""Several selects answered in one PostgreSQL round trip, as JSON arrays.

A lookup with its four datasets is five statements; on PostgreSQL each one
costs a round trip plus SQLAlchemy's execution work, more than the GraphQL
work of the answer. `json_rows` turns a select into a scalar subquery that
returns its rows as one JSON array of arrays, so the datasets of a response
come back as the cells of a single row; `row_decoder` turns each JSON row
back into the values SQLAlchemy would have produced for those columns.
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    Integer,
    Numeric,
    ScalarSelect,
    String,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

from resolvers.access import AnySelect

Decode = Callable[[Any], Any]
RowDecoder = Callable[[Sequence[Any]], tuple[Any, ...]]
_DIALECT: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


class NotJsonSafe(Exception):
    """A column whose JSON form would lose information (e.g. a float decimal)."""


def json_rows(stmt: AnySelect, order: Sequence[tuple[str, bool]]) -> ScalarSelect[Any]:
    """`stmt`'s rows as a JSON array of arrays, ordered by (column, descending)."""
    rows = stmt.subquery()
    row = func.json_build_array(*rows.c)
    keys = [rows.c[name].desc() if desc else rows.c[name] for name, desc in order]
    return select(func.json_agg(aggregate_order_by(row, *keys))).scalar_subquery()


def row_decoder(stmt: AnySelect) -> RowDecoder:
    """Decode one JSON row of `stmt` to the values its columns load as."""
    columns = stmt.selected_columns
    width = len(columns)
    # Only the columns JSON does not already give as loaded (dates, enums,
    # scaled types) are converted: a page of 100 enterprises decodes a few
    # thousand rows, and calling an identity function per cell showed.
    converts = tuple(
        (i, d) for i, d in enumerate(_decoder(c.type) for c in columns) if d
    )

    def decode(row: Sequence[Any]) -> tuple[Any, ...]:
        if len(row) != width:
            raise ValueError(f"a JSON row of {len(row)} cells for {width} columns")
        values = list(row)
        for i, convert in converts:
            values[i] = convert(values[i])
        return tuple(values)

    return decode


def _decoder(type_: TypeEngine[Any]) -> Decode | None:
    """How a column's JSON value becomes its loaded value; None: as it is."""
    if isinstance(type_, TypeDecorator):
        inner = _decoder(type_.impl_instance)
        process = type_.process_result_value
        if inner is None:
            return lambda v: process(v, _DIALECT)
        return lambda v: process(inner(v), _DIALECT)
    if isinstance(type_, Enum) and type_.enum_class is not None:
        members = type_.enum_class.__members__
        return lambda v: None if v is None else members[v]
    if isinstance(type_, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(type_, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(type_, Integer | String | Boolean | JSON):
        return None
    if isinstance(type_, Numeric):
        raise NotJsonSafe("numeric columns would come back as floats")
    raise NotJsonSafe(f"no JSON decoder for {type_!r}")
