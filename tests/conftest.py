"""Fixtures: a migrated database per backend, the real app, an HTTP client.

Every database test runs on SQLite and, when HUB_TEST_DATABASE_URL is set, on
PostgreSQL too (`.ci/run` sets it).

`make test` runs the suite on pytest-xdist workers (PYTEST_WORKERS). Each worker
is a session of its own: its own SQLite file, and on PostgreSQL its own database
beside the configured one (`test_gw0` for worker gw0 of `.../test`), created
here when missing. Run without xdist, the configured database itself is used.
"""

import asyncio
import gc
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from auth.clients import create_agency, create_client
from auth.scopes import PURPOSE_REQUIRED, PURPOSES, Scope
from hub.app import create_app
from hub.audit.chain import genesis_head
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.migrate import upgrade
from hub.models import Base
from resolvers.feed import feed_genesis

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


# Tests that take minutes, started first under xdist (`load` hands tests out
# in collection order): started last, one would keep a worker busy long after
# the other has finished the rest.
LONGEST_FIRST = ("tests/test_schema_fuzz.py::",)


def pytest_configure(config: pytest.Config) -> None:
    # Every test builds an app, and the process holds hundreds of schemas by
    # the end: CPython's default thresholds walk that heap again and again.
    gc.set_threshold(100_000, 20, 100)
    # pytest imports readline, and GNU readline exports COLUMNS=80 and LINES=24
    # into the C environment, which xdist's workers inherit. The `hub` CLI's
    # rich consoles, made at import, would keep that width for good; without
    # it they read COLUMNS when they print, which the `cli` fixture sets.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


@pytest.hookimpl(trylast=True)  # after pytest has grouped tests by backend
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def worker_database_url(url: str) -> str:
    """`url` with this xdist worker's own database (`test` -> `test_gw0`);
    `url` itself when the suite runs without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(False)


async def _create_database(url: str) -> None:
    """CREATE DATABASE for `url` unless its server already has it (asked
    through the server's `postgres` database)."""
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(False)
    engine = create_engine(Settings(database_url=server))
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SET statement_timeout = 0"))  # not 5 s
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": name},
            )
            if found is None:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_test_url() -> str | None:
    """This worker's PostgreSQL test database (made if missing), or None
    when HUB_TEST_DATABASE_URL is not set."""
    if PG_URL is None:
        return None
    url = worker_database_url(PG_URL)
    if url != PG_URL:
        asyncio.run(_create_database(url))
    return url


@pytest.fixture(scope="session")
def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_test_url: str | None
) -> str:
    if backend == "postgresql":
        assert pg_test_url is not None
        return pg_test_url
    # One path for the session, however often the backend fixture changes.
    directory = tmp_path_factory.getbasetemp() / "sqlite-db"
    directory.mkdir(exist_ok=True)
    return f"sqlite+aiosqlite:///{directory / 'hub.db'}"


@pytest.fixture(scope="session")
async def _migrated_engines(
    anyio_backend: str,
) -> AsyncIterator[dict[str, AsyncEngine]]:
    """Each database's engine by URL, migrated once in the session.

    `backend` is a parametrized session fixture, so pytest tears it and what
    depends on it down whenever the next test wants the other backend, which
    under xdist can happen many times (a worker's tests need not come grouped
    by backend, LONGEST_FIRST runs both backends' fuzzing first); kept here,
    each database is still migrated once.
    """
    engines: dict[str, AsyncEngine] = {}
    yield engines
    for engine in engines.values():
        await engine.dispose()


