"""Schemathesis generates queries from the schema: none may cause a server error.

`not_a_server_error` only: arguments with domain rules (credit codes, page
sizes) are refused with BAD_USER_INPUT, which it counts as a client error.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hub.app import create_app
from hub.config import Settings
from hub.db import create_sessionmaker
from seeds import builders as b
from tests.conftest import NOW


async def add_story(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with create_sessionmaker(engine)() as db:
        enterprises = [b.enterprise() for _ in range(5)]
        db.add_all(enterprises)
        await db.flush()
        for e in enterprises:
            db.add_all(
                [
                    b.rating(e),
                    b.penalty(e),
                    b.risk(e),
                    b.policy(e),
                    b.compulsory(e, 2026),
                ]
            )
        await db.commit()
    await engine.dispose()


@pytest.fixture
def fuzz_schema(engine: Any, database_url: str) -> Iterator[Any]:
    """The app on the migrated test database, with a few enterprises.

    The ASGI client runs the app in its own event loop, so this app gets an
    engine without a pool: no connection crosses loops.
    """
    asyncio.run(add_story(database_url))
    fuzz_engine = create_async_engine(database_url, poolclass=NullPool)
    app = create_app(
        Settings(database_url=database_url, clock=lambda: NOW),
        sessionmaker=create_sessionmaker(fuzz_engine),
    )
    yield schemathesis.graphql.from_asgi("/graphql", app)
    asyncio.run(fuzz_engine.dispose())


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error])
