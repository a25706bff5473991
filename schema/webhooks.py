"""Webhooks: an agency's endpoints for change events, their delivery log, redelivery."""

from datetime import datetime
from typing import Annotated

import strawberry

import schema.changes  # noqa: F401 - registers FeedDataset
from auth.scopes import Scope
from hub.enums import FeedDataset
from hub.webhooks.delivery import DeliveryStatus
from resolvers import webhooks as resolve
from schema.directives import requires
from schema.types import Info

strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="How an attempt ended: DELIVERED (2xx), FAILED (retried later), "
    "DEAD (no 2xx before the retry window closed: skipped, redeliverable).",
)


@strawberry.type(
    description="Where the hub POSTs change events for the agency, one per request, "
    "signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."
)
class Webhook:
    id: strawberry.ID
    url: str
    datasets: list[FeedDataset] | None = strawberry.field(
        description="Null: every dataset the registering credentials may read."
    )
    kinds: list[str] | None = strawberry.field(description="Null: every kind.")
    watchlist_only: bool = strawberry.field(
        description="Only events about enterprises on the agency's watchlist."
    )
    cursor: str = strawberry.field(
        description="Every event up to this feed cursor is done (as `changes(after:)`)."
    )
    created_at: datetime
    failing_since: datetime | None = strawberry.field(
        description="First failure of the event now being retried."
    )
    failed_attempts: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When the failing event is tried again."
    )


@strawberry.type(description="One attempt to deliver one event to a webhook.")
class WebhookDelivery:
    id: strawberry.ID
    endpoint_id: strawberry.ID = strawberry.field(description="The webhook's id.")
    webhook_id: str = strawberry.field(
        description="The message id (evt_<seq>, header webhook-id): the same for "
        "every attempt at the event; receivers deduplicate on it."
    )
    seq: strawberry.ID = strawberry.field(description="The event's feed position.")
    attempt: int = strawberry.field(description="1 for the first try of the event.")
    manual: bool = strawberry.field(description="Sent by redeliverWebhook.")
    at: datetime
    status: DeliveryStatus
    http_status: int | None
    error: str | None = strawberry.field(description="Why it failed (shortened).")
    duration_ms: int


@strawberry.type(description="A registered webhook and its signing secret.")
class AddWebhookSuccess:
    webhook: Webhook
    secret: str = strawberry.field(
        description="whsec_...: shown this once; verify signatures with it."
    )


WEBHOOK_ID = Annotated[strawberry.ID, strawberry.argument(description="Webhook id.")]


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        graphql_type=list[Webhook] | None,
        directives=requires(Scope.webhooks_manage),
        description="The agency's webhooks, oldest first.",
    )
    async def webhooks(self, info: Info) -> list[resolve.WebhookView]:
        return await resolve.list_webhooks(info.context)

    @strawberry.field(
        graphql_type=list[WebhookDelivery] | None,
        directives=requires(Scope.webhooks_manage),
        description="Delivery attempts to the agency's webhooks (or to one), "
        "newest first.",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this webhook's."),
        ] = None,
        status: DeliveryStatus | None = None,
        first: int = 50,
    ) -> list[resolve.DeliveryView]:
        return await resolve.list_deliveries(
            info.context, endpoint_id=endpoint_id, status=status, first=first
        )


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(
        graphql_type=AddWebhookSuccess | None,
        directives=requires(Scope.webhooks_manage),
        description="Register an https endpoint for the agency's change events "
        "(datasets and kinds: null for all; fromStart: the whole feed, else from "
        "now). Private, loopback, link-local and metadata addresses are refused.",
    )
    async def add_webhook(
        self,
        info: Info,
        url: str,
        datasets: list[FeedDataset] | None = None,
        kinds: list[str] | None = None,
        watchlist_only: bool = False,
        from_start: bool = False,
    ) -> resolve.NewWebhook:
        return await resolve.add_webhook(
            info.context,
            url=url,
            datasets=datasets,
            kinds=kinds,
            watchlist_only=watchlist_only,
            from_start=from_start,
        )

    @strawberry.mutation(
        graphql_type=Webhook | None,
        directives=requires(Scope.webhooks_manage),
        description="Stop a webhook for good; its delivery log is kept.",
    )
    async def remove_webhook(self, info: Info, id: WEBHOOK_ID) -> resolve.WebhookView:
        return await resolve.remove_webhook(info.context, id=id)

    @strawberry.mutation(
        graphql_type=WebhookDelivery | None,
        directives=requires(Scope.webhooks_manage),
        description="Send a delivery's event once more, now (e.g. a DEAD one); "
        "the answer is the new attempt.",
    )
    async def redeliver_webhook(
        self,
        info: Info,
        delivery_id: Annotated[
            strawberry.ID, strawberry.argument(description="A delivery's id.")
        ],
    ) -> resolve.DeliveryView:
        return await resolve.redeliver_webhook(info.context, delivery_id=delivery_id)
