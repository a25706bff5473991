"""This worker's data version: bumped whenever any worker or process commits a write.

PostgreSQL triggers on every table a query answer can come from send
`NOTIFY hub_data_changed` when their writing transaction commits (migration
0012). One connection per worker LISTENs for it, outside the pool, and each
notification bumps `value`. The worker that commits a write also bumps it
itself (hub.operation_session), so its own next request cannot be answered
from before the write however late the notification comes.

`live` says whether notifications can be trusted. Every `check_seconds` the
listener sends a probe, a notification of its own on the channel, and
waits as long for it to come back: notifications are trusted only while
they demonstrably arrive. A connection that is lost, hangs, or cannot
receive them (a pooler in transaction mode takes LISTEN and SELECT alike,
then hands the server connection to someone else) turns `live` off within
two intervals. Each change of `live` bumps the version too, since
notifications sent while nobody listened are lost. Whoever caches by this
version must serve nothing while `live` is false (hub/response_cache.py).
Probes carry a payload (the triggers' is empty) and bump nothing.
"""

import asyncio
import contextlib
import inspect
import logging
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.metrics import RESPONSE_CACHE_LISTENING

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
APPLICATION_NAME = "hub data version"  # in pg_stat_activity
PROBE = "probe:"  # payload prefix of the listener's own notifications

log = logging.getLogger("hub.data_version")

# asyncpg.connect's own keywords: what SQLAlchemy's URL translation adds for
# its adapter (prepared_statement_cache_size, ...) is left out.
_CONNECT_KEYWORDS = frozenset(inspect.signature(asyncpg.connect).parameters)


class DataVersion:
    """A counter that moves on every committed write (see the module docstring)."""

    def __init__(
        self, engine: AsyncEngine, *, check_seconds: float, url: str | None = None
    ) -> None:
        """`url` (HUB_DATA_VERSION_URL): where to listen, if not at the
        engine's database, e.g. the primary itself behind a pooler."""
        self.value = 0
        self.live = False
        self._engine = engine
        self._url = make_url(url) if url else engine.url
        self._check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._outage = False  # lost since it last listened (logged once)
        self._name = uuid.uuid4().hex
        self._probes = 0
        self._awaited = ""
        self._returned = asyncio.Event()

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
            RESPONSE_CACHE_LISTENING.inc(1 if live else -1)

    async def _listen_forever(self) -> None:
        while not self._closed:
            try:
                await self._listen_once()
            # Whatever ends it, the cache is off (live is false) until a new
            # connection listens: retrying is all there is to do.
            except Exception as e:
                # Once per outage: a database down for an hour is one line.
                if not self._outage:
                    log.warning("data version listener lost: %s", type(e).__name__)
                self._outage = True
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen_once(self) -> None:
        connection = await self._connect()
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _c: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            while True:
                await self._probe(connection)
                if not self.live:
                    log.info("data version listening")
                    self._outage = False
                self._set_live(True)
                try:
                    await asyncio.wait_for(lost.wait(), self._check_seconds)
                except TimeoutError:
                    continue
                raise ConnectionError("the listening connection ended")
        finally:
            self._set_live(False)
            connection.terminate()

    async def _probe(self, connection: Any) -> None:
        """Send a notification and wait for it to come back (TimeoutError)."""
        self._probes += 1
        self._awaited = f"{PROBE}{self._name}:{self._probes}"
        self._returned = asyncio.Event()
        async with asyncio.timeout(self._check_seconds):
            await connection.fetchval(
                "SELECT pg_notify($1, $2)", CHANNEL, self._awaited
            )
            await self._returned.wait()

    async def _connect(self) -> Any:
        _args, options = self._engine.dialect.create_connect_args(self._url)
        options = {k: v for k, v in options.items() if k in _CONNECT_KEYWORDS}
        settings = {
            **options.pop("server_settings", {}),
            "application_name": APPLICATION_NAME,
        }
        return await asyncpg.connect(
            **options, server_settings=settings, timeout=self._check_seconds
        )

    def _notified(
        self, _connection: object, _pid: int, _channel: str, payload: str
    ) -> None:
        if not payload.startswith(PROBE):
            self.bump()
        elif payload == self._awaited:  # other workers' probes are theirs
            self._returned.set()
