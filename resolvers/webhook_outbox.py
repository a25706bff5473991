"""The webhook outbox: the change feed read per endpoint, and each endpoint's progress.

The change feed is the outbox: events are committed with the change they
describe (resolvers/feed.py), so nothing needs copying and nothing can be
lost between a change and its webhook. An endpoint's `cursor_seq` says how
far it got; the dispatcher reads the next events after it that the
endpoint's agency may see (the feed's row rules, applied to a Caller rebuilt
from the agency and its client), narrowed by the endpoint's datasets, kinds
and watchlist, and moves the cursor only after a 2xx or a dead letter.

Functions take the session and flush; the dispatcher commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from auth.scopes import Scope
from auth.tokens import known_scopes
from hub.enums import FeedDataset
from hub.models import (
    Agency,
    ChangeEvent,
    ChangeHead,
    ExternalClient,
    OAuthClient,
    WatchedEnterprise,
    WebhookDelivery,
    WebhookEndpoint,
)
from hub.webhooks.delivery import Attempt, DeliveryStatus, RetryPolicy
from hub.webhooks.signing import webhook_id
from resolvers.feed import feed_head, feed_rule, visible_datasets

# An endpoint whose client is disabled is looked at again after this long.
PAUSE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint as it is served: where, with which secret, seen as whom."""

    endpoint_id: int
    url: str
    secret_sealed: str
    cursor_seq: int
    caller: Caller
    datasets: frozenset[FeedDataset] | None
    kinds: frozenset[str] | None
    watchlist_only: bool


async def due_endpoints(
    session: AsyncSession, *, now: datetime
) -> list[tuple[int, int]]:
    """(endpoint, agency) ids of endpoints behind the feed, not waiting for a
    retry and not leased."""
    head = select(ChangeHead.seq).where(ChangeHead.id == 1).scalar_subquery()
    rows = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.agency_id)
        .where(
            WebhookEndpoint.removed_at.is_(None),
            WebhookEndpoint.cursor_seq < head,
            or_(
                WebhookEndpoint.next_attempt_at.is_(None),
                WebhookEndpoint.next_attempt_at <= now,
            ),
            or_(
                WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now
            ),
        )
        .order_by(WebhookEndpoint.id)
    )
    return [(endpoint_id, agency_id) for endpoint_id, agency_id in rows]


async def claim(
    session: AsyncSession,
    endpoint_id: int,
    *,
    owner: str,
    now: datetime,
    until: datetime,
) -> bool:
    """Lease the endpoint to one dispatcher; False when another holds it."""
    claimed = await session.scalar(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.removed_at.is_(None),
            or_(
                WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now
            ),
        )
        .values(lease_owner=owner, lease_until=until)
        .returning(WebhookEndpoint.id)
    )
    return claimed is not None


async def release(session: AsyncSession, endpoint_id: int, *, owner: str) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def held_scopes(
    session: AsyncSession, agency_id: int, client_id: str | None
) -> frozenset[Scope]:
    """The scopes the agency's enabled client `client_id` holds (own or
    external); with None, those any of its enabled clients holds."""
    own = select(OAuthClient.scopes).where(
        OAuthClient.agency_id == agency_id, OAuthClient.disabled_at.is_(None)
    )
    external = select(ExternalClient.scopes).where(
        ExternalClient.agency_id == agency_id, ExternalClient.disabled_at.is_(None)
    )
    if client_id is not None:
        own = own.where(OAuthClient.client_id == client_id)
        external = external.where(ExternalClient.subject == client_id)
    held: set[Scope] = set()
    for text in [*await session.scalars(own), *await session.scalars(external)]:
        held |= known_scopes(text)
    return frozenset(held)


async def endpoint_caller(
    session: AsyncSession, endpoint: WebhookEndpoint
) -> Caller | None:
    """Whom the endpoint's deliveries speak to: its agency, with the scopes it
    was registered with that its client (or, registered from the command
    line, any enabled client of the agency) still holds. None: no such client."""
    agency = await session.get(Agency, endpoint.agency_id)
    held = (
        frozenset()
        if agency is None
        else await held_scopes(session, agency.id, endpoint.client_id)
    )
    if agency is None or not held:
        return None
    return Caller.for_agency(
        kind=agency.kind,
        scopes=known_scopes(endpoint.scopes) & held,
        client_id=endpoint.client_id or f"webhook-{endpoint.id}",
        agency_id=agency.id,
        agency_name=agency.name,
        district_code=agency.district_code,
        enterprise_code=agency.enterprise_code,
    )


def target_of(endpoint: WebhookEndpoint, caller: Caller) -> Target:
    return Target(
        endpoint_id=endpoint.id,
        url=endpoint.url,
        secret_sealed=endpoint.secret_sealed,
        cursor_seq=endpoint.cursor_seq,
        caller=caller,
        datasets=frozenset(FeedDataset(d) for d in endpoint.datasets)
        if endpoint.datasets
        else None,
        kinds=frozenset(endpoint.kinds) if endpoint.kinds else None,
        watchlist_only=endpoint.watchlist_only,
    )


