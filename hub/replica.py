"""Read replica: which operations may read from it, and whether it may be used now.

`route_of` is the one routing rule. `Replica` holds the replica's engine and
its health (reachable, in recovery, lag under HUB_REPLICA_MAX_LAG_SECONDS),
probed at most once a second, and hands a routed query its session: on the
replica when it is healthy and answers, else the request's primary session.
"""

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry.types.graphql import OperationType

from auth.caller import Caller
from hub.db import begin_read_only, create_sessionmaker, is_unavailable

log = logging.getLogger("hub.replica")

# How long one health probe's answer is trusted: requests do not each pay a probe.
CHECK_SECONDS = 1.0
# A probe that has not answered by then counts as the replica being away.
PROBE_TIMEOUT_SECONDS = 2.0
# While the replica stays away or behind, the warning is repeated this seldom.
WARN_EVERY_SECONDS = 60.0

# Seconds the replica's replayed data is behind: 0 when it has replayed all it
# received (an idle primary sends nothing, so the last replayed commit may be
# old and still current), else the age of the last replayed commit. NULL ages
# (nothing replayed since the replica started) count as far behind.
LAG_SQL = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           CASE WHEN COALESCE(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(),
                              false)
                THEN 0
                ELSE COALESCE(
                    EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()),
                    1e9)
           END AS lag
    """
)


class Route(enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


def route_of(caller: Caller, operation_type: OperationType) -> Route:
    """Where an operation's statements run: the one routing rule.

    Only queries of callers who see published data alone (the anonymous
    public and every agency but the bureaus themselves) may read the replica:
    what they read changes by publication, so an answer a moment old is still
    right. The bureaus read what they have just written (drafts, reviews,
    notices) and stay on the primary, as do mutations, subscriptions and
    everything outside /graphql (tokens, audit log, exports, the CLI).
    """
    if operation_type is OperationType.QUERY and caller.published_only:
        return Route.REPLICA
    return Route.PRIMARY


class Replica:
    """A PostgreSQL streaming replica and what the hub currently knows of it."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_lag_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.sessionmaker = create_sessionmaker(engine)
        self.max_lag_seconds = max_lag_seconds
        self._monotonic = monotonic
        self._usable = False
        self._checked_until = float("-inf")
        self._warned_until = float("-inf")
        self._lock = asyncio.Lock()
        # The replica's pool has no pre-ping (as the primary's: hub/db.py), but
        # a pooled connection the replica closed is known locally at no cost.
        event.listen(engine.sync_engine, "checkout", _refuse_closed)

    async def read_session(self, primary: AsyncSession) -> AsyncSession:
        """The session a routed query runs on, begun read-only (hub.db).

        The replica's when it is healthy and a connection to it opens; else
        `primary` (the request's own, unused until now), so a replica that is
        away or behind costs the caller nothing but the primary's load.
        """
        if primary.in_transaction() or not await self.usable():
            await begin_read_only(primary)
            return primary
        session = self.sessionmaker()
        try:
            # Opens the connection: an unreachable replica fails here, before
            # anything of the query has run, so the primary can still answer.
            await begin_read_only(session)
        except Exception as e:
            await _close_quietly(session)
            if not is_unavailable(e):
                raise
            self._down(f"the replica is unreachable ({type(e).__name__})")
            await begin_read_only(primary)
            return primary
        await primary.close()  # never used: it holds no connection
        return session

    async def usable(self) -> bool:
        """Reachable, a standby, and no more than the lag limit behind.

        One probe at a time, its answer kept CHECK_SECONDS; requests arriving
        during a probe wait for it rather than probe again.
        """
        if self._monotonic() < self._checked_until:
            return self._usable
        async with self._lock:
            if self._monotonic() < self._checked_until:
                return self._usable
            usable, why = await self._probe()
            if usable:
                if not self._usable and self._warned_until > float("-inf"):
                    log.info("reading public queries from the replica again")
                    self._warned_until = float("-inf")
                self._usable = True
                self._checked_until = self._monotonic() + CHECK_SECONDS
            else:
                self._down(why)
        return self._usable

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def _probe(self) -> tuple[bool, str]:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                async with self.engine.connect() as conn:
                    row = (await conn.execute(LAG_SQL)).one()
        except Exception as e:
            return False, f"the replica is unreachable ({type(e).__name__})"
        if not row.standby:
            return False, "the replica is not in recovery (promoted?)"
        if float(row.lag) > self.max_lag_seconds:
            return False, (
                f"the replica is {float(row.lag):.1f} s behind "
                f"(HUB_REPLICA_MAX_LAG_SECONDS={self.max_lag_seconds:g})"
            )
        return True, ""

    def _down(self, why: str) -> None:
        """Read from the primary for the next CHECK_SECONDS; warn now and then."""
        now = self._monotonic()
        self._usable = False
        self._checked_until = now + CHECK_SECONDS
        if now >= self._warned_until:
            log.warning("public queries read from the primary: %s", why)
            self._warned_until = now + WARN_EVERY_SECONDS


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection the server has closed (asyncpg noticed the socket end) is
    replaced by the pool before use: DisconnectionError makes it reconnect."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the replica closed this connection")


async def _close_quietly(session: AsyncSession) -> None:
    try:
        await session.close()
    except Exception:  # the replica is gone; nothing to hand back
        log.debug("closing a replica session failed", exc_info=True)
