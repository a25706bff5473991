"""Who a verified token speaks for, and whether it was revoked: cached per worker.

Checking a signature needs no database; these two questions do. Asking the
database on every request would double the cost of a GraphQL call, so each
worker keeps:

- clients (and external mappings) with their agency, for `ttl` seconds;
- the set of revoked jtis that have not expired yet, reloaded at most every
  `ttl` seconds, plus jtis this worker revoked itself (added at once).

Propagation budget: a revocation, a disabled client or a changed scope made
through any worker or the CLI takes effect on every worker within `ttl`
seconds (HUB_AUTH_CACHE_SECONDS, default 5; tests use 0).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.scopes import Scope
from auth.tokens import known_scopes
from hub.enums import AgencyKind
from hub.models import Agency, ExternalClient, OAuthClient, RevokedToken

# revoked_token also records spent client assertions (auth/server.py); their
# keys carry this prefix and are not access tokens, so they are not loaded.
SPENT_ASSERTION_PREFIX = "a:"


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A client (own or external) as the middleware needs it."""

    client_id: str
    disabled: bool
    scopes: frozenset[Scope]
    agency_id: int
    agency_name: str
    kind: AgencyKind
    district_code: str | None
    enterprise_code: str | None
    persisted_only: bool = False


class Directory:
    """Cached client, external-mapping and revocation lookups for one worker."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, ttl: float
    ) -> None:
        self.sessionmaker = sessionmaker
        self.ttl = ttl
        self._clients: dict[tuple[str, str], tuple[float, ClientRecord | None]] = {}
        self._revoked: dict[str, datetime] = {}
        self._revoked_loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def client(self, client_id: str) -> ClientRecord | None:
        """The hub's own client with this client_id, or None."""
        return await self._cached(("", client_id), self._load_client)

    async def external_client(self, issuer: str, subject: str) -> ClientRecord | None:
        """The agency mapped to (issuer, subject), or None."""
        return await self._cached((issuer, subject), self._load_external)

    async def is_revoked(self, jti: str, *, now: datetime) -> bool:
        """True when the jti is on the deny list (as of the last reload)."""
        loaded = self._revoked_loaded_at
        if loaded is None or time.monotonic() - loaded >= self.ttl:
            async with self._lock:
                loaded = self._revoked_loaded_at
                if loaded is None or time.monotonic() - loaded >= self.ttl:
                    await self._load_revoked(now)
        return jti in self._revoked

    def note_revoked(self, jti: str, expires_at: datetime) -> None:
        """This worker revoked a token: refuse it at once, before the next reload."""
        self._revoked[jti] = expires_at

    async def _cached(
        self,
        key: tuple[str, str],
        load: Callable[[AsyncSession, str, str], Awaitable[ClientRecord | None]],
    ) -> ClientRecord | None:
        hit = self._clients.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        async with self.sessionmaker() as session:
            record = await load(session, *key)
        self._clients[key] = (now, record)
        return record

    async def _load_client(
        self, session: AsyncSession, _issuer: str, client_id: str
    ) -> ClientRecord | None:
        row = (
            await session.execute(
                select(OAuthClient, Agency)
                .join(Agency, Agency.id == OAuthClient.agency_id)
                .where(OAuthClient.client_id == client_id)
            )
        ).first()
        if row is None:
            return None
        client, agency = row
        record = _record(client.client_id, client.disabled_at, client.scopes, agency)
        return replace(record, persisted_only=client.persisted_only)

    async def _load_external(
        self, session: AsyncSession, issuer: str, subject: str
    ) -> ClientRecord | None:
        row = (
            await session.execute(
                select(ExternalClient, Agency)
                .join(Agency, Agency.id == ExternalClient.agency_id)
                .where(
                    ExternalClient.issuer == issuer, ExternalClient.subject == subject
                )
            )
        ).first()
        if row is None:
            return None
        mapping, agency = row
        return _record(subject, mapping.disabled_at, mapping.scopes, agency)

    async def _load_revoked(self, now: datetime) -> None:
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(RevokedToken.jti, RevokedToken.expires_at).where(
                    RevokedToken.expires_at > now,
                    RevokedToken.jti.not_like(f"{SPENT_ASSERTION_PREFIX}%"),
                )
            )
            fresh = dict(rows.all())
        # Keep local revocations the database may not show yet (other session).
        fresh.update({j: e for j, e in self._revoked.items() if e > now})
        self._revoked = fresh
        self._revoked_loaded_at = time.monotonic()


def _record(
    client_id: str, disabled_at: datetime | None, scopes: str, agency: Agency
) -> ClientRecord:
    return ClientRecord(
        client_id=client_id,
        disabled=disabled_at is not None,
        scopes=known_scopes(scopes),
        agency_id=agency.id,
        agency_name=agency.name,
        kind=agency.kind,
        district_code=agency.district_code,
        enterprise_code=agency.enterprise_code,
    )
