"""Database engine and sessions: the only place that opens, commits or closes them."""

import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    StatementError,
    TimeoutError as PoolTimeout,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_, greenlet_spawn

from hub.config import Settings
from hub.kept import kept_on
from hub.pool import FairQueuePool
from resolvers.feed import drop_queued, flush_queued


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """Build the async engine for SQLite (embedded) or PostgreSQL (production).

    `pool_size` overrides HUB_DB_POOL_SIZE (the audit writer's own engine).
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            pool_pre_ping=True,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        json_serializer=json_text,
        json_deserializer=orjson.loads,
        pool_size=pool_size or settings.db_pool_size,
        # No overflow: connections opened and closed under load cost more than
        # the wait for a pooled one (pool_timeout bounds that wait).
        max_overflow=0,
        # No pre-ping: on asyncpg it costs three round trips (BEGIN, ping,
        # ROLLBACK) per request, more than the lookup itself. A connection
        # the server dropped fails its request with 503 and SQLAlchemy then
        # invalidates the whole pool, so one request per worker sees a restart.
        pool_pre_ping=False,
        pool_recycle=3600,
        pool_timeout=5,
        poolclass=FairQueuePool,  # waiters served in order (hub/pool.py)
        connect_args={"timeout": 5, "server_settings": {"statement_timeout": "5000"}},
    )
    event.listen(engine.sync_engine, "connect", _json_from_bytes)
    return engine


def json_text(value: Any) -> str:
    """A JSON column's stored text (the engines' serializer)."""
    # orjson: a run stores 100,000 explanations; the stdlib encoder is 5x slower.
    return orjson.dumps(value).decode()


def _json_from_bytes(dbapi_connection: Any, _record: Any) -> None:
    """json cells are parsed by orjson from the bytes asyncpg received.

    SQLAlchemy's codec (set just before, on the same event) decodes them to
    str first and orjson then encodes that back to UTF-8: a batch of 100
    enterprises ships 150 KB of JSON cells, mostly Chinese text.
    """
    driver = dbapi_connection.driver_connection
    await_(
        driver.set_type_codec(
            "json",
            encoder=str.encode,
            decoder=orjson.loads,
            schema="pg_catalog",
            format="binary",
        )
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside one writer; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class HubSession(Session):
    """Sessions that number and store their queued change-feed events just
    before they commit (resolvers/feed.py), and drop them on rollback."""


event.listen(HubSession, "before_commit", flush_queued)
event.listen(HubSession, "after_rollback", drop_queued)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=HubSession
    )


async def begin_read_only(session: AsyncSession) -> None:
    """Let a query's statements run without BEGIN/ROLLBACK on PostgreSQL.

    Under READ COMMITTED every statement takes its own snapshot anyway, so a
    transaction around a query's SELECTs only adds two round trips. SQLite
    keeps its transaction: there it is the snapshot that makes the datasets
    of one answer agree.
    """
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def read_only_later(session: AsyncSession) -> None:
    """begin_read_only without taking a connection yet (PostgreSQL).

    The session's first statement, if it sends one, opens its connection in
    AUTOCOMMIT; a query whose statements all go through `fetch_row` never
    opens one.
    """
    bind = session.bind
    if (
        isinstance(bind, AsyncEngine)
        and bind.dialect.name == "postgresql"
        and not session.in_transaction()
    ):
        autocommit = kept_on(
            bind.sync_engine,
            "_hub_autocommit",
            lambda: bind.execution_options(isolation_level="AUTOCOMMIT"),
        )
        session.bind = autocommit
        session.sync_session.bind = autocommit.sync_engine


async def fetch_row(engine: AsyncEngine, sql: str, args: Sequence[Any]) -> Any:
    """The first row of driver SQL, run on a pooled asyncpg connection of its own.

    For a query's statements on PostgreSQL, which run outside a transaction
    anyway (read_only_later): a session's connection, transaction and result
    machinery cost a single lookup about three times the CPU of the statement
    itself (BENCHMARKS.md).
    """
    async with driver_connection(engine) as driver:
        return await driver.fetchrow(sql, *args)


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg connection, handed back on exit.

    The connection comes from the engine's pool, under its timeout. Errors
    inside are raised as SQLAlchemy raises a session's (DBAPIError and its
    kinds), and a lost connection invalidates the pool as SQLAlchemy does, so
    is_unavailable() and the callers' handling read them the same. A body
    that fails, is cancelled or leaves a transaction open gives its
    connection up: the pool opens a new one rather than hand on a connection
    in an unknown state. A body runs its transaction with plain BEGIN and
    COMMIT statements (asyncpg's transaction() records its own state, which
    SQLAlchemy's reset of a returned connection does not see).
    """
    sync = engine.sync_engine
    dialect = sync.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        connection = await greenlet_spawn(sync.raw_connection)
    except dbapi_error as e:
        raise _wrapped(e, dialect, disconnect=False) from e
    driver: Any = connection.driver_connection
    clean = False
    try:
        try:
            yield driver
            clean = not driver.is_in_transaction()
        except Exception as e:
            adapted = cast(Any, connection.dbapi_connection)
            try:
                adapted._handle_exception(e)  # the DBAPI error SQLAlchemy raises
            except dbapi_error as translated:
                disconnect = dialect.is_disconnect(translated, adapted, None)
                if disconnect:
                    await greenlet_spawn(sync.pool._invalidate, connection, translated)
                raise _wrapped(translated, dialect, disconnect=disconnect) from e
            raise
    finally:
        await greenlet_spawn(_hand_back, connection, clean)


def _hand_back(connection: Any, clean: bool) -> None:
    if not clean and connection.is_valid:
        connection.invalidate()
    connection.close()


def _wrapped(error: Exception, dialect: Any, *, disconnect: bool) -> StatementError:
    return DBAPIError.instance(
        None,
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=disconnect,
        dialect=dialect,
    )


async def commit(session: AsyncSession) -> None:
    """Commit a request's or a command's writes: the one place that commits."""
    await session.commit()


def is_unavailable(exc: BaseException) -> bool:
    """True when the error means the database cannot be reached right now.

    That includes a pool with no connection free within its timeout: the
    worker is overloaded, and the caller should come back (503), not be told
    that the hub failed (500).
    """
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        orig = exc.orig
        if isinstance(orig, sqlite3.OperationalError):
            # "unable to open database file", "disk I/O error", "database is locked"
            return (
                "unable to open" in str(orig)
                or "I/O" in str(orig)
                or "locked" in str(orig)
            )
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | TimeoutError | OSError)
