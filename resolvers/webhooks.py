"""Webhook endpoints: register, list, remove; the delivery log; redeliver one event.

An endpoint belongs to the agency of the client that registered it; every
lookup is confined to the caller's agency, and another agency's endpoint or
delivery answers NOT_FOUND exactly as one that does not exist.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.scopes import Scope, format_scopes
from hub.config import Settings
from hub.enums import FeedDataset
from hub.models import WebhookDelivery, WebhookEndpoint
from hub.webhooks.addresses import AddressRefused, check_url, system_resolver
from hub.webhooks.delivery import DeliveryStatus
from hub.webhooks.secrets import SecretBox
from hub.webhooks.signing import new_secret
from hub.webhooks.transport import new_client, send_event
from resolvers.changes import encode_cursor
from resolvers.context import Context, serialized, writing
from resolvers.errors import BadUserInput, NotFound
from resolvers.feed import FEED_KINDS, feed_head, visible_datasets
from resolvers.webhook_outbox import (
    endpoint_caller,
    event_for,
    record_manual,
    target_of,
)

MAX_ENDPOINTS = 10  # per agency: bounds what one agency asks of the dispatcher
MAX_DELIVERIES = 500


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: int
    url: str
    datasets: list[FeedDataset] | None
    kinds: list[str] | None
    watchlist_only: bool
    cursor: str  # of the change feed: every event up to it is done
    created_at: datetime
    failing_since: datetime | None
    failed_attempts: int
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, e: WebhookEndpoint) -> "WebhookView":
        failing = e.failing_seq is not None
        return cls(
            id=e.id,
            url=e.url,
            datasets=[FeedDataset(d) for d in e.datasets] if e.datasets else None,
            kinds=e.kinds,
            watchlist_only=e.watchlist_only,
            cursor=encode_cursor(e.cursor_seq),
            created_at=e.created_at,
            failing_since=e.first_failed_at if failing else None,
            failed_attempts=e.failures if failing else 0,
            next_attempt_at=e.next_attempt_at if failing else None,
        )


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    endpoint_id: int
    webhook_id: str  # the message id, evt_<seq>
    seq: int
    attempt: int
    manual: bool
    at: datetime
    status: DeliveryStatus
    http_status: int | None
    error: str | None
    duration_ms: int

    @classmethod
    def of(cls, d: WebhookDelivery) -> "DeliveryView":
        return cls(
            d.id,
            d.endpoint_id,
            d.webhook_id,
            d.seq,
            d.attempt,
            d.manual,
            d.at,
            d.status,
            d.http_status,
            d.error,
            d.duration_ms,
        )


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A registered endpoint and its signing secret, shown this once."""

    webhook: WebhookView
    secret: str


