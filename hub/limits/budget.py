"""Per-client budgets: a token bucket of points, refilled continuously.

Like GitHub's GraphQL rate limit, a client spends points (the cost of each
request) from a bucket holding at most `capacity`, refilled at `refill` points
per second; a request the bucket cannot pay is refused, and the caller is told
when enough points will be back. A full bucket is not stored: a client not
seen is a client with a full bucket, so memory holds only clients that spent
recently.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_MEMORY_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Charge:
    """The budget's answer to one request."""

    allowed: bool
    remaining: int  # whole points left after this request
    limit: int  # the bucket's capacity
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until the refused cost can be paid (0 when allowed)


class Budget(Protocol):
    capacity: int
    refill: float

    async def charge(self, key: str, cost: int) -> Charge:
        """Spend `cost` points of `key`'s bucket if it holds them (0: look only)."""
        ...

    async def aclose(self) -> None: ...


def settle(
    points: float, cost: int, *, capacity: int, refill: float
) -> tuple[float, Charge]:
    """Pay `cost` from a bucket holding `points` (already refilled)."""
    allowed = points >= cost
    left = points - cost if allowed else points
    return left, charge_of(allowed, left, cost, capacity=capacity, refill=refill)


def charge_of(
    allowed: bool, left: float, cost: int, *, capacity: int, refill: float
) -> Charge:
    return Charge(
        allowed=allowed,
        remaining=max(0, math.floor(left)),
        limit=capacity,
        reset_seconds=math.ceil(max(0.0, capacity - left) / refill),
        retry_after=0 if allowed else max(1, math.ceil((cost - left) / refill)),
    )


class MemoryBudget:
    """Buckets in this process: each worker keeps its own."""

    def __init__(
        self,
        capacity: int,
        refill: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_MEMORY_KEYS,
    ) -> None:
        self.capacity = capacity
        self.refill = refill
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key: (points, at)

    async def charge(self, key: str, cost: int) -> Charge:
        return self.charge_now(key, cost)

    def charge_now(self, key: str, cost: int) -> Charge:
        now = self.clock()
        found = self._buckets.get(key)
        points = float(self.capacity)
        if found is not None:
            stored, at = found
            points = min(points, stored + max(0.0, now - at) * self.refill)
        left, charge = settle(points, cost, capacity=self.capacity, refill=self.refill)
        # Re-inserted, so the dict's order is least recently charged first.
        self._buckets.pop(key, None)
        if left < self.capacity:
            if len(self._buckets) >= self.max_keys:
                # The least recent client gets a full bucket back early.
                del self._buckets[next(iter(self._buckets))]
            self._buckets[key] = (left, now)
        return charge

    async def aclose(self) -> None:
        return None
