"""Watchlists (贷后监测): the credit codes an agency follows in the feed."""

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from auth.scopes import Scope
from resolvers import watching as resolve
from resolvers.watchlist import WatchlistChange as Done
from schema.directives import requires
from schema.types import Info

REPLACE = "Make the watchlist exactly these codes (codes not given are removed)."


@strawberry.type(description="What a watchlist change did.")
class WatchlistChange:
    added: int
    removed: int
    size: int = strawberry.field(description="Codes watched now (at most 100,000).")

    @classmethod
    def of(cls, done: Done) -> "WatchlistChange":
        return cls(added=done.added, removed=done.removed, size=done.size)


@strawberry.type(description="A page of the caller's watchlist, in code order.")
class Watchlist:
    size: int
    codes: list[str]


@strawberry.type
class WatchlistQuery:
    @strawberry.field(
        directives=requires(Scope.watchlist_manage),
        description="My watchlist: its size and up to `first` codes after `after`.",
    )
    async def watchlist(
        self, info: Info, first: int = 1000, after: str | None = None
    ) -> Watchlist | None:
        page = await resolve.page(info.context, first=first, after=after)
        return Watchlist(size=page.size, codes=page.codes)


@strawberry.type
class WatchlistMutation:
    @strawberry.mutation(
        directives=requires(Scope.watchlist_manage),
        description="Watch these credit codes (at most 10,000 per call).",
    )
    async def watch_enterprises(
        self,
        info: Info,
        codes: list[str],
        replace: Annotated[bool, strawberry.argument(description=REPLACE)] = False,
    ) -> WatchlistChange | None:
        return WatchlistChange.of(
            await resolve.watch(info.context, codes=codes, replace=replace)
        )

    @strawberry.mutation(
        directives=requires(Scope.watchlist_manage),
        description="Stop watching these credit codes.",
    )
    async def unwatch_enterprises(
        self, info: Info, codes: list[str]
    ) -> WatchlistChange | None:
        return WatchlistChange.of(await resolve.unwatch(info.context, codes=codes))

    @strawberry.mutation(
        directives=requires(Scope.watchlist_manage),
        description="Upload the watchlist as CSV or XLSX with a 统一社会信用代码 "
        "(credit_code) column, up to 100,000 rows; by default it replaces the list.",
    )
    async def import_watchlist(
        self,
        info: Info,
        file: Upload,
        replace: Annotated[bool, strawberry.argument(description=REPLACE)] = True,
    ) -> WatchlistChange | None:
        return WatchlistChange.of(
            await resolve.upload(info.context, file=file, replace=replace)
        )