async def load_target(
    session: AsyncSession, endpoint_id: int, *, now: datetime
) -> Target | None:
    """The endpoint to serve now, or None: removed, or paused (no client)."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None or endpoint.removed_at is not None:
        return None
    caller = await endpoint_caller(session, endpoint)
    if caller is None:
        endpoint.next_attempt_at = now + PAUSE
        await session.flush()
        return None
    return target_of(endpoint, caller)


def _for(target: Target) -> ColumnElement[bool]:
    """The events meant for the endpoint: its agency's rows, its filters."""
    wanted = visible_datasets(target.caller) & (target.datasets or set(FeedDataset))
    rule = feed_rule(target.caller, wanted)
    if target.kinds is not None:
        rule = rule & ChangeEvent.kind.in_(sorted(target.kinds))
    if target.watchlist_only:
        # A subquery, not a list: a watchlist may hold 100,000 codes.
        rule = rule & ChangeEvent.enterprise_code.in_(
            select(WatchedEnterprise.enterprise_code).where(
                WatchedEnterprise.agency_id == target.caller.agency_id
            )
        )
    return rule


async def next_events(
    session: AsyncSession, target: Target, *, first: int
) -> list[ChangeEvent]:
    """Up to `first` events after the cursor meant for the endpoint, in order.

    When none is left up to the feed's head, the cursor jumps to the head, so
    an endpoint with narrow filters does not rescan the same events forever.
    """
    head = await feed_head(session)
    rows = list(
        await session.scalars(
            select(ChangeEvent)
            .where(
                ChangeEvent.seq > target.cursor_seq,
                ChangeEvent.seq <= head,
                _for(target),
            )
            .order_by(ChangeEvent.seq)
            .limit(first)
        )
    )
    if not rows and head > target.cursor_seq:
        await session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == target.endpoint_id,
                WebhookEndpoint.cursor_seq < head,
            )
            .values(cursor_seq=head, failing_seq=None, first_failed_at=None, failures=0)
        )
    return rows


async def event_for(
    session: AsyncSession, target: Target, seq: int
) -> ChangeEvent | None:
    """Event `seq`, if it is (still) meant for the endpoint."""
    return await session.scalar(
        select(ChangeEvent).where(ChangeEvent.seq == seq, _for(target))
    )


async def record_attempt(
    session: AsyncSession,
    endpoint_id: int,
    seq: int,
    attempt: Attempt,
    *,
    now: datetime,
    policy: RetryPolicy,
    lease_until: datetime,
) -> DeliveryStatus:
    """Log an attempt of the dispatcher and move the endpoint on: past the
    event after a 2xx, to its next retry, or past it as DEAD."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    assert endpoint is not None
    if endpoint.failing_seq != seq:
        endpoint.failing_seq, endpoint.first_failed_at, endpoint.failures = seq, now, 0
    endpoint.failures += 1
    number = endpoint.failures
    retry_at = (
        None
        if attempt.ok
        else policy.after_failure(
            failures=number,
            first_failed_at=endpoint.first_failed_at or now,
            now=now,
            retry_after=attempt.retry_after,
            key=f"{endpoint_id}:{seq}",
        )
    )
    if attempt.ok or retry_at is None:
        status = DeliveryStatus.DELIVERED if attempt.ok else DeliveryStatus.DEAD
        endpoint.cursor_seq = max(endpoint.cursor_seq, seq)
        endpoint.failing_seq = endpoint.first_failed_at = endpoint.next_attempt_at = (
            None
        )
        endpoint.failures = 0
    else:
        status = DeliveryStatus.FAILED
        endpoint.next_attempt_at = retry_at
    endpoint.lease_until = lease_until
    session.add(_delivery(endpoint_id, seq, attempt, number, status, now, manual=False))
    await session.flush()
    return status


async def record_manual(
    session: AsyncSession,
    endpoint_id: int,
    seq: int,
    attempt: Attempt,
    *,
    now: datetime,
) -> WebhookDelivery:
    """Log a redelivery; it changes neither the cursor nor the retry state."""
    tried = await session.scalar(
        select(func.max(WebhookDelivery.attempt)).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.seq == seq
        )
    )
    status = DeliveryStatus.DELIVERED if attempt.ok else DeliveryStatus.FAILED
    row = _delivery(
        endpoint_id, seq, attempt, (tried or 0) + 1, status, now, manual=True
    )
    session.add(row)
    await session.flush()
    return row


def _delivery(
    endpoint_id: int,
    seq: int,
    attempt: Attempt,
    number: int,
    status: DeliveryStatus,
    now: datetime,
    *,
    manual: bool,
) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint_id=endpoint_id,
        seq=seq,
        webhook_id=webhook_id(seq),
        attempt=number,
        manual=manual,
        at=now,
        status=status,
        http_status=attempt.http_status,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )


async def pause(session: AsyncSession, endpoint_id: int, *, until: datetime) -> None:
    """Leave the endpoint alone until `until` (e.g. its secret cannot be read)."""
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(next_attempt_at=until)
    )
