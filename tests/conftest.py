"""Fixtures: a migrated database per backend, the real app, an HTTP client.

Every database test runs on SQLite and, when HUB_TEST_DATABASE_URL is set, on
PostgreSQL too (`.ci/run` sets it).
"""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from hub.models import Base

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL")
# 2026-06-15 12:00 in China Standard Time.
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
DATA_TABLES = [
    t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "district"
]

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            PG_URL is None,
            reason="PostgreSQL run skipped: set HUB_TEST_DATABASE_URL="
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test to enable it",
        ),
    ),
]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        assert PG_URL is not None
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"


@pytest.fixture(scope="session")
async def migrated_engine(
    database_url: str, anyio_backend: str
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(migrated_engine: AsyncEngine) -> AsyncEngine:
    """The migrated database, emptied of business data before each test."""
    async with migrated_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
            )
        else:
            for table in DATA_TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))
    return migrated_engine


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, clock=lambda: NOW)


@pytest.fixture
def app(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Starlette:
    return create_app(settings, sessionmaker=sessionmaker)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c


@pytest.fixture
async def db(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; the test commits what it adds."""
    async with sessionmaker() as session:
        yield session
