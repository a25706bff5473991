"""Answers kept until the data changes (hub/response_cache.py, hub/data_version.py).

On PostgreSQL a kept answer is served only under the data version it was read
under: a write committed anywhere (this worker, another process, raw SQL)
moves the version, and while the listener is down nothing is kept or served.
"""

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request

from hub.app import create_app
from hub.config import Settings
from hub.data_version import APPLICATION_NAME, CHANNEL, UNWATCHED
from hub.enums import AgencyKind, Grade
from hub.models import AuditEntry, Base, CreditRating, Enterprise
from hub.response_cache import ResponseCache
from resolvers.context import Context
from seeds import builders as b
from tests.conftest import NOW, Credentials, Tokens, serving
from tests.helpers import post_graphql, without_cost
from tests.test_changes import RECORD_PENALTY, penalty
from tests.test_enterprises_by_codes import add_enterprises
from tests.test_metrics import scrape, value

pytestmark = pytest.mark.anyio

LOOKUP = (
    "query Lookup($code: String!) { enterprise(code: $code) { code name "
    "district { code } currentRating { grade score } penalties { decisionNumber "
    "fineAmount } riskLevel { overallLevel } insurance { policyNumber } } }"
)
BATCH = (
    "query Batch($codes: [String!]!) { enterprisesByCodes(codes: $codes) "
    "{ code currentRating { grade } } }"
)
PAGE = (
    "{ enterprises(first: 2) { totalCount nodes { code currentRating { grade } } "
    "pageInfo { hasNextPage endCursor } } }"
)
FEED = "{ changes(first: 5) { nodes { seq enterpriseCode } endCursor hasNextPage } }"
ACCESS_LOG = (
    "query($code: String!) { enterprise(code: $code) { code "
    "accessLog { nodes { purpose } } } }"
)


