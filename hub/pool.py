"""A connection pool that serves the requests waiting for a connection in order.

SQLAlchemy's asyncio pool queues connections in an `asyncio.Queue`, which
lets a newly arriving request take a connection that was just returned for a
request already waiting; that waiter wakes to an empty queue and goes to the
back of the line. Under a steady overload one unlucky request can lose that
race for seconds: in the API benchmark single requests waited 2.4-2.6 s and
one ran into the pool's 5 s timeout (BENCHMARKS.md) while the median waited
a few milliseconds. Here a returned connection is handed to the longest
waiter directly, and a request finds a free connection only when nobody is
waiting for one.
"""

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full


class FairQueue(AsyncAdaptedQueue[Any]):
    """First come, first served: a returned item goes to the oldest waiter."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # not timed out meanwhile
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # bounded by the pool's size: never waits

    def get_nowait(self) -> Any:
        while self._waiters and self._waiters[0].done():  # timed out or cancelled
            self._waiters.popleft()
        if not self._items or self._waiters:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            return self.get_nowait()
        except Empty:
            if not block:
                raise
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> Any:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as e:
            if waiter.done() and not waiter.cancelled():
                # Handed over just as the time ran out or the request was
                # cancelled: use it, or pass it on; never drop it.
                if isinstance(e, TimeoutError):
                    return waiter.result()
                self.put_nowait(waiter.result())
                raise
            waiter.cancel()
            if isinstance(e, TimeoutError):
                raise Empty() from None
            raise


class FairQueuePool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool with FairQueue (hub/db.py's PostgreSQL engines)."""

    _queue_class = FairQueue
