"""Migrations build exactly the schema the models describe, on both databases."""

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.models import Base

pytestmark = pytest.mark.anyio

# SQLite's name index (migration 0010) is an FTS5 virtual table and the four
# shadow tables FTS5 keeps its index in; no model describes them, since the ORM
# never reads them as tables (resolvers/name_search.py queries them with MATCH).
# Their absence from the models is not drift, and only these names are skipped.
FTS_TABLES = {
    "enterprise_name_fts",
    *(f"enterprise_name_fts_{s}" for s in ("data", "idx", "docsize", "config")),
}


def _not_fts_table(name: str | None, type_: str, parents: object) -> bool:
    return not (type_ == "table" and name in FTS_TABLES)


def _for_this_dialect(dialect: str) -> Callable[..., bool]:
    """Skip model objects declared for another database only (`.ddl_if`),
    such as PostgreSQL's trigram index: create_all would not make them here."""

    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        # ddl_if() keeps its condition in `_ddl_if` (dialect, callable_, state).
        condition = getattr(obj, "_ddl_if", None)
        if condition is None or condition.dialect is None:
            return True
        wanted = condition.dialect
        return dialect in ((wanted,) if isinstance(wanted, str) else wanted)

    return include


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    def diff(sync_conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            sync_conn,
            opts={
                "compare_type": True,
                "include_name": _not_fts_table,
                "include_object": _for_this_dialect(sync_conn.dialect.name),
            },
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_districts_are_reference_data(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT code, successor_code FROM district ORDER BY code")
            )
        ).all()
    assert ("320202", "320213") in [tuple(r) for r in rows]
    assert len(rows) == 11
