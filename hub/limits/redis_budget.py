"""Budgets in Redis (HUB_REDIS_URL): every worker charges the same buckets.

One Lua script refills and charges a bucket atomically, on the Redis server's
clock, so workers on several hosts agree. A bucket is a hash under
`<prefix><key>` that expires once it would be full again. While Redis cannot
be reached, each worker charges its own in-memory buckets instead (logged):
the limits still hold, per worker, rather than failing open or closed.
"""

import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.limits.budget import Charge, MemoryBudget, charge_of

log = logging.getLogger("hub.limits")

DEFAULT_PREFIX = "hub:budget:"
# A request waits at most this long for Redis before the local buckets answer.
REDIS_TIMEOUT_SECONDS = 0.5

CHARGE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'points', 'at')
local points = capacity
if stored[1] then
  local elapsed = math.max(0, now - tonumber(stored[2]))
  points = math.min(capacity, tonumber(stored[1]) + elapsed * refill)
end
local allowed = 0
if points >= cost then
  points = points - cost
  allowed = 1
end
if points >= capacity then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'points', tostring(points), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - points) / refill * 1000) + 1000)
end
return {allowed, tostring(points)}
"""


class RedisBudget:
    def __init__(
        self,
        url: str,
        capacity: int,
        refill: float,
        *,
        prefix: str = DEFAULT_PREFIX,
        fallback: MemoryBudget | None = None,
    ) -> None:
        self.capacity = capacity
        self.refill = refill
        self.prefix = prefix
        self.fallback = fallback or MemoryBudget(capacity, refill)
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.script = self.redis.register_script(CHARGE_SCRIPT)

    async def charge(self, key: str, cost: int) -> Charge:
        try:
            answer: Any = await self.script(
                keys=[self.prefix + key], args=[self.capacity, self.refill, cost]
            )
        except (RedisError, OSError) as e:
            log.warning("Redis unreachable (%s): charging this worker's budget", e)
            return self.fallback.charge_now(key, cost)
        allowed, left = answer
        return charge_of(
            bool(allowed),
            float(left),
            cost,
            capacity=self.capacity,
            refill=self.refill,
        )

    async def aclose(self) -> None:
        await self.redis.aclose()
