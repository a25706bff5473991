"""One request's data for the synchronous authlib calls: read before, written after.

authlib's classes never touch the database; auth/server/adapter.py loads an
`Exchange`, binds it for the duration of the authlib call (a context variable,
copied into the worker thread), then persists what authlib recorded in it.
"""

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from auth.directory import SPENT_ASSERTION_PREFIX
from auth.server.models import HubClient
from auth.tokens import AccessToken


@dataclass(slots=True)
class Exchange:
    """What one request's authlib call may read, and what it leaves to persist."""

    now: int
    clients: dict[str, HubClient]
    request_id: str = "-"
    seen_jtis: frozenset[str] = frozenset()
    spent_assertions: list[tuple[str, str, int]] = field(default_factory=list)
    revocations: list[AccessToken] = field(default_factory=list)


_EXCHANGE: ContextVar[Exchange] = ContextVar("oauth_exchange")


def current_exchange() -> Exchange:
    return _EXCHANGE.get()


@contextmanager
def bound(exchange: Exchange) -> Iterator[None]:
    """Make `exchange` the current one for authlib calls made inside the block."""
    token = _EXCHANGE.set(exchange)
    try:
        yield
    finally:
        _EXCHANGE.reset(token)


def spent_assertion_key(client_id: str, jti: str) -> str:
    """revoked_token key of a used client assertion: one per (client, jti)."""
    digest = hashlib.sha256(f"{client_id}\0{jti}".encode()).digest()
    return SPENT_ASSERTION_PREFIX + base64.urlsafe_b64encode(digest).decode()[:43]
