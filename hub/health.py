"""Probes: /healthz (the process answers) and /readyz (it can serve).

/readyz checks, each by name:

- database: `SELECT 1` answers within CHECK_TIMEOUT_SECONDS;
- migrations: the database's alembic revision is the code's head;
- audit: the audit writer accepts entries (not stopped, queue not full);
- signing_key: the token signing key is loaded.

It answers 200 `{"status": "ready"}` or 503 `{"status": "not ready",
"failing": [...]}` with only the names: no hosts, versions or errors (those
are logged). Neither probe is authenticated or audited.
"""

import asyncio
import logging

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.keys import KeyStore
from hub.audit.writer import AuditWriter
from hub.migrate import alembic_config, current_revision

log = logging.getLogger("hub.health")

CHECK_TIMEOUT_SECONDS = 2.0
NO_STORE = {"Cache-Control": "no-store"}


class Readiness:
    def __init__(self, engine: AsyncEngine, audit: AuditWriter, keys: KeyStore) -> None:
        self.engine = engine
        self.audit = audit
        self.keys = keys
        self.head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    async def failing(self) -> list[str]:
        """The names of the checks that fail, in a fixed order."""
        failing = await self._database()
        if not self.audit.accepting:
            failing.append("audit")
        if not await self._signing_key():
            failing.append("signing_key")
        return failing

    async def _database(self) -> list[str]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                    revision = await current_revision(conn)
        except Exception as e:
            log.warning("readiness: database check failed: %s", type(e).__name__)
            return ["database"]
        return [] if revision == self.head else ["migrations"]

    async def _signing_key(self) -> bool:
        try:
            return await asyncio.to_thread(self.keys.current) is not None
        except Exception as e:
            log.warning("readiness: signing key check failed: %s", type(e).__name__)
            return False


def health_routes(readiness: Readiness) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    async def readyz(_request: Request) -> Response:
        failing = await readiness.failing()
        if failing:
            body = {"status": "not ready", "failing": failing}
            return JSONResponse(body, 503, headers=NO_STORE)
        return JSONResponse({"status": "ready"}, headers=NO_STORE)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
