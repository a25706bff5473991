"""A query's one-trip statement on PostgreSQL runs on a pooled connection of its
own (hub.db.fetch_row), not through the request's session, and fails as a
session's statement does."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.app import create_app
from hub.config import Settings
from hub.db import (
    create_engine,
    create_sessionmaker,
    driver_connection,
    fetch_row,
    is_unavailable,
)
from tests.conftest import Tokens, serving
from tests.helpers import data_of, post_graphql
from tests.test_enterprises_by_codes import add_enterprises

pytestmark = pytest.mark.anyio

LOOKUP = (
    "query($code: String!) { enterprise(code: $code) "
    "{ code currentRating { grade } penalties { decisionNumber } } }"
)
CODE = "91110108600037341D"
BATCH = "query($codes: [String!]!) { enterprisesByCodes(codes: $codes) { code } }"
LIST = (
    "{ enterprises(first: 2) "
    "{ nodes { code currentRating { grade } penalties { decisionNumber } } } }"
)


@pytest.fixture
async def postgresql(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name != "postgresql":
        pytest.skip("the statements run on their own connection on PostgreSQL only")
    return engine


@pytest.fixture
def statements(postgresql: AsyncEngine) -> Iterator[list[str]]:
    """The SQL sent through SQLAlchemy's cursors (a session's or the audit
    writer's) on the app's engine while the test runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(postgresql.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(postgresql.sync_engine, "before_cursor_execute", record)


def one_trip(statements: list[str]) -> list[str]:
    """The statements that read enterprises and datasets in one row
    (resolvers/one_trip.py), not the token's or the audit log's."""
    return [s for s in statements if "json_agg" in s]


class TestOwnConnection:
    async def test_a_lookup_sends_nothing_through_the_session(
        self, client: Any, db: AsyncSession, statements: list[str], tokens: Tokens
    ) -> None:
        # given
        (code,) = await add_enterprises(db, 1)
        await db.commit()
        headers = await tokens.headers()
        statements.clear()
        # when
        response = await post_graphql(client, LOOKUP, {"code": code}, headers=headers)
        # then the answer is whole, and its statement bypassed SQLAlchemy
        enterprise = data_of(response)["enterprise"]
        assert enterprise["code"] == code
        assert enterprise["currentRating"] == {"grade": "GREEN"}
        assert one_trip(statements) == []

    async def test_a_list_page_uses_the_session_it_opened(
        self, client: Any, db: AsyncSession, statements: list[str], tokens: Tokens
    ) -> None:
        # given
        await add_enterprises(db, 3)
        await db.commit()
        headers = await tokens.headers()
        statements.clear()
        # when
        response = await post_graphql(client, LIST, headers=headers)
        # then the page's select opened the session's connection, and the
        # datasets' statement ran on it
        assert len(data_of(response)["enterprises"]["nodes"]) == 2
        assert len(one_trip(statements)) == 1


@pytest.fixture
async def one_connection(
    postgresql: AsyncEngine, settings: Settings
) -> AsyncIterator[tuple[AsyncEngine, int]]:
    """An engine whose pool holds one connection, opened, and its backend pid."""
    engine = create_engine(settings, pool_size=1)
    yield engine, await pid_of(engine)
    await engine.dispose()


class TestLostConnection:
    async def test_the_request_is_answered_from_a_new_connection(
        self,
        postgresql: AsyncEngine,
        one_connection: tuple[AsyncEngine, int],
        settings: Settings,
    ) -> None:
        # given the pooled connection closed by the server
        engine, pid = one_connection
        await terminate(postgresql, pid)
        app = create_app(settings, sessionmaker=create_sessionmaker(engine))
        async with serving(app) as client:
            # when
            response = await post_graphql(client, LOOKUP, {"code": CODE})
        # then the failed read invalidated the pool, and the query, which
        # only reads, ran again (hub/direct.py) on a new connection
        assert response.status_code == 200
        assert data_of(response) == {"enterprise": None}


class TestCancelled:
    async def test_the_connection_is_not_handed_on(
        self,
        postgresql: AsyncEngine,
        one_connection: tuple[AsyncEngine, int],
        settings: Settings,
    ) -> None:
        # given a pool of one connection, and the enterprise table locked so
        # that a lookup's statement waits past the request's timeout
        engine, _ = one_connection
        app = create_app(
            replace(settings, request_timeout_seconds=0.3),
            sessionmaker=create_sessionmaker(engine),
        )
        async with serving(app) as client:
            async with postgresql.begin() as locker:
                await locker.execute(
                    text("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE")
                )
                # when
                cut = await post_graphql(client, LOOKUP, {"code": CODE})
            after = await post_graphql(client, LOOKUP, {"code": CODE})
        # then the next request and the audit writer's batches still find a
        # working connection in the pool of one
        assert cut.status_code == 504
        assert after.status_code == 200
        assert data_of(after) == {"enterprise": None}
        async with postgresql.connect() as conn:
            logged = await conn.scalar(text("SELECT count(*) FROM audit_entry"))
        assert logged == 2

    async def test_cut_anywhere(
        self,
        postgresql: AsyncEngine,
        one_connection: tuple[AsyncEngine, int],
        settings: Settings,
    ) -> None:
        """Requests cut after 0.1 to 2 ms, at whatever await they reached (the
        pool, the statement, the audit batch); each then followed by one that
        must be answered and logged on the same pool of one connection."""
        engine, _ = one_connection
        maker = create_sessionmaker(engine)
        codes = [CODE] * 100
        answered = 0
        for step in range(20):
            cut_after = 0.0001 * (1 + step)
            cutting = create_app(
                replace(settings, request_timeout_seconds=cut_after), sessionmaker=maker
            )
            async with serving(cutting) as client:
                cut = await post_graphql(client, BATCH, {"codes": codes})
                assert cut.status_code in (200, 504)
            async with serving(create_app(settings, sessionmaker=maker)) as client:
                after = await post_graphql(client, BATCH, {"codes": codes})
                assert after.status_code == 200, after.text
            answered += 1
        assert answered == 20
        async with postgresql.connect() as conn:
            logged = await conn.scalar(text("SELECT count(*) FROM audit_entry"))
        assert logged == 40  # the cut requests' entries too
        async with engine.begin() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1


class TestErrors:
    """fetch_row raises what a session's statement raises, so that
    is_unavailable() and the error handling above it read it the same."""

    async def test_a_lost_connection(
        self, postgresql: AsyncEngine, settings: Settings
    ) -> None:
        # given two pools of one connection each, both closed by the server
        ours, theirs = create_engine(settings, pool_size=1), create_engine(settings)
        for engine in (ours, theirs):
            await terminate(postgresql, await pid_of(engine))
        # when a statement goes to each
        with pytest.raises(DBAPIError) as session_way:
            async with theirs.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        with pytest.raises(DBAPIError) as raised:
            await fetch_row(ours, "SELECT 1", [])
        # then
        assert type(raised.value) is type(session_way.value) is InterfaceError
        assert raised.value.connection_invalidated
        assert is_unavailable(raised.value)
        # and the pool connects again
        assert tuple(await fetch_row(ours, "SELECT 1", [])) == (1,)
        await ours.dispose()
        await theirs.dispose()

    async def test_a_failing_statement(
        self, postgresql: AsyncEngine, one_connection: tuple[AsyncEngine, int]
    ) -> None:
        engine, pid = one_connection
        sql = "SELECT 1 / $1::int"
        with pytest.raises(DBAPIError) as session_way:
            async with engine.connect() as conn:
                await conn.exec_driver_sql(sql, (0,))
        with pytest.raises(DBAPIError) as raised:
            await fetch_row(engine, sql, [0])
        assert type(raised.value) is type(session_way.value)
        assert type(raised.value.orig) is type(session_way.value.orig)
        assert not raised.value.connection_invalidated
        assert not is_unavailable(raised.value)
        # the connection left the pool's hands: given up, not handed on
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await pid_of(engine) != pid

    async def test_a_connection_is_reused_after_a_clean_statement(
        self, postgresql: AsyncEngine, one_connection: tuple[AsyncEngine, int]
    ) -> None:
        engine, pid = one_connection
        assert tuple(await fetch_row(engine, "SELECT 1", [])) == (1,)
        assert await pid_of(engine) == pid

    async def test_a_transaction_left_open_gives_the_connection_up(
        self, postgresql: AsyncEngine, one_connection: tuple[AsyncEngine, int]
    ) -> None:
        engine, pid = one_connection
        async with driver_connection(engine) as driver:
            await driver.execute("BEGIN")
        # the next user does not find itself inside that transaction
        async with engine.begin() as conn:
            assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid

    async def test_no_connection_free(
        self, postgresql: AsyncEngine, one_connection: tuple[AsyncEngine, int]
    ) -> None:
        engine, _ = one_connection
        async with engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            engine.sync_engine.pool._timeout = 0.1  # type: ignore[attr-defined]
            with pytest.raises(PoolTimeout) as raised:
                await fetch_row(engine, "SELECT 1", [])
        assert is_unavailable(raised.value)


async def pid_of(engine: AsyncEngine) -> int:
    """The backend of the (first) pooled connection of `engine`."""
    async with engine.connect() as conn:
        pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def terminate(admin_engine: AsyncEngine, pid: int) -> None:
    """The server ends the backend; the client has heard of it by the return."""
    async with admin_engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.05)
