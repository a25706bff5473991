"""Keyset pagination with opaque cursors, shared by every list."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import BadUserInput

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated `first`/`after` pair; `after_id` is the last id already seen."""

    first: int
    after_id: int | None
    want_total: bool = False


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    total: int | None


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> int:
    """Return the key inside a cursor of this list, or raise INVALID_CURSOR."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, key = raw.partition(":")
        if prefix != kind or not (key.isascii() and key.isdigit()) or len(key) > 18:
            raise ValueError(raw)
        return int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            "`after` is not a cursor of this list: pass an endCursor from a previous page",
            reason="INVALID_CURSOR",
            field="after",
        ) from None


def page_request(
    kind: str, *, first: int, after: str | None, max_size: int, want_total: bool
) -> PageRequest:
    if first < 0:
        raise BadUserInput(
            f"`first` must be between 0 and {max_size}, got {first}",
            reason="INVALID_PAGE_SIZE",
            field="first",
        )
    if first > max_size:
        raise BadUserInput(
            f"`first` is {first}; a page holds at most {max_size} items",
            reason="PAGE_SIZE_EXCEEDED",
            field="first",
            maxPageSize=max_size,
        )
    after_id = decode_cursor(kind, after) if after is not None else None
    return PageRequest(first=first, after_id=after_id, want_total=want_total)


def make_page(
    kind: str,
    rows: Sequence[T],
    keys: Sequence[int],
    request: PageRequest,
    total: int | None,
) -> Page[T]:
    """Cut the `first + 1` rows fetched into a page and its cursors."""
    items = list(rows[: request.first])
    return Page(
        items=items,
        cursors=[encode_cursor(kind, k) for k in keys[: request.first]],
        has_next=len(rows) > request.first,
        total=total,
    )
