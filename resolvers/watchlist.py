"""Watchlists (贷后监测): the enterprises an agency follows in the feed.

A bank registers its borrowers' credit codes; the change feed, webhooks and
subscriptions can then be narrowed to them. Any valid credit code may be
watched: whether the hub knows the enterprise is not revealed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.credit_code import CreditCodeError, parse_credit_code
from hub.ingest.problems import Problem
from hub.models import WatchedEnterprise

MAX_WATCHED = 100_000


@dataclass(frozen=True, slots=True)
class WatchlistChange:
    added: int
    removed: int
    size: int


async def watched_codes(session: AsyncSession, agency_id: int | None) -> set[str]:
    """The credit codes an agency watches (empty: none, or no agency)."""
    if agency_id is None:
        return set()
    rows = await session.scalars(
        select(WatchedEnterprise.enterprise_code).where(
            WatchedEnterprise.agency_id == agency_id
        )
    )
    return set(rows)


def parse_codes(codes: Iterable[str], *, field: str) -> tuple[list[str], list[Problem]]:
    """Canonical codes, and a problem for each malformed one (by position)."""
    good: list[str] = []
    problems: list[Problem] = []
    for i, raw in enumerate(codes):
        try:
            good.append(parse_credit_code(raw))
        except CreditCodeError as e:
            problems.append(
                Problem("INVALID_CREDIT_CODE", str(e), field=f"{field}[{i}]")
            )
    return good, problems


async def add_codes(
    session: AsyncSession,
    agency_id: int,
    codes: list[str],
    *,
    now: datetime,
    replace: bool,
) -> WatchlistChange:
    """Watch `codes` (already canonical); with `replace`, watch only them."""
    have = await watched_codes(session, agency_id)
    wanted = set(codes)
    gone = sorted(have - wanted) if replace else []
    new = sorted(wanted - have)
    size = len(have) - len(gone) + len(new)
    if size > MAX_WATCHED:
        raise WatchlistFull(size)
    for start in range(0, len(gone), 1000):
        await session.execute(
            delete(WatchedEnterprise).where(
                WatchedEnterprise.agency_id == agency_id,
                WatchedEnterprise.enterprise_code.in_(gone[start : start + 1000]),
            )
        )
    for start in range(0, len(new), 5000):
        session.add_all(
            WatchedEnterprise(agency_id=agency_id, enterprise_code=code, added_at=now)
            for code in new[start : start + 5000]
        )
        await session.flush()
    return WatchlistChange(len(new), len(gone), size)


async def remove_codes(
    session: AsyncSession, agency_id: int, codes: list[str]
) -> WatchlistChange:
    have = await watched_codes(session, agency_id)
    gone = sorted(have & set(codes))
    for start in range(0, len(gone), 1000):
        await session.execute(
            delete(WatchedEnterprise).where(
                WatchedEnterprise.agency_id == agency_id,
                WatchedEnterprise.enterprise_code.in_(gone[start : start + 1000]),
            )
        )
    return WatchlistChange(0, len(gone), len(have) - len(gone))


class WatchlistFull(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"a watchlist holds at most {MAX_WATCHED} codes, this would be {size}"
        )
        self.size = size
