"""The change feed: every published change, numbered in commit order.

Writers `queue` events in their session as they change things; just before
the transaction commits (hub/db.py's session class), `flush_queued` advances
change_head with one UPDATE, which holds the head row's lock until the
commit, and inserts the events. Two writers therefore never interleave: the
one that commits first has the lower numbers, and a reader that has seen seq
n has seen every event below n. Readers follow with `changes_after` and never
skip an event that commits later with a smaller number: there is none. A
rolled-back transaction's events are dropped with it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Row, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from auth.caller import Caller
from auth.scopes import Scope
from hub.enums import FeedDataset
from hub.models import ChangeEvent, ChangeHead, District, Enterprise, WatchedEnterprise

# The scope a caller needs to see a dataset's events.
FEED_SCOPES: dict[FeedDataset, Scope] = {
    FeedDataset.RATING: Scope.ratings_read,
    FeedDataset.PENALTY: Scope.penalties_read,
    FeedDataset.RISK: Scope.risk_read,
    FeedDataset.INSURANCE: Scope.insurance_read,
}


@dataclass(frozen=True, slots=True)
class NewEvent:
    dataset: FeedDataset
    kind: str  # FINALISED, DOWNGRADED, REPAIRED, PUBLISHED, CHANGED, REVOKED, ...
    enterprise_id: int
    record_id: int
    payload: dict[str, Any]
    at: datetime


QUEUE = "hub.feed"  # key of the queued events in Session.info
# Every kind of change the feed carries.
FEED_KINDS = frozenset(
    {
        "FINALISED",
        "DOWNGRADED",
        "CHANGED",
        "REPAIRED",
        "REVOKED",
        "PUBLISHED",
        "LEVEL_CHANGED",
        "LEVEL_ASSESSED",
        "ENROLLED",
        "LAPSED",
    }
)


def feed_genesis() -> Insert:
    """The head of an empty feed (migration 0006 inserts the same)."""
    return insert(ChangeHead).values(id=1, seq=0)


def queue(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Add events to the session's transaction; they are numbered at commit."""
    session.sync_session.info.setdefault(QUEUE, []).extend(events)


def drop_queued(session: Session) -> None:
    session.info.pop(QUEUE, None)


def flush_queued(session: Session) -> None:
    """Number and store the queued events (called before commit)."""
    events: list[NewEvent] = session.info.pop(QUEUE, [])
    if not events:
        return
    last = session.scalar(
        update(ChangeHead)
        .where(ChangeHead.id == 1)
        .values(seq=ChangeHead.seq + len(events))
        .returning(ChangeHead.seq)
    )
    if last is None:
        raise RuntimeError("change_head is missing: run the migrations")
    first = last - len(events) + 1
    owners = _owners(session, {e.enterprise_id for e in events})
    rows = [
        {
            "seq": first + i,
            "at": e.at,
            "dataset": e.dataset,
            "kind": e.kind,
            "enterprise_code": owners[e.enterprise_id][0],
            "district_code": owners[e.enterprise_id][1],
            "record_id": e.record_id,
            "payload": e.payload,
        }
        for i, e in enumerate(events)
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(ChangeEvent), rows[start : start + 5000])


def _owners(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Credit code and district of each enterprise, kept on its events so
    readers filter by them without a join."""
    found: dict[int, tuple[str, str]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 1000):
        rows = session.execute(
            select(Enterprise.id, Enterprise.code, Enterprise.district_code).where(
                Enterprise.id.in_(ordered[start : start + 1000])
            )
        )
        found.update({id_: (code, district) for id_, code, district in rows})
    return found


async def feed_head(session: AsyncSession) -> int:
    """The newest committed seq: every event up to it is visible."""
    seq = await session.scalar(select(ChangeHead.seq).where(ChangeHead.id == 1))
    if seq is None:
        raise RuntimeError("change_head is missing: run the migrations")
    return int(seq)


def visible_datasets(caller: Caller) -> set[FeedDataset]:
    return {d for d, scope in FEED_SCOPES.items() if scope in caller.scopes}


def feed_rule(caller: Caller, datasets: set[FeedDataset]) -> ColumnElement[bool]:
    """Which events a caller may read: its datasets, its district, itself."""
    rule: ColumnElement[bool] = ChangeEvent.dataset.in_(datasets)
    if caller.districts is not None:
        merged = select(District.code).where(
            District.successor_code.in_(caller.districts)
        )
        rule = rule & (
            ChangeEvent.district_code.in_(caller.districts)
            | ChangeEvent.district_code.in_(merged.scalar_subquery())
        )
    if caller.enterprise_code is not None:
        rule = rule & (ChangeEvent.enterprise_code == caller.enterprise_code)
    return rule if datasets else ~true()


# In the order of resolvers/changes.py's ChangeView fields.
EVENT_COLUMNS = (
    ChangeEvent.seq,
    ChangeEvent.at,
    ChangeEvent.dataset,
    ChangeEvent.kind,
    ChangeEvent.enterprise_code,
    ChangeEvent.record_id,
    ChangeEvent.payload,
)

EventRow = Row[int, datetime, FeedDataset, str, str, int, dict[str, object]]


async def changes_after(
    session: AsyncSession,
    *,
    caller: Caller,
    after: int,
    datasets: set[FeedDataset] | None,
    enterprise_codes: set[str] | None = None,
    watchlist_of: int | None = None,
    first: int,
) -> tuple[list[EventRow], bool]:
    """Up to `first` events after seq `after` that the caller may see, in
    order, and whether more follow; `watchlist_of` narrows them to an
    agency's watchlist. Rows of EVENT_COLUMNS, not ORM objects: readers only
    read them, and the ORM's per-object bookkeeping was about 9 % of a feed
    page's profile."""
    wanted = visible_datasets(caller) & (datasets or set(FeedDataset))
    stmt = (
        select(*EVENT_COLUMNS)
        .where(ChangeEvent.seq > after, feed_rule(caller, wanted))
        .order_by(ChangeEvent.seq)
        .limit(first + 1)
    )
    if enterprise_codes is not None:
        stmt = stmt.where(ChangeEvent.enterprise_code.in_(enterprise_codes))
    if watchlist_of is not None:  # a subquery: a watchlist holds up to 100,000 codes
        stmt = stmt.where(
            ChangeEvent.enterprise_code.in_(
                select(WatchedEnterprise.enterprise_code)
                .where(WatchedEnterprise.agency_id == watchlist_of)
                .scalar_subquery()
            )
        )
    rows = list((await session.execute(stmt)).all())
    return rows[:first], len(rows) > first
