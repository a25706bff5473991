"""Per-client budgets: every answer reports its cost, an empty budget is 429."""

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.enums import AgencyKind
from tests.conftest import Tokens
from tests.helpers import data_of, post_graphql
from tests.test_limits import deep_query

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# 1 point for the page, 1 per enterprise on it.
PAGE_QUERY = "query($n: Int!) { enterprises(first: $n) { nodes { code } } }"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(settings: Settings, clock: Clock) -> Settings:
    """100 points, one more each second (on the test's clock)."""
    return replace(
        settings,
        budget_points=100,
        max_cost=100,
        budget_refill_per_second=1.0,
        monotonic=clock,
    )


async def spend(
    client: httpx.AsyncClient, cost: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await post_graphql(client, PAGE_QUERY, {"n": cost - 1}, headers=headers)


class TestBudget:
    async def test_every_answer_reports_its_cost(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await spend(client, 10)
        # then
        assert response.json() == {
            "data": {"enterprises": {"nodes": []}},
            "extensions": {
                "cost": {
                    "requested": 10,
                    "remaining": 90,
                    "limit": 100,
                    "resetSeconds": 10,
                }
            },
        }
        assert response.headers["x-ratelimit-limit"] == "100"
        assert response.headers["x-ratelimit-remaining"] == "90"
        assert response.headers["x-ratelimit-reset"] == "10"

    async def test_a_request_it_cannot_pay_is_429(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given: 80 of the bank's 100 points spent
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        for _ in range(2):
            data_of(await spend(client, 40, bank))
        # when
        response = await spend(client, 40, bank)
        # then
        assert response.status_code == 429
        assert response.headers["retry-after"] == "20"
        assert response.headers["x-ratelimit-remaining"] == "20"
        assert response.json() == {
            "errors": [
                {
                    "message": "The request costs 40 points and the budget holds 20; "
                    "retry in 20 s.",
                    "extensions": {
                        "code": "RATE_LIMITED",
                        "reason": "BUDGET_EXHAUSTED",
                        "cost": 40,
                        "remaining": 20,
                        "retryAfter": 20,
                    },
                }
            ],
            "extensions": {
                "cost": {
                    "requested": 40,
                    "remaining": 20,
                    "limit": 100,
                    "resetSeconds": 80,
                }
            },
        }

    async def test_points_come_back_with_time(
        self, client: httpx.AsyncClient, clock: Clock
    ) -> None:
        # given: an empty budget
        data_of(await spend(client, 100))
        assert (await spend(client, 20)).status_code == 429
        # when: 20 seconds later
        clock.now += 20
        response = await spend(client, 20)
        # then
        assert data_of(response) == {"enterprises": {"nodes": []}}
        assert response.headers["x-ratelimit-remaining"] == "0"

    async def test_each_client_has_its_own(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given: one bank's budget spent
        first, second = [await tokens.headers() for _ in range(2)]
        data_of(await spend(client, 100, first))
        assert (await spend(client, 1, first)).status_code == 429
        # then: another bank, and the public (by address), still have theirs
        assert (await spend(client, 100, second)).status_code == 200
        assert (await spend(client, 100)).status_code == 200

    async def test_a_refused_document_is_not_charged(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await post_graphql(client, deep_query(9), {"code": "x"})
        assert response.json()["errors"][0]["extensions"]["reason"] == "QUERY_TOO_DEEP"
        assert response.json()["extensions"] == {
            "cost": {
                "requested": 12_221,
                "remaining": 100,
                "limit": 100,
                "resetSeconds": 0,
            }
        }
        assert response.headers["x-ratelimit-remaining"] == "100"


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the test Redis, emptied afterwards."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except (RedisError, OSError):
        await redis.aclose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (set HUB_TEST_REDIS_URL)")
    prefix = f"hub:test:{uuid.uuid4().hex}:"
    yield prefix
    async for key in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()


async def answers(
    app: Starlette, requests: int, query: str = "{ __typename }"
) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        return [
            (await c.post("/graphql", json={"query": query})).status_code
            for _ in range(requests)
        ]


async def close(*apps: Starlette) -> None:
    for app in apps:
        await app.state.limits.aclose()
        await app.state.audit.aclose()


class TestSharedBudget:
    async def test_two_workers_share_a_budget(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis_prefix: str,
    ) -> None:
        # given: two workers on the same Redis; 3 points, no refill to speak of
        shared = replace(
            settings,
            redis_url=REDIS_URL,
            redis_key_prefix=redis_prefix,
            budget_points=3,
            max_cost=3,
            budget_refill_per_second=0.001,
        )
        one, two = (create_app(shared, sessionmaker=sessionmaker) for _ in range(2))
        try:
            # when: the public asks twice of one worker, then twice of the other
            first = await answers(one, 2)
            second = await answers(two, 2)
        finally:
            await close(one, two)
        # then: the third request was the last one paid
        assert first == [200, 200]
        assert second == [200, 429]

    async def test_without_redis_each_worker_keeps_its_own(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # given: a Redis that cannot be reached
        gone = replace(
            settings,
            redis_url="redis://127.0.0.1:1/0",
            budget_points=3,
            max_cost=3,
            budget_refill_per_second=0.001,
        )
        app = create_app(gone, sessionmaker=sessionmaker)
        try:
            # when
            statuses = await answers(app, 4)
        finally:
            await close(app)
        # then: the limit still holds, in this worker's memory
        assert statuses == [200, 200, 200, 429]
