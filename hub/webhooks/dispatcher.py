"""The webhook dispatcher (`hub dispatch`): the change feed, delivered to every endpoint.

At least once: an endpoint's cursor moves only after its receiver answered
2xx (or the event was dead-lettered), in a transaction after the request. A
crash or kill -9 anywhere therefore resends the event in flight, and never
skips one; receivers deduplicate on webhook-id (evt_<seq>).

One event per request, in feed order. Each endpoint is served by its own
task (at most HUB_WEBHOOKS_CONCURRENCY at once, and PER_AGENCY of one
agency's), so a slow or dead receiver delays only itself: a failed event is
retried with exponential backoff (HUB_WEBHOOKS_RETRY_*) and the endpoint
waits for it, keeping its order;
HUB_WEBHOOKS_RETRY_HOURS after its first failure the event is DEAD for that
endpoint (logged at ERROR, redeliverable) and the endpoint moves on.

An endpoint is leased to one dispatcher while served (renewed with every
attempt), so several dispatchers may run; a killed one's lease lapses after
2 x HUB_WEBHOOKS_TIMEOUT + 1 s.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from types import TracebackType

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.config import Settings
from hub.db import commit
from hub.metrics import WEBHOOK_FAILURES
from hub.webhooks.delivery import DeliveryStatus, RetryPolicy
from hub.webhooks.secrets import SecretBox, SecretUnreadable
from hub.webhooks.transport import new_client, send_event
from resolvers.webhook_outbox import (
    PAUSE,
    claim,
    due_endpoints,
    load_target,
    next_events,
    pause,
    record_attempt,
    release,
)

log = logging.getLogger("hub.webhooks")

BATCH = 50  # events read per query; the client is re-checked between batches
PER_AGENCY = 4  # endpoints of one agency served at once


class Dispatcher:
    """Delivers due events; `run_once` for what is due now, `run` until stopped."""

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.owner = f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.policy = RetryPolicy(
            base=timedelta(seconds=settings.webhooks_retry_base_seconds),
            cap=timedelta(seconds=settings.webhooks_retry_max_seconds),
            give_up=timedelta(hours=settings.webhooks_retry_hours),
        )
        self.lease = timedelta(seconds=2 * settings.webhooks_timeout + 1)
        self.stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.webhooks_concurrency)
        self._agency_slots: dict[int, asyncio.Semaphore] = {}
        self._running: dict[int, asyncio.Task[int]] = {}
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> "Dispatcher":
        self._http = new_client(self.settings)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()

    def stop(self) -> None:
        """Start no new request; those in flight finish and are recorded."""
        self.stopping.set()

    async def run_once(self) -> int:
        """Deliver everything due now, endpoints in parallel; the attempts made."""
        total = 0
        while not self.stopping.is_set():
            due = await self._due()
            made = sum(await asyncio.gather(*(self._serve(*d) for d in due)))
            if made == 0:
                return total
            total += made
        return total

    async def run(self, *, interval: float) -> None:
        """Look for due endpoints every `interval` seconds until stopped."""
        while not self.stopping.is_set():
            try:
                due = await self._due()
            except Exception:
                log.warning("looking for due webhooks failed", exc_info=True)
                due = []
            for endpoint_id, agency_id in due:
                if endpoint_id not in self._running:
                    self._start(endpoint_id, agency_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), interval)
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _start(self, endpoint_id: int, agency_id: int) -> None:
        task = asyncio.create_task(self._serve(endpoint_id, agency_id))
        self._running[endpoint_id] = task

        def done(task: asyncio.Task[int]) -> None:
            self._running.pop(endpoint_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.warning(
                    "webhook %s: serving failed", endpoint_id, exc_info=task.exception()
                )

        task.add_done_callback(done)

    def _now(self) -> datetime:
        return self.settings.clock()

    async def _due(self) -> list[tuple[int, int]]:
        async with self.sessionmaker() as session:
            return await due_endpoints(session, now=self._now())

    async def _serve(self, endpoint_id: int, agency_id: int) -> int:
        """Lease the endpoint, deliver what it is due, release it; attempts made.

        An agency's own slots are taken first: its slow endpoints wait among
        themselves and never hold more than PER_AGENCY of the shared slots.
        """
        agency_slots = self._agency_slots.setdefault(
            agency_id, asyncio.Semaphore(PER_AGENCY)
        )
        async with agency_slots, self._slots:
            if self.stopping.is_set():
                return 0
            now = self._now()
            async with self.sessionmaker() as session:
                claimed = await claim(
                    session,
                    endpoint_id,
                    owner=self.owner,
                    now=now,
                    until=now + self.lease,
                )
                await commit(session)
            if not claimed:
                return 0
            try:
                return await self._deliver(endpoint_id, agency_id)
            finally:
                async with self.sessionmaker() as session:
                    await release(session, endpoint_id, owner=self.owner)
                    await commit(session)

    async def _deliver(self, endpoint_id: int, agency_id: int) -> int:
        assert self._http is not None, "use the dispatcher as an async context manager"
        made = 0
        while not self.stopping.is_set():
            async with self.sessionmaker() as session:
                target = await load_target(session, endpoint_id, now=self._now())
                events = (
                    await next_events(session, target, first=BATCH) if target else []
                )
                await commit(session)
            if target is None or not events:
                return made
            try:
                secret = SecretBox.from_dir(self.settings.keys_dir).open(
                    target.secret_sealed
                )
            except SecretUnreadable as e:
                log.error("webhook %s: cannot sign: %s", endpoint_id, e)
                async with self.sessionmaker() as session:
                    await pause(session, endpoint_id, until=self._now() + PAUSE)
                    await commit(session)
                return made
            for event in events:
                if self.stopping.is_set():
                    return made
                attempt = await send_event(
                    self._http,
                    url=target.url,
                    secret=secret,
                    event=event,
                    now=self._now(),
                    total_timeout=self.settings.webhooks_timeout,
                )
                made += 1
                async with self.sessionmaker() as session:
                    now = self._now()
                    status = await record_attempt(
                        session,
                        endpoint_id,
                        event.seq,
                        attempt,
                        now=now,
                        policy=self.policy,
                        lease_until=now + self.lease,
                    )
                    await commit(session)
                if status in (DeliveryStatus.FAILED, DeliveryStatus.DEAD):
                    WEBHOOK_FAILURES.labels(str(agency_id)).inc()
                if status is DeliveryStatus.FAILED:
                    log.info(
                        "webhook %s: event %s failed: %s",
                        endpoint_id,
                        event.seq,
                        attempt.error,
                    )
                    return made
                if status is DeliveryStatus.DEAD:
                    log.error(
                        "webhook %s: event %s is dead after retrying: %s",
                        endpoint_id,
                        event.seq,
                        attempt.error,
                    )
        return made
