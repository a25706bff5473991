"""The change feed through GraphQL: `changes(after, datasets, first)`."""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.enums import FeedDataset
from resolvers.context import Context, serialized
from resolvers.errors import BadUserInput
from resolvers.feed import changes_after

MAX_FIRST = 1000
_PREFIX = "feed:"


@dataclass(frozen=True, slots=True)
class ChangeView:
    seq: int
    at: datetime
    dataset: FeedDataset
    kind: str
    enterprise_code: str
    record_id: int
    payload: dict[str, Any]

    @property
    def cursor(self) -> str:
        return encode_cursor(self.seq)


@dataclass(frozen=True, slots=True)
class ChangePage:
    events: list[ChangeView]
    end_cursor: str | None
    has_next_page: bool


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{seq}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The seq a cursor stands for; the start of the feed for None."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text[len(_PREFIX) :]
    if not text.startswith(_PREFIX) or not (number.isascii() and number.isdigit()):
        raise BadUserInput(
            "after is not a cursor of the change feed",
            reason="INVALID_CURSOR",
            field="after",
        )
    return int(number)


@serialized
async def list_changes(
    ctx: Context,
    *,
    after: str | None,
    datasets: list[FeedDataset] | None,
    first: int,
    watchlist: bool = False,
) -> ChangePage:
    """The events after `after` the caller may see, oldest first."""
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(
            f"first must be between 1 and {MAX_FIRST}, got {first}",
            reason="INVALID_PAGE_SIZE",
            field="first",
        )
    seq = decode_cursor(after)
    rows, more = await changes_after(
        ctx.db,
        caller=ctx.caller,
        after=seq,
        datasets=set(datasets) if datasets else None,
        watchlist_of=(ctx.caller.agency_id or -1) if watchlist else None,
        first=first,
    )
    views = [ChangeView(*r) for r in rows]  # EVENT_COLUMNS are in its order
    ctx.returned_codes.update(v.enterprise_code for v in views)
    end = views[-1].cursor if views else (after if after is not None else None)
    return ChangePage(views, end, more)
