"""Subscriptions: the change feed followed live, one poll at a time.

A subscription polls the feed (resolvers/feed.py's `changes_after`) every
HUB_SUBSCRIPTION_POLL_SECONDS from its own cursor, with the row rules of the
`changes` query, and yields what is new in order. Each poll opens and closes
its own session: nothing is held while it waits. Polling the table needs no
broker and works across workers, because the feed is numbered in commit order
(a subscriber that has seen seq n has seen everything below n).
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.enums import FeedDataset
from resolvers.changes import ChangeView, decode_cursor
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.feed import changes_after, feed_head
from resolvers.watchlist import parse_codes

POLL_BATCH = 100  # events read per poll; a full batch polls again at once


class Connection(Protocol):
    """What a subscription needs from its socket (hub/ws_auth.py provides it)."""

    async def check(self) -> None:
        """Return while the connection's token stands; otherwise close the
        socket and never return (the transport then cancels the subscription)."""


@dataclass(slots=True)
class SocketContext(Context):
    """The context of one graphql-transport-ws connection, shared by its
    subscriptions. `caller` is set at connection_init; `db` is unused (each
    poll opens its own session from `sessionmaker`)."""

    sessionmaker: async_sessionmaker[AsyncSession] = field(kw_only=True)
    connection: Connection = field(kw_only=True)
    # The connection_init payload; strawberry sets it before on_ws_connect.
    connection_params: dict[str, object] = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants; None means every one it may see."""

    datasets: list[FeedDataset] | None = None
    kinds: list[str] | None = None
    enterprise_codes: list[str] | None = None
    watchlist_only: bool = False
    after: str | None = None  # a feed cursor; None: from now on


async def follow_changes(
    ctx: Context, wanted: EventFilter
) -> AsyncIterator[ChangeView]:
    """The caller's events after `wanted.after` (or from now), as they commit.

    Runs until the subscriber leaves or its token lapses (`ctx.connection`).
    """
    if not isinstance(ctx, SocketContext):
        raise BadUserInput(
            "subscriptions run over graphql-transport-ws only",
            reason="SOCKET_REQUIRED",
            field="creditEvents",
        )
    codes = _checked_codes(wanted.enterprise_codes, ctx.settings.max_batch_codes)
    if wanted.watchlist_only and ctx.caller.agency_id is None:
        raise BadUserInput(
            "the anonymous public has no watchlist",
            reason="NO_WATCHLIST",
            field="filter.watchlistOnly",
        )
    await ctx.connection.check()
    cursor = (
        _start(wanted.after)
        if wanted.after is not None
        else await _head(ctx.sessionmaker)
    )
    kinds = set(wanted.kinds) if wanted.kinds is not None else None
    while True:
        async with ctx.sessionmaker() as session:
            rows, more = await changes_after(
                session,
                caller=ctx.caller,
                after=cursor,
                datasets=set(wanted.datasets) if wanted.datasets else None,
                enterprise_codes=codes,
                watchlist_of=ctx.caller.agency_id if wanted.watchlist_only else None,
                first=POLL_BATCH,
            )
        for row in rows:
            if kinds is None or row.kind in kinds:
                yield ChangeView(
                    row.seq,
                    row.at,
                    row.dataset,
                    row.kind,
                    row.enterprise_code,
                    row.record_id,
                    row.payload,
                )
        if rows:  # past what was filtered out too: it is not read again
            cursor = rows[-1].seq
        if not more:
            await asyncio.sleep(ctx.settings.subscription_poll_seconds)
        await ctx.connection.check()


def _checked_codes(codes: list[str] | None, limit: int) -> set[str] | None:
    if codes is None:
        return None
    if len(codes) > limit:
        raise BadUserInput(
            f"at most {limit} enterprise codes per subscription, got {len(codes)}",
            reason="TOO_MANY_CODES",
            field="filter.enterpriseCodes",
        )
    good, problems = parse_codes(codes, field="filter.enterpriseCodes")
    if problems:
        raise BadUserInput(
            problems[0].message,
            reason=problems[0].reason,
            field=problems[0].field or "filter.enterpriseCodes",
        )
    return set(good)


def _start(after: str) -> int:
    try:
        return decode_cursor(after)
    except BadUserInput as e:
        raise BadUserInput(e.message, reason=e.reason, field="filter.after") from e


async def _head(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The last committed seq: a subscription without a cursor starts after it."""
    async with sessionmaker() as session:
        return await feed_head(session)
