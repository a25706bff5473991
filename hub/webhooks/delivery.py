"""One delivery attempt and what follows from it: the retry schedule, dead letters."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# Up to this share is taken off each delay, so endpoints that failed together
# do not retry in step; derived from the attempt, so a schedule is reproducible.
JITTER = 0.1


class DeliveryStatus(Enum):
    """How an attempt ended (webhook_delivery.status)."""

    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # no 2xx; retried later
    DEAD = "DEAD"  # no 2xx, and the retry window is over: skipped for good


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the receiver did with one request."""

    http_status: int | None
    error: str | None  # None when a 2xx came back
    duration_ms: int
    retry_after: float | None = None  # seconds asked by 429/503 Retry-After

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: base, 2·base, 4·base, ... at most `cap`, until
    `give_up` after the event's first failed attempt; then the event is DEAD."""

    base: timedelta
    cap: timedelta
    give_up: timedelta

    def delay(self, failures: int, *, key: str) -> timedelta:
        """The wait after the `failures`-th failed attempt at one event."""
        seconds = self.base.total_seconds() * 2.0 ** min(failures - 1, 64)
        raw = min(seconds, self.cap.total_seconds())
        digest = hashlib.sha256(f"{key}:{failures}".encode()).digest()
        share = int.from_bytes(digest[:8]) / 2**64
        return timedelta(seconds=raw * (1 - JITTER * share))

    def after_failure(
        self,
        *,
        failures: int,
        first_failed_at: datetime,
        now: datetime,
        retry_after: float | None,
        key: str,
    ) -> datetime | None:
        """When to try again, or None: the event is dead for this endpoint."""
        if now - first_failed_at >= self.give_up:
            return None
        wait = self.delay(failures, key=key)
        if retry_after is not None:
            wait = max(wait, min(timedelta(seconds=retry_after), self.cap))
        return now + wait
