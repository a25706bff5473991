"""Database engine and sessions: the only place that opens, commits or closes them."""

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    TimeoutError as PoolTimeout,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from hub.config import Settings
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
            json_serializer=_json,
            json_deserializer=orjson.loads,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        json_serializer=_json,
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


def _json(value: Any) -> str:
    # orjson: a run stores 100,000 explanations; the stdlib encoder is 5x slower.
    return orjson.dumps(value).decode()


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
