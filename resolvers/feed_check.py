"""Continuity of the change feed: events 1..change_head, none missing.

Followers rely on it (resolvers/feed.py): a cursor at n means every event
up to n was seen. A restored or copied database must keep that promise, so
`hub restore` checks it.
"""

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from hub.models import ChangeEvent, ChangeHead


@dataclass(frozen=True, slots=True)
class FeedCheck:
    head: int | None  # change_head's seq; None: the row is missing
    events: int
    first_seq: int | None
    last_seq: int | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is not None:
            return f"FAILED: {self.problem}"
        span = f"seq {self.first_seq}..{self.last_seq}" if self.events else "empty"
        return f"OK: {self.events} events ({span}), change_head {self.head}"


async def check_feed(conn: AsyncConnection) -> FeedCheck:
    """Whether the stored events are exactly 1..change_head (seq is unique)."""
    head = await conn.scalar(select(ChangeHead.seq).where(ChangeHead.id == 1))
    row = (
        await conn.execute(
            select(func.count(), func.min(ChangeEvent.seq), func.max(ChangeEvent.seq))
        )
    ).one()
    events, first, last = int(row[0]), row[1], row[2]
    found = FeedCheck(head, events, first, last)
    if head is None:
        return _failed(found, "the change_head row is missing")
    if last is not None and last > head:
        return _failed(found, f"events after change_head ({head}) up to seq {last}")
    if events == head:
        return found  # unique seqs in 1..head, as many as head: all of them
    if first is None or first > 1:
        return _failed(found, f"seq 1 is missing ({head - events} of {head} missing)")
    following = aliased(ChangeEvent)
    gap = await conn.scalar(
        select(func.min(ChangeEvent.seq + 1)).where(
            ChangeEvent.seq < head,
            ~exists().where(following.seq == ChangeEvent.seq + 1),
        )
    )
    return _failed(found, f"seq {gap} is missing ({head - events} of {head} missing)")


def _failed(found: FeedCheck, problem: str) -> FeedCheck:
    return FeedCheck(found.head, found.events, found.first_seq, found.last_seq, problem)
