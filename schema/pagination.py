"""Relay-style connections shared by every list."""

from typing import Generic, TypeVar

import strawberry

from resolvers.context import Context
from resolvers.pagination import Page, PageRequest, page_request
from schema.selection import selects

T = TypeVar("T")

PAGE_SIZE_NOTE = (
    "`first` is the page size: 0 to 100 (default 20); more is refused with "
    "BAD_USER_INPUT / PAGE_SIZE_EXCEEDED, never truncated. `after` takes the "
    "`pageInfo.endCursor` of the previous page."
)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T] = strawberry.field(description="The page's items, without cursors.")
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="Items matching the filter across all pages (counted only when asked for)."
    )

    @classmethod
    def from_page(cls, page: Page[T]) -> "Connection[T]":
        return cls(
            edges=[
                Edge(cursor=c, node=n)
                for c, n in zip(page.cursors, page.items, strict=True)
            ],
            nodes=page.items,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total if page.total is not None else 0,
        )


def page_request_for(
    info: strawberry.Info[Context, None], kind: str, first: int, after: str | None
) -> PageRequest:
    """Validate `first`/`after` and note whether the selection asks for totalCount."""
    return page_request(
        kind,
        first=first,
        after=after,
        max_size=info.context.settings.max_page_size,
        want_total=selects(info.selected_fields, "totalCount"),
    )
