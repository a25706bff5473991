"""The change feed: every published change, in commit order, for mirroring."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from auth.scopes import Scope
from hub.enums import FeedDataset
from resolvers import changes as resolve
from schema.directives import requires_any
from schema.types import Info

strawberry.enum(
    FeedDataset,
    description="What a change is about: RATING (a grade finalised, downgraded, "
    "changed, repaired or revoked), PENALTY (published, changed, revoked), RISK "
    "(a level changed or confirmed), INSURANCE (enrolled, lapsed).",
)


@strawberry.type(description="One change: seq orders the feed without gaps.")
class Change:
    seq: strawberry.ID = strawberry.field(
        description="Position in the feed (increasing)."
    )
    cursor: str = strawberry.field(description="Resume after this event with it.")
    at: datetime
    dataset: FeedDataset
    kind: str = strawberry.field(
        description="FINALISED, DOWNGRADED, CHANGED, REPAIRED, REVOKED, PUBLISHED, "
        "LEVEL_CHANGED, LEVEL_ASSESSED, ENROLLED, LAPSED."
    )
    enterprise_code: str
    record_id: strawberry.ID = strawberry.field(
        description="The rating, penalty, ... id."
    )
    payload: JSON = strawberry.field(description="The changed record's key fields.")


@strawberry.type(description="A page of the change feed.")
class ChangePage:
    nodes: list[Change]
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; keep it to resume later."
    )
    has_next_page: bool


@strawberry.type
class ChangesQuery:
    @strawberry.field(
        directives=requires_any(
            Scope.ratings_read,
            Scope.penalties_read,
            Scope.risk_read,
            Scope.insurance_read,
        ),
        description="The changes after `after` that the caller may see (its "
        "datasets by scope, its district, itself), oldest first, without gaps or "
        "repeats: a downstream system mirrors the hub by following it from the start.",
    )
    async def changes(
        self,
        info: Info,
        after: str | None = None,
        datasets: list[FeedDataset] | None = None,
        first: int = 100,
        watchlist: Annotated[
            bool,
            strawberry.argument(description="Only the enterprises on my watchlist."),
        ] = False,
    ) -> ChangePage | None:
        page = await resolve.list_changes(
            info.context,
            after=after,
            datasets=datasets,
            first=first,
            watchlist=watchlist,
        )
        return ChangePage(
            nodes=[
                Change(
                    seq=strawberry.ID(str(e.seq)),
                    cursor=e.cursor,
                    at=e.at,
                    dataset=e.dataset,
                    kind=e.kind,
                    enterprise_code=e.enterprise_code,
                    record_id=strawberry.ID(str(e.record_id)),
                    payload=JSON(e.payload),
                )
                for e in page.events
            ],
            end_cursor=page.end_cursor,
            has_next_page=page.has_next_page,
        )