@pytest.fixture(scope="session")
async def migrated_engine(
    database_url: str, _migrated_engines: dict[str, AsyncEngine]
) -> AsyncEngine:
    if database_url not in _migrated_engines:
        engine = create_engine(Settings(database_url=database_url))
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        _migrated_engines[database_url] = engine
    return _migrated_engines[database_url]


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
        await conn.execute(genesis_head())  # as migration 0003 leaves it
        await conn.execute(feed_genesis())  # as migration 0006 leaves it
    return migrated_engine


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Fixed clock, fresh key directories and checkpoint file, no auth caching."""
    return Settings(
        database_url=database_url,
        clock=lambda: NOW,
        keys_dir=tmp_path / "keys",
        auth_cache_seconds=0,
        audit_batch_wait_ms=0,  # one request at a time: nothing to wait for
        audit_keys_dir=tmp_path / "audit-keys",
        audit_checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
        # Tests write through their own sessions between requests; a kept
        # answer would then depend on when the notification arrives.
        # tests/test_response_cache.py turns it on.
        response_cache_mb=0,
    )


@pytest.fixture
def app(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Starlette:
    return create_app(settings, sessionmaker=sessionmaker)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """httpx on the app; the ASGI transport runs no lifespan, so the audit
    writer (started by its first append) is closed here."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c
    await app.state.audit.aclose()
    if app.state.answers is not None:
        await app.state.answers.aclose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


@dataclass(frozen=True, slots=True)
class Credentials:
    """A registered client and its secret (shown once, as `hub client add` does)."""

    client_id: str
    secret: str
    agency_id: int
    agency_name: str


class Tokens:
    """Real access tokens: agencies and clients made by the code `hub` uses,
    tokens from POST /oauth/token (client_secret_basic).

        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        await client.post("/graphql", json=..., headers=headers)
    """

    def __init__(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.client = client
        self.sessionmaker = sessionmaker
        self._names = itertools.count(1)

    async def register(
        self,
        kind: AgencyKind = AgencyKind.COMMERCIAL_BANK,
        *,
        name: str | None = None,
        district: str | None = None,
        enterprise_code: str | None = None,
        scopes: frozenset[Scope] | None = None,
    ) -> Credentials:
        """An agency of `kind` with one client (the kind's preset unless `scopes`)."""
        if kind is AgencyKind.COUNTY_EPB and district is None:
            district = "320205"
        async with self.sessionmaker() as session:
            agency = await create_agency(
                session,
                name=name or f"{kind.value.lower()}-{next(self._names)}",
                kind=kind,
                district_code=district,
                enterprise_code=enterprise_code,
                now=NOW,
            )
            made = await create_client(session, agency=agency, scopes=scopes, now=NOW)
            await session.commit()
        assert made.secret is not None
        return Credentials(made.client.client_id, made.secret, agency.id, agency.name)

    async def issue(self, credentials: Credentials, scope: str | None = None) -> str:
        """POST /oauth/token for `credentials`; fails the test unless it is 200."""
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        response = await self.client.post(
            "/oauth/token",
            data=form,
            auth=(credentials.client_id, credentials.secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def token(
        self,
        kind: AgencyKind = AgencyKind.COMMERCIAL_BANK,
        *,
        scope: str | None = None,
        **agency: Any,
    ) -> str:
        """A token for a new agency of `kind` (keyword arguments as in register)."""
        return await self.issue(await self.register(kind, **agency), scope)

    async def headers(
        self,
        kind: AgencyKind = AgencyKind.COMMERCIAL_BANK,
        *,
        scope: str | None = None,
        **agency: Any,
    ) -> dict[str, str]:
        """`Authorization: Bearer ...` for a new agency of `kind`, with a
        Hub-Purpose its kind may state when it must state one."""
        headers = {
            "Authorization": f"Bearer {await self.token(kind, scope=scope, **agency)}"
        }
        if kind in PURPOSE_REQUIRED:
            headers["Hub-Purpose"] = min(PURPOSES[kind]).value
        return headers


@pytest.fixture
def tokens(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> Tokens:
    return Tokens(client, sessionmaker)


@pytest.fixture
async def db(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; the test commits what it adds."""
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HUB_* pointing at a fresh migrated database and key directory."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    monkeypatch.setenv("HUB_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)

    async def migrate() -> None:
        engine = create_engine(Settings(database_url=url))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return tmp_path


REPO_VAR = Path(__file__).resolve().parent.parent / "var"


def _state_of_var() -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in REPO_VAR.rglob("*")
        if p.is_file() and "audit" in str(p.relative_to(REPO_VAR))
    }


@pytest.fixture(scope="session", autouse=True)
def _repo_var_untouched() -> Iterator[None]:
    """No test may write the developer's own audit keys or checkpoint file."""
    before = _state_of_var()
    yield
    assert _state_of_var() == before, "a test wrote audit files under var/"
