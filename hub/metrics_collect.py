"""Gauges read from the process and the database: pool use, outbox backlog.

Pool use follows SQLAlchemy's checkout/checkin events, so every worker's
gauge is current (a scrape reaches one worker; multiprocess mode sums the
live ones). The outbox backlog is one database-wide number, read with one
query when /metrics is scraped.
"""

import asyncio
import logging
import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client import Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.models import ChangeHead, WebhookEndpoint

log = logging.getLogger("hub.metrics")

BACKLOG_TIMEOUT_SECONDS = 2.0

POOL_IN_USE = Gauge(
    "hub_db_pool_connections_in_use",
    "Connections checked out of the pool (pool=requests|audit).",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "hub_db_pool_size",
    "Connections the pool keeps (pool=requests|audit).",
    ["pool"],
    multiprocess_mode="livesum",
)

_watched: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """Keep `hub_db_pool_*{pool=name}` current for `engine` (once per engine)."""
    sync = engine.sync_engine
    if sync in _watched:
        return
    _watched.add(sync)

    def checked_out(*_args: Any) -> None:
        _set_pool(sync, name, held=0)

    def checked_in(*_args: Any) -> None:
        # Fired before the connection is back in the pool: it still counts.
        _set_pool(sync, name, held=-1)

    event.listen(sync, "checkout", checked_out)
    event.listen(sync, "checkin", checked_in)


def _set_pool(engine: Engine, name: str, *, held: int) -> None:
    pool = engine.pool
    checkedout = getattr(pool, "checkedout", None)
    size = getattr(pool, "size", None)
    if callable(checkedout):
        POOL_IN_USE.labels(name).set(max(checkedout() + held, 0))
    if callable(size):
        POOL_SIZE.labels(name).set(size())


class _Families(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(self.families)


class Sampler:
    """What /metrics reads at scrape time from this process's engines."""

    def __init__(
        self,
        pools: dict[str, AsyncEngine],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.pools = pools
        self.sessionmaker = sessionmaker
        for name, engine in pools.items():
            watch_pool(engine, name)

    def sample(self) -> None:
        for name, engine in self.pools.items():
            _set_pool(engine.sync_engine, name, held=0)

    async def scrape_time(self) -> Collector:
        """The outbox backlog; left out when the database does not answer."""
        families = []
        backlog = await self.outbox_backlog()
        if backlog is not None:
            family = GaugeMetricFamily(
                "hub_webhook_outbox_backlog",
                "Change-feed events after the slowest webhook endpoint's cursor.",
            )
            family.add_metric([], backlog)
            families.append(family)
        return _Families(families)

    async def outbox_backlog(self) -> int | None:
        slowest = (
            select(func.min(WebhookEndpoint.cursor_seq))
            .where(WebhookEndpoint.removed_at.is_(None))
            .scalar_subquery()
        )
        query = select(ChangeHead.seq - slowest).where(ChangeHead.id == 1)
        try:
            async with asyncio.timeout(BACKLOG_TIMEOUT_SECONDS):
                async with self.sessionmaker() as session:
                    value = await session.scalar(query)
        except Exception:
            log.warning("outbox backlog not read", exc_info=True)
            return None
        return max(int(value), 0) if value is not None else 0
