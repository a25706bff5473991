"""hub/pool.py: requests waiting for a connection are served in arrival order."""

import asyncio
from contextlib import suppress

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from hub.pool import FairQueue, FairQueuePool

pytestmark = pytest.mark.anyio


async def take(queue: FairQueue, timeout: float = 5) -> object:
    """`queue.get` as the pool calls it: blocking, inside SQLAlchemy's greenlet."""
    return await greenlet_spawn(queue.get, True, timeout)


async def two_waiters(
    queue: FairQueue,
) -> tuple["asyncio.Task[object]", "asyncio.Task[object]"]:
    """Two requests waiting on `queue`, the first one first."""
    first = asyncio.create_task(take(queue))
    second = asyncio.create_task(take(queue))
    await asyncio.sleep(0.01)
    return first, second


class TestFairQueue:
    async def test_a_returned_item_goes_to_the_oldest_waiter(self) -> None:
        # given two requests waiting, in this order
        queue = FairQueue(maxsize=2)
        first, second = await two_waiters(queue)
        # when an item comes back
        queue.put_nowait("a")
        # then a newcomer does not take it before the oldest waiter has run
        with pytest.raises(Empty):
            queue.get_nowait()
        queue.put_nowait("b")
        assert await first == "a"
        assert await second == "b"

    async def test_no_waiter_takes_what_is_free(self) -> None:
        queue = FairQueue(maxsize=1)
        queue.put_nowait("a")
        assert queue.get_nowait() == "a"
        assert queue.empty()

    async def test_a_waiter_out_of_time_is_skipped(self) -> None:
        # given a waiter that gave up
        queue = FairQueue(maxsize=1)
        with pytest.raises(Empty):
            await take(queue, timeout=0.01)
        # when an item comes back, then it is free, not handed to the gone waiter
        queue.put_nowait("a")
        assert queue.get_nowait() == "a"

    async def test_a_cancelled_waiter_passes_its_item_on(self) -> None:
        # given two waiters, the first handed an item and cancelled before it ran
        queue = FairQueue(maxsize=1)
        first, second = await two_waiters(queue)
        queue.put_nowait("a")
        first.cancel()
        with suppress(asyncio.CancelledError):
            await first
        # then the item is not lost: the next waiter gets it
        assert await asyncio.wait_for(second, 1) == "a"


class TestFairQueuePool:
    """The queue inside SQLAlchemy's pool: checkout, checkin, order."""

    async def test_connections_go_round_in_arrival_order(
        self, database_url: str
    ) -> None:
        # given a pool of one connection, held, and three requests queuing for it
        engine = create_async_engine(
            database_url, poolclass=FairQueuePool, pool_size=1, max_overflow=0
        )
        served: list[str] = []

        async def request(name: str) -> None:
            async with engine.connect() as conn:
                served.append(name)
                await conn.execute(text("SELECT 1"))

        held = await engine.connect()
        await held.execute(text("SELECT 1"))
        waiting = []
        for name in ("first", "second", "third"):
            waiting.append(asyncio.create_task(request(name)))
            await asyncio.sleep(0.01)
        # when the connection comes back
        await held.close()
        await asyncio.wait_for(asyncio.gather(*waiting), 10)
        # then each request had it in turn, and it went back to the pool
        assert served == ["first", "second", "third"]
        pool = engine.pool
        assert isinstance(pool, FairQueuePool)
        assert pool.checkedout() == 0
        await engine.dispose()