async def register_endpoint(
    session: AsyncSession,
    *,
    agency_id: int,
    client_id: str | None,
    scopes: frozenset[Scope],
    url: str,
    datasets: Sequence[FeedDataset] | None,
    kinds: Sequence[str] | None,
    watchlist_only: bool,
    from_start: bool,
    settings: Settings,
    now: datetime,
) -> NewWebhook:
    """Check and store an endpoint; it starts at the feed's head unless `from_start`."""
    readable = visible_datasets(Caller(scopes=scopes))
    if not readable:
        raise BadUserInput(
            "These credentials may read no dataset of the change feed.",
            reason="NO_READABLE_DATASET",
            field="datasets",
        )
    refused = sorted(d.value for d in set(datasets or ()) - readable)
    if refused:
        raise BadUserInput(
            f"Not readable with these credentials: {', '.join(refused)}.",
            reason="DATASET_NOT_ALLOWED",
            field="datasets",
        )
    for i, kind in enumerate(kinds or ()):
        if kind not in FEED_KINDS:
            raise BadUserInput(
                f"{kind!r} is not a kind of change; one of {', '.join(sorted(FEED_KINDS))}.",
                reason="INVALID_KIND",
                field=f"kinds[{i}]",
            )
    count = await session.scalar(
        select(func.count()).where(
            WebhookEndpoint.agency_id == agency_id, WebhookEndpoint.removed_at.is_(None)
        )
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise BadUserInput(
            f"An agency has at most {MAX_ENDPOINTS} webhooks; remove one first.",
            reason="TOO_MANY_WEBHOOKS",
            field="url",
        )
    try:
        target = await check_url(
            url,
            allow_loopback=settings.webhooks_allow_http_loopback,
            resolve=settings.webhooks_resolver or system_resolver,
        )
    except AddressRefused as e:
        raise BadUserInput(
            f"Refused webhook URL: {e.message}.", reason=e.reason, field="url"
        ) from None
    secret = new_secret()
    endpoint = WebhookEndpoint(
        agency_id=agency_id,
        client_id=client_id,
        scopes=format_scopes(scopes),
        url=target.url,
        secret_sealed=SecretBox.from_dir(settings.keys_dir).seal(secret),
        datasets=sorted(d.value for d in set(datasets)) if datasets else None,
        kinds=sorted(set(kinds)) if kinds else None,
        watchlist_only=watchlist_only,
        cursor_seq=0 if from_start else await feed_head(session),
        created_at=now,
        failures=0,
    )
    session.add(endpoint)
    await session.flush()
    return NewWebhook(WebhookView.of(endpoint), secret)


async def list_endpoints(
    session: AsyncSession, *, agency_id: int | None
) -> list[WebhookEndpoint]:
    """Endpoints not removed, of one agency (None: every agency), oldest first."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.removed_at.is_(None))
    if agency_id is not None:
        stmt = stmt.where(WebhookEndpoint.agency_id == agency_id)
    return list(await session.scalars(stmt.order_by(WebhookEndpoint.id)))


async def get_endpoint(
    session: AsyncSession, id: str | int, *, agency_id: int | None
) -> WebhookEndpoint:
    """An endpoint not removed, of the agency (None: any); NotFound otherwise."""
    key = _int_id(id)
    endpoint = None if key is None else await session.get(WebhookEndpoint, key)
    if (
        endpoint is None
        or endpoint.removed_at is not None
        or (agency_id is not None and endpoint.agency_id != agency_id)
    ):
        raise NotFound(f"No webhook {id}.", reason="UNKNOWN_WEBHOOK")
    return endpoint


async def remove_endpoint(
    session: AsyncSession, id: str | int, *, agency_id: int | None, now: datetime
) -> WebhookEndpoint:
    """Stop deliveries for good; the delivery log is kept."""
    endpoint = await get_endpoint(session, id, agency_id=agency_id)
    endpoint.removed_at = now
    await session.flush()
    return endpoint


def _int_id(id: str | int) -> int | None:
    text = str(id)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _agency(ctx: Context) -> int:
    if ctx.caller.agency_id is None:
        raise NotFound("No webhook for callers without an agency.", reason="NO_AGENCY")
    return ctx.caller.agency_id


@writing
async def add_webhook(
    ctx: Context,
    *,
    url: str,
    datasets: list[FeedDataset] | None,
    kinds: list[str] | None,
    watchlist_only: bool,
    from_start: bool,
) -> NewWebhook:
    """Register an endpoint for the caller's agency, seen with the caller's scopes."""
    return await register_endpoint(
        ctx.db,
        agency_id=_agency(ctx),
        client_id=ctx.caller.client_id,
        scopes=ctx.caller.scopes,
        url=url,
        datasets=datasets,
        kinds=kinds,
        watchlist_only=watchlist_only,
        from_start=from_start,
        settings=ctx.settings,
        now=ctx.now,
    )


@serialized
async def list_webhooks(ctx: Context) -> list[WebhookView]:
    return [
        WebhookView.of(e) for e in await list_endpoints(ctx.db, agency_id=_agency(ctx))
    ]


@writing
async def remove_webhook(ctx: Context, *, id: str) -> WebhookView:
    endpoint = await remove_endpoint(ctx.db, id, agency_id=_agency(ctx), now=ctx.now)
    return WebhookView.of(endpoint)


@serialized
async def list_deliveries(
    ctx: Context,
    *,
    endpoint_id: str | None,
    status: DeliveryStatus | None,
    first: int,
) -> list[DeliveryView]:
    """Delivery attempts to the agency's webhooks (or one of them), newest first."""
    if not 1 <= first <= MAX_DELIVERIES:
        raise BadUserInput(
            f"first must be between 1 and {MAX_DELIVERIES}, got {first}",
            reason="INVALID_PAGE_SIZE",
            field="first",
        )
    agency_id = _agency(ctx)
    stmt = select(WebhookDelivery).join(
        WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id
    )
    if endpoint_id is None:
        stmt = stmt.where(WebhookEndpoint.agency_id == agency_id)
    else:
        endpoint = await get_endpoint(ctx.db, endpoint_id, agency_id=agency_id)
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows = await ctx.db.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(first))
    return [DeliveryView.of(d) for d in rows]


@writing
async def redeliver_webhook(ctx: Context, *, delivery_id: str) -> DeliveryView:
    """Send a logged delivery's event once more, now; the cursor does not move."""
    key = _int_id(delivery_id)
    earlier = None if key is None else await ctx.db.get(WebhookDelivery, key)
    endpoint = (
        None
        if earlier is None
        else await ctx.db.get(WebhookEndpoint, earlier.endpoint_id)
    )
    caller = None if endpoint is None else await endpoint_caller(ctx.db, endpoint)
    if (
        earlier is None
        or endpoint is None
        or endpoint.agency_id != _agency(ctx)
        or endpoint.removed_at is not None
        or caller is None
    ):
        raise NotFound(f"No webhook delivery {delivery_id}.", reason="UNKNOWN_DELIVERY")
    event = await event_for(ctx.db, target_of(endpoint, caller), earlier.seq)
    if event is None:
        raise NotFound(
            f"Event {earlier.seq} is no longer meant for this webhook.",
            reason="UNKNOWN_DELIVERY",
        )
    secret = SecretBox.from_dir(ctx.settings.keys_dir).open(endpoint.secret_sealed)
    async with new_client(ctx.settings) as http:
        attempt = await send_event(
            http,
            url=endpoint.url,
            secret=secret,
            event=event,
            now=ctx.now,
            total_timeout=ctx.settings.webhooks_timeout,
        )
    row = await record_manual(ctx.db, endpoint.id, event.seq, attempt, now=ctx.now)
    return DeliveryView.of(row)
