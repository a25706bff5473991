"""This worker's data version: bumped whenever any worker or process commits a write.

PostgreSQL triggers on every table a query answer can come from send
`NOTIFY hub_data_changed` when their writing transaction commits (migration
0012). One connection per worker LISTENs for it, outside the pool, and each
notification bumps `value`. The worker that commits a write also bumps it
itself (hub.operation_session), so its own next request cannot be answered
from before the write however late the notification comes.

`live` says whether notifications can be trusted: false until LISTEN is
acknowledged, and again as soon as the connection is lost or fails its
health check (a `SELECT 1` every `check_seconds`, bounded by the same time).
Each change of `live` bumps the version too, since notifications sent
while nobody listened are lost. Whoever caches by this version must serve
nothing while `live` is false (hub/response_cache.py).
"""

import asyncio
import contextlib
import inspect
import logging
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

CHANNEL = "hub_data_changed"
# Tables without the trigger (migration 0012): written on every request or
# delivery, and no cached answer comes from them (hub/response_cache.py).
UNWATCHED = frozenset(
    {
        "audit_entry",
        "audit_enterprise",
        "audit_head",
        "audit_checkpoint",
        "webhook_delivery",
    }
)
RETRY_SECONDS = 1.0

log = logging.getLogger("hub.data_version")

# asyncpg.connect's own keywords: what SQLAlchemy's URL translation adds for
# its adapter (prepared_statement_cache_size, ...) is left out.
_CONNECT_KEYWORDS = frozenset(inspect.signature(asyncpg.connect).parameters)


class DataVersion:
    """A counter that moves on every committed write (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, *, check_seconds: float) -> None:
        self.value = 0
        self.live = False
        self._engine = engine
        self._check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def bump(self) -> None:
        self.value += 1

    def ensure_listening(self) -> None:
        """Start the listener if it is not running (the first request does)."""
        if self._closed or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(
            self._listen_forever(), name="data-version"
        )

    async def aclose(self) -> None:
        self._closed = True
        self._set_live(False)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            self.bump()

    async def _listen_forever(self) -> None:
        while not self._closed:
            try:
                await self._listen_once()
            # Whatever ends it, the cache is off (live is false) until a new
            # connection listens: retrying is all there is to do.
            except Exception as e:
                log.warning("data version listener lost: %s", type(e).__name__)
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_once(self) -> None:
        connection = await self._connect()
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _c: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self._set_live(True)
            while True:
                try:
                    await asyncio.wait_for(lost.wait(), self._check_seconds)
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=self._check_seconds)
                else:
                    raise ConnectionError("the listening connection ended")
        finally:
            self._set_live(False)
            connection.terminate()

    async def _connect(self) -> Any:
        _args, options = self._engine.dialect.create_connect_args(self._engine.url)
        options = {k: v for k, v in options.items() if k in _CONNECT_KEYWORDS}
        return await asyncpg.connect(**options, timeout=self._check_seconds)

    def _notified(self, *_args: object) -> None:
        self.bump()
