"""Tokens whose signature and claims were checked recently: cached per worker.

An ES256 verification costs about as much CPU as the rest of a single
enterprise lookup, and a bank sends the same token thousands of times until
it expires. A token verified once is trusted again without re-checking the
signature for at most `ttl` seconds (HUB_AUTH_CACHE_SECONDS, the same
propagation budget as revocations and disabled clients, auth/directory.py),
and never past its own `exp`. Client state and revocation are still checked
on every request. Tests run with ttl 0, which turns the cache off.
"""

import time
from collections import OrderedDict

from auth.tokens import AccessToken

MAX_ENTRIES = 10_000


class VerifiedTokens:
    """A bounded LRU from the raw token to its verified claims."""

    def __init__(self, *, ttl: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, AccessToken]] = OrderedDict()

    def get(self, raw: str, *, now: int) -> AccessToken | None:
        """The claims of `raw` if verified within ttl and not expired at `now`."""
        if self.ttl <= 0:
            return None
        entry = self._entries.get(raw)
        if entry is None:
            return None
        verified_at, access = entry
        if time.monotonic() - verified_at > self.ttl or now >= access.expires_at:
            del self._entries[raw]
            return None
        self._entries.move_to_end(raw)
        return access

    def put(self, raw: str, access: AccessToken) -> None:
        if self.ttl <= 0:
            return
        self._entries[raw] = (time.monotonic(), access)
        self._entries.move_to_end(raw)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
