"""/healthz and /readyz: what each readiness check names, and nothing more."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.db import create_sessionmaker
from hub.models import AuditEntry

pytestmark = pytest.mark.anyio

READY = {"status": "ready"}


def not_ready(*failing: str) -> dict[str, object]:
    return {"status": "not ready", "failing": list(failing)}


async def probe(app: Starlette, path: str = "/readyz") -> httpx.Response:
    """GET `path` on an app that went through its startup (the signing key)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client,
    ):
        return await client.get(path)


@asynccontextmanager
async def app_on(settings: Settings, url: str) -> AsyncIterator[Starlette]:
    engine = create_async_engine(url, pool_pre_ping=True)
    yield create_app(
        replace(settings, database_url=url), sessionmaker=create_sessionmaker(engine)
    )
    await engine.dispose()


class TestHeap:
    async def test_startup_freezes_the_heap_until_shutdown(
        self, app: Starlette
    ) -> None:
        # given: nothing frozen in this process
        assert gc.get_freeze_count() == 0
        # when: the app starts, then stops
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
        # then: start-up's objects were out of the collector's way, then back
        assert frozen > 10_000
        assert gc.get_freeze_count() == 0


class TestHealthz:
    async def test_alive(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})


class TestReadyz:
    async def test_ready(self, app: Starlette, db: AsyncSession) -> None:
        # when
        response = await probe(app)
        # then: ready, and a probe is not audited
        assert (response.status_code, response.json()) == (200, READY)
        assert response.headers["cache-control"] == "no-store"
        assert await db.scalar(select(func.count()).select_from(AuditEntry)) == 0

    async def test_database_gone(self, settings: Settings, tmp_path: Path) -> None:
        # given: the database file's directory does not exist
        url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'hub.db'}"
        async with app_on(settings, url) as app:
            # when
            response = await probe(app)
        # then: only the check's name, not the path or the error
        assert (response.status_code, response.json()) == (503, not_ready("database"))
        assert "gone" not in response.text

    async def test_migrations_behind(self, settings: Settings, tmp_path: Path) -> None:
        # given: an empty database, never migrated
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        async with app_on(settings, url) as app:
            # when
            response = await probe(app)
        # then
        assert (response.status_code, response.json()) == (
            503,
            not_ready("migrations"),
        )

    async def test_audit_writer_stopped(
        self, app: Starlette, client: httpx.AsyncClient
    ) -> None:
        # given: the writer was closed (as at shutdown)
        await client.get("/.well-known/jwks.json")  # loads the signing key
        await app.state.audit.aclose()
        # when
        response = await client.get("/readyz")
        # then
        assert (response.status_code, response.json()) == (503, not_ready("audit"))

    async def test_no_signing_key(self, client: httpx.AsyncClient) -> None:
        # given: no startup ran and no token was issued: the key directory is empty
        # when
        response = await client.get("/readyz")
        # then
        assert (response.status_code, response.json()) == (
            503,
            not_ready("signing_key"),
        )
