"""Anti-abuse for the portal's public forms: a signed timestamp and a rate limit.

A form carries a token saying when it was served and for which record,
signed with a key of this process: a robot that posts at once, replays an old
form or moves a token to another record is refused. Each address may file a
few forms an hour. Both go with a honeypot field that people never fill.
"""

import hashlib
import hmac
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from hub.webhooks.secrets import load_or_create_key

KEY_FILE = "portal-forms.key"
# Faster than a person fills the form in, or older than anyone takes.
MIN_AGE = timedelta(seconds=3)
MAX_AGE = timedelta(hours=2)


class TokenProblem(Enum):
    INVALID = "INVALID"  # missing, altered, or for another record
    TOO_FAST = "TOO_FAST"
    EXPIRED = "EXPIRED"


class FormTokens:
    """`issued_at.signature` with HMAC-SHA256 over the record and the time.

    The key is a file every worker shares (made by the first that needs it,
    beside the hub's other keys): a form served by one worker may be sent to
    another, since each connection may land on any of them.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        key_file: Path,
        min_age: timedelta = MIN_AGE,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self.clock = clock
        self.key_file = key_file
        self.min_age = min_age
        self.max_age = max_age
        self._loaded: bytes | None = None

    @property
    def _key(self) -> bytes:
        if self._loaded is None:  # on first use: the app may never serve a form
            self._loaded = load_or_create_key(self.key_file)
        return self._loaded

    def issue(self, record: str) -> str:
        issued = int(self.clock().timestamp() * 1000)
        return f"{issued}.{self._sign(record, issued)}"

    def check(self, token: str, record: str) -> TokenProblem | None:
        """None when `token` was issued here for `record`, long enough ago."""
        issued_text, _, signature = token.partition(".")
        if not (issued_text.isascii() and issued_text.isdigit()) or len(token) > 100:
            return TokenProblem.INVALID
        issued = int(issued_text)
        if not hmac.compare_digest(signature, self._sign(record, issued)):
            return TokenProblem.INVALID
        age = timedelta(milliseconds=self.clock().timestamp() * 1000 - issued)
        if age < self.min_age:
            return TokenProblem.TOO_FAST
        if age > self.max_age:
            return TokenProblem.EXPIRED
        return None

    def _sign(self, record: str, issued: int) -> str:
        message = f"{record}\x00{issued}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


class SubmissionLimit:
    """At most `limit` submissions per address in any `window`, in memory.

    Each worker process keeps its own counts: with several workers an address
    may file up to `limit` times the number of workers per window. At most
    `max_addresses` addresses are tracked; the least recently seen go first.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        limit: int = 5,
        window: timedelta = timedelta(hours=1),
        max_addresses: int = 10_000,
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.max_addresses = max_addresses
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()

    def allows(self, address: str) -> bool:
        """Whether `address` may submit now (without counting it)."""
        times = self._seen.get(address)
        return times is None or len(self._pruned(times)) < self.limit

    def record(self, address: str) -> None:
        """Count one submission of `address`, now."""
        times = self._pruned(self._seen.setdefault(address, deque()))
        times.append(self.clock())
        self._seen.move_to_end(address)
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)

    def _pruned(self, times: deque[datetime]) -> deque[datetime]:
        since = self.clock() - self.window
        while times and times[0] <= since:
            times.popleft()
        return times
