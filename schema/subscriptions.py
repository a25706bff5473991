"""Subscriptions over graphql-transport-ws: `creditEvents(filter)`, the feed live."""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from auth.scopes import Scope
from hub.enums import FeedDataset
from resolvers import subscriptions as resolve
from resolvers.changes import ChangeView
from schema.changes import Change
from schema.directives import requires_any
from schema.types import Info


@strawberry.input(description="Which changes a subscription streams.")
class CreditEventFilter:
    datasets: list[FeedDataset] | None = strawberry.field(
        default=None, description="Only these datasets (default: every one allowed)."
    )
    kinds: list[str] | None = strawberry.field(
        default=None, description="Only these kinds, e.g. DOWNGRADED, PUBLISHED."
    )
    enterprise_codes: list[str] | None = strawberry.field(
        default=None, description="Only these enterprises (credit codes)."
    )
    watchlist_only: bool = strawberry.field(
        default=False, description="Only the enterprises on the caller's watchlist."
    )
    after: str | None = strawberry.field(
        default=None,
        description="Resume after this cursor (a Change.cursor or "
        "changes.endCursor); default: from the moment of subscribing.",
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        directives=requires_any(
            Scope.ratings_read,
            Scope.penalties_read,
            Scope.risk_read,
            Scope.insurance_read,
        ),
        description="The changes the caller may see (the rules of `changes`), "
        "as they are committed, in feed order. Over graphql-transport-ws only; "
        "the socket closes (4401) when the connection's token expires or is revoked.",
    )
    async def credit_events(
        self,
        info: Info,
        filter_: Annotated[
            CreditEventFilter | None, strawberry.argument(name="filter")
        ] = None,
    ) -> AsyncGenerator[Change | None, None]:
        wanted = filter_ or CreditEventFilter()
        async for event in resolve.follow_changes(info.context, _event_filter(wanted)):
            yield _change(event)


def _event_filter(wanted: CreditEventFilter) -> resolve.EventFilter:
    return resolve.EventFilter(
        datasets=wanted.datasets,
        kinds=wanted.kinds,
        enterprise_codes=wanted.enterprise_codes,
        watchlist_only=wanted.watchlist_only,
        after=wanted.after,
    )


def _change(event: ChangeView) -> Change:
    return Change(
        seq=strawberry.ID(str(event.seq)),
        cursor=event.cursor,
        at=event.at,
        dataset=event.dataset,
        kind=event.kind,
        enterprise_code=event.enterprise_code,
        record_id=strawberry.ID(str(event.record_id)),
        payload=JSON(event.payload),
    )