class Clock:
    """The hub's clock, moved by the test (the date is part of the key)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(settings: Settings, clock: Clock) -> Settings:
    return replace(settings, response_cache_mb=1, clock=clock)


@pytest.fixture
async def postgresql(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "postgresql":
        pytest.skip("answers are kept on PostgreSQL only (notifications)")
    return engine


@pytest.fixture
def answers(app: Starlette, postgresql: AsyncEngine) -> ResponseCache:
    cache = app.state.answers
    assert isinstance(cache, ResponseCache)
    return cache


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for something another task or the server does."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("it did not happen in time")


async def listening(client: httpx.AsyncClient, answers: ResponseCache) -> None:
    """The first request starts the listener; wait until it listens."""
    await post_graphql(client, "{ __typename }")
    answers.version.ensure_listening()
    await until(lambda: answers.version.live)


async def ask(
    client: httpx.AsyncClient, query: str, variables: Any = None, **kw: Any
) -> dict[str, Any]:
    response = await post_graphql(client, query, variables, **kw)
    assert response.status_code == 200, response.text
    return without_cost(response)


async def committed_elsewhere(answers: ResponseCache, write: Callable[[], Any]) -> None:
    """Run a write committed outside the app, and wait for its notification."""
    before = answers.version.value
    await write()
    await until(lambda: answers.version.value > before)


async def bank_headers(tokens: Tokens, bank: Credentials) -> dict[str, str]:
    token = await tokens.issue(bank)
    return {"Authorization": f"Bearer {token}", "Hub-Purpose": "LOAN_APPROVAL"}


async def notify(engine: AsyncEngine) -> None:
    """A marker notification, as a committed write sends."""
    async with engine.connect() as conn:
        await conn.execute(text(f"NOTIFY {CHANNEL}"))
        await conn.commit()


class TestKept:
    async def test_a_repeated_lookup_is_served_from_the_cache_and_audited(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given
        (code,) = await add_enterprises(db, 1)
        headers = await tokens.headers()
        await listening(client, answers)
        before = await scrape(client)
        # when
        first = await ask(client, LOOKUP, {"code": code}, headers=headers)
        second = await ask(client, LOOKUP, {"code": code}, headers=headers)
        # then the same answer, the second from the cache
        assert first == second
        assert first["data"]["enterprise"]["code"] == code
        assert answers.counts["stored"] == 1
        assert answers.counts["hit"] == 1
        # as /metrics shows
        after = await scrape(client)
        for result in ("stored", "hit", "miss"):
            counted = value(after, "hub_response_cache_total", result=result)
            assert (
                counted - value(before, "hub_response_cache_total", result=result) == 1
            )
        assert value(after, "hub_response_cache_listening") >= 1
        # and both requests are in the audit log with the enterprise they read
        entries = (
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.operation_name == "Lookup")
                .order_by(AuditEntry.seq)
            )
        ).all()
        assert [e.enterprises for e in entries] == [[code], [code]]

    @pytest.mark.parametrize(
        ("query", "variables"),
        [
            (BATCH, lambda codes: {"codes": [*codes, b.credit_code(987_654)]}),
            (PAGE, lambda codes: None),
            (FEED, lambda codes: None),
        ],
        ids=["batch", "list page", "feed"],
    )
    async def test_batches_pages_and_the_feed_are_kept_as_they_are_answered(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        tokens: Tokens,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        query: str,
        variables: Callable[[list[str]], Any],
    ) -> None:
        # given the same hub without the cache, on the same database
        codes = await add_enterprises(db, 3)
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        for n, code in enumerate(codes, 1):
            await ask(client, RECORD_PENALTY, {"input": penalty(code, n)}, headers=epb)
        headers = await tokens.headers()
        plain = create_app(
            replace(settings, response_cache_mb=0), sessionmaker=sessionmaker
        )
        await listening(client, answers)
        # when
        kept = [
            await ask(client, query, variables(codes), headers=headers)
            for _ in range(2)
        ]
        async with serving(plain) as other:
            expected = await ask(other, query, variables(codes), headers=headers)
        # then
        assert "errors" not in expected
        assert kept == [expected, expected]
        assert (answers.counts["stored"], answers.counts["hit"]) == (1, 1)

    async def test_an_answer_with_errors_is_not_kept(
        self, client: httpx.AsyncClient, answers: ResponseCache, tokens: Tokens
    ) -> None:
        headers = await tokens.headers()
        await listening(client, answers)
        for _ in range(2):
            body = await ask(client, LOOKUP, {"code": "not a code"}, headers=headers)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert answers.counts["stored"] == answers.counts["hit"] == 0

    async def test_the_access_log_is_never_kept(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given the bureau, which may read who read an enterprise
        (code,) = await add_enterprises(db, 1)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        await listening(client, answers)
        # when it asks twice
        first = await ask(client, ACCESS_LOG, {"code": code}, headers=headers)
        second = await ask(client, ACCESS_LOG, {"code": code}, headers=headers)
        # then the second answer shows the first read: nothing was kept
        assert first["data"]["enterprise"]["accessLog"]["nodes"] == []
        assert len(second["data"]["enterprise"]["accessLog"]["nodes"]) == 1
        assert answers.counts["stored"] == answers.counts["hit"] == 0


class TestKey:
    async def test_callers_do_not_share_answers(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given an enterprise in Xishan, a bank and Huishan's county bureau
        (code,) = await add_enterprises(db, 1)
        await db.execute(
            update(Enterprise)
            .where(Enterprise.code == code)
            .values(district_code="320205")
        )
        await db.commit()
        bank = await tokens.headers()
        huishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        other_bank = await tokens.headers()
        await listening(client, answers)
        # when each asks for it after the bank
        seen = await ask(client, LOOKUP, {"code": code}, headers=bank)
        hidden = await ask(client, LOOKUP, {"code": code}, headers=huishan)
        again = await ask(client, LOOKUP, {"code": code}, headers=other_bank)
        # then the county bureau gets its own answer, and so does the other bank
        assert seen["data"]["enterprise"]["code"] == code
        assert hidden["data"]["enterprise"] is None
        assert again == seen
        assert answers.counts["hit"] == 0
        assert answers.counts["stored"] == 3

    async def test_variables_and_the_date_are_part_of_the_key(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        tokens: Tokens,
        clock: Clock,
    ) -> None:
        # given
        first, second = await add_enterprises(db, 2)
        bank = await tokens.register()
        headers = await bank_headers(tokens, bank)
        await listening(client, answers)
        one = await ask(client, LOOKUP, {"code": first}, headers=headers)
        # when another code is asked for, then the first on the next day
        # (with a token of the same client issued then)
        other = await ask(client, LOOKUP, {"code": second}, headers=headers)
        clock.now = NOW + timedelta(days=1)
        headers = await bank_headers(tokens, bank)
        tomorrow = await ask(client, LOOKUP, {"code": first}, headers=headers)
        # then neither came from the cache
        assert other["data"]["enterprise"]["code"] == second
        assert tomorrow == one
        assert answers.counts["hit"] == 0


@dataclass(frozen=True, slots=True)
class Kept:
    """An enterprise whose lookup by a bank has just been kept."""

    code: str
    headers: dict[str, str]
    answer: dict[str, Any]


@pytest.fixture
async def kept(
    client: httpx.AsyncClient, answers: ResponseCache, db: AsyncSession, tokens: Tokens
) -> Kept:
    (code,) = await add_enterprises(db, 1)
    headers = await tokens.headers()
    await listening(client, answers)
    answer = await ask(client, LOOKUP, {"code": code}, headers=headers)
    assert answers.counts["stored"] == 1
    return Kept(code, headers, answer)


class TestMemory:
    async def test_a_kept_answer_leaves_no_cycle_behind(
        self, client: httpx.AsyncClient, kept: Kept
    ) -> None:
        # given the collector keeping what it finds
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            # when the kept answer is served again
            again = await ask(client, LOOKUP, {"code": kept.code}, headers=kept.headers)
            gc.collect()
            found = [o for o in gc.garbage if isinstance(o, Context | Request)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        # then reference counting freed the request and its context (a cycle
        # between them left the collector a fifth of a worker's CPU)
        assert again == kept.answer
        assert found == []


class TestInvalidation:
    async def test_a_write_committed_elsewhere_is_seen(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        db: AsyncSession,
        kept: Kept,
    ) -> None:
        # given a kept answer
        assert kept.answer["data"]["enterprise"]["currentRating"]["grade"] == "GREEN"

        # when another process changes the grade with plain SQL
        async def downgrade() -> None:
            await db.execute(
                update(CreditRating)
                .where(CreditRating.valid_to.is_(None))
                .values(grade=Grade.RED)
            )
            await db.commit()

        await committed_elsewhere(answers, downgrade)
        after = await ask(client, LOOKUP, {"code": kept.code}, headers=kept.headers)
        # then
        assert after["data"]["enterprise"]["currentRating"]["grade"] == "RED"
        assert answers.counts["hit"] == 0

    async def test_a_write_through_this_worker_is_seen_at_once(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        tokens: Tokens,
        postgresql: AsyncEngine,
        kept: Kept,
    ) -> None:
        # given a kept answer
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        version = answers.version.value
        # when the bureau records a penalty through this worker
        await ask(client, RECORD_PENALTY, {"input": penalty(kept.code, 7)}, headers=epb)
        # then the worker moved the version itself at the commit: with the
        # write's notification and a marker's, committed after it, it is 3 on
        assert answers.version.value > version
        await notify(postgresql)
        await until(lambda: answers.version.value == version + 3)
        # and the answer shows the write
        after = await ask(client, LOOKUP, {"code": kept.code}, headers=kept.headers)
        numbers = [
            p["decisionNumber"] for p in after["data"]["enterprise"]["penalties"]
        ]
        assert "锡山环罚决〔2026〕7号" in numbers
        assert len(numbers) == len(kept.answer["data"]["enterprise"]["penalties"]) + 1

    async def test_a_rolled_back_write_keeps_the_answers(
        self,
        answers: ResponseCache,
        postgresql: AsyncEngine,
        kept: Kept,
    ) -> None:
        # given a kept answer (kept)
        # when a write is rolled back, then a marker is committed
        version = answers.version.value
        async with postgresql.connect() as conn:
            await conn.execute(update(Enterprise).values(name="回滚"))
            await conn.rollback()
        await notify(postgresql)
        await until(lambda: answers.version.value > version)
        # then exactly one notification came: the rolled back write sent none
        assert answers.version.value == version + 1

    async def test_nothing_is_kept_or_served_while_the_listener_is_down(
        self,
        client: httpx.AsyncClient,
        answers: ResponseCache,
        postgresql: AsyncEngine,
        kept: Kept,
    ) -> None:
        # given a kept answer (kept)
        # when the server ends the listening connection
        async with postgresql.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": APPLICATION_NAME},
            )
        assert ended == 1
        await until(lambda: not answers.version.live)
        down = await ask(client, LOOKUP, {"code": kept.code}, headers=kept.headers)
        # then the answer came from the database, and nothing was kept
        assert down["data"]["enterprise"]["code"] == kept.code
        assert answers.counts["off"] >= 1
        assert (answers.counts["hit"], answers.counts["stored"]) == (0, 1)
        # and once it listens again, answers are kept anew
        await until(lambda: answers.version.live)
        for _ in range(2):
            await ask(client, LOOKUP, {"code": kept.code}, headers=kept.headers)
        assert (answers.counts["hit"], answers.counts["stored"]) == (1, 2)


class TestBounds:
    async def test_the_least_recently_used_answers_go_first(
        self,
        answers: ResponseCache,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given room for two and a half answers
        codes = await add_enterprises(db, 3)
        headers = await tokens.headers()
        await listening(client, answers)
        await ask(client, LOOKUP, {"code": codes[0]}, headers=headers)
        answers.max_bytes = answers.size * 2 + answers.size // 2
        # when three are kept, the first asked for again before the third
        await ask(client, LOOKUP, {"code": codes[1]}, headers=headers)
        await ask(client, LOOKUP, {"code": codes[0]}, headers=headers)
        await ask(client, LOOKUP, {"code": codes[2]}, headers=headers)
        # then the second went (first in, but used least recently), the
        # first stayed, and the size stays within the bound
        assert answers.size <= answers.max_bytes
        hits = answers.counts["hit"]
        await ask(client, LOOKUP, {"code": codes[0]}, headers=headers)
        assert answers.counts["hit"] == hits + 1
        await ask(client, LOOKUP, {"code": codes[1]}, headers=headers)
        assert answers.counts["hit"] == hits + 1


async def test_sqlite_keeps_nothing(app: Starlette, engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert app.state.answers is None


async def test_every_table_but_the_unwatched_notifies(postgresql: AsyncEngine) -> None:
    # given
    async with postgresql.connect() as conn:
        triggered = set(
            await conn.scalars(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c "
                    "ON c.oid = t.tgrelid WHERE t.tgname = :name"
                ),
                {"name": CHANNEL},
            )
        )
    # then every table a cached answer may come from has the trigger
    assert triggered == set(Base.metadata.tables) - UNWATCHED
    assert set(Base.metadata.tables) >= UNWATCHED


class Relay:
    """A TCP relay to PostgreSQL that may drop the server's notifications, as
    a pooler in transaction mode loses them (the test's stand-in for one)."""

    def __init__(self, target: tuple[str, int], *, drop_notifications: bool) -> None:
        self.target = target
        self.drop = drop_notifications
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for pump in (self._copy(reader, up_writer), self._messages(up_reader, writer)):
            task = asyncio.create_task(pump)
            self.tasks.add(task)

    async def _copy(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _messages(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Server to client, message by message: a type byte, then a length
        that counts itself (no SSL: the client asks for none)."""
        try:
            while True:
                head = await reader.readexactly(5)
                body = await reader.readexactly(int.from_bytes(head[1:], "big") - 4)
                if not (self.drop and head[:1] == b"A"):  # NotificationResponse
                    writer.write(head + body)
                    await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()


@pytest.fixture
async def relayed(
    request: pytest.FixtureRequest, postgresql: AsyncEngine
) -> AsyncIterator[str]:
    """A database URL for the data version through a Relay (param: drop?)."""
    url = postgresql.url
    relay = Relay(
        (url.host or "127.0.0.1", url.port or 5432), drop_notifications=request.param
    )
    port = await relay.start()
    yield url.set(port=port, query={"ssl": "disable"}).render_as_string(
        hide_password=False
    )
    await relay.close()


class TestDeafListener:
    @pytest.mark.parametrize("relayed", [False], indirect=True)
    async def test_through_a_relay_that_passes_notifications_it_listens(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        relayed: str,
    ) -> None:
        app = create_app(
            replace(settings, data_version_url=relayed, data_version_check_seconds=0.5),
            sessionmaker=sessionmaker,
        )
        async with serving(app) as client:
            await listening(client, app.state.answers)

    @pytest.mark.parametrize("relayed", [True], indirect=True)
    async def test_a_listener_that_receives_no_notifications_keeps_nothing(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        db: AsyncSession,
        tokens: Tokens,
        relayed: str,
    ) -> None:
        # given the listener behind a relay that drops notifications, which
        # answers LISTEN and queries as usual
        (code,) = await add_enterprises(db, 1)
        headers = await tokens.headers()
        app = create_app(
            replace(settings, data_version_url=relayed, data_version_check_seconds=0.5),
            sessionmaker=sessionmaker,
        )
        answers = app.state.answers
        async with serving(app) as client:
            await post_graphql(client, "{ __typename }")
            answers.version.ensure_listening()
            await asyncio.sleep(2)  # four probe intervals
            # when a lookup is asked twice
            before = answers.counts["off"]
            for _ in range(2):
                body = await ask(client, LOOKUP, {"code": code}, headers=headers)
                assert body["data"]["enterprise"]["code"] == code
        # then its probes never came back: nothing was trusted, kept or served
        assert answers.version.live is False
        assert (answers.counts["stored"], answers.counts["hit"]) == (0, 0)
        assert answers.counts["off"] == before + 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"response_cache_mb": -1}, "HUB_RESPONSE_CACHE_MB must not be negative"),
        ({"data_version_check_seconds": 0}, "HUB_DATA_VERSION_CHECK_SECONDS must be"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(database_url="sqlite+aiosqlite:///var/x.db", **changes)  # type: ignore[arg-type]
