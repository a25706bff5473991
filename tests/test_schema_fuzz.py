"""Schemathesis generates queries and mutations: none may cause a server error.

A server error is an HTTP 5xx or an INTERNAL_SERVER_ERROR in the answer.
Refusals the contract defines (BAD_USER_INPUT for domain rules, NOT_FOUND for
an id that does not exist or lies outside the caller's rows) are answers.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings, strategies as st
from schemathesis.graphql import nodes
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from auth.clients import create_agency, create_client
from hub.app import create_app
from hub.config import Settings
from hub.db import create_sessionmaker
from hub.enums import AgencyKind
from seeds import builders as b
from tests.conftest import NOW


async def add_story(url: str) -> tuple[str, str]:
    """Enterprises with every dataset, and a city bureau client: its id and secret."""
    engine = create_async_engine(url, poolclass=NullPool)
    async with create_sessionmaker(engine)() as db:
        agency = await create_agency(
            db, name="无锡市生态环境局", kind=AgencyKind.CITY_EPB, now=NOW
        )
        made = await create_client(db, agency=agency, now=NOW)
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
    assert made.secret is not None
    return made.client.client_id, made.secret


async def get_token(app: Starlette, client_id: str, secret: str) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hub.test"
    ) as http:
        answer = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def fuzz_schema(
    fuzz_headers: dict[str, str], engine: Any, database_url: str, settings: Settings
) -> Iterator[Any]:
    """The app on the migrated test database, with a few enterprises, queried
    with a token that holds every scope (FORBIDDEN is not a client error to
    schemathesis; the authorization matrix is tested on its own).

    The ASGI client runs the app in its own event loop, so this app gets an
    engine without a pool: no connection crosses loops.
    """
    client_id, secret = asyncio.run(add_story(database_url))
    fuzz_engine = create_async_engine(database_url, poolclass=NullPool)
    app = create_app(settings, sessionmaker=create_sessionmaker(fuzz_engine))
    token = asyncio.run(get_token(app, client_id, secret))
    fuzz_headers["Authorization"] = f"Bearer {token}"
    yield schemathesis.graphql.from_asgi("/graphql", app, headers=fuzz_headers)
    asyncio.run(fuzz_engine.dispose())


@pytest.fixture
def fuzz_headers() -> dict[str, str]:
    """Filled by fuzz_schema with the city bureau's bearer token."""
    return {}


# Decimals as clients write them, and some they should not; an Upload sent
# as a plain string (a multipart upload cannot be generated from the schema).
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(max_size=12),
    ).map(nodes.String),
)
schemathesis.graphql.scalar("Upload", st.text(max_size=20).map(nodes.String))

schema = schemathesis.pytest.from_fixture("fuzz_schema")


def no_server_error(ctx: Any, response: Any, case: Any) -> None:
    assert response.status_code < 500, f"HTTP {response.status_code}"
    body = response.json()
    codes = [
        (error.get("extensions") or {}).get("code")
        for error in (body.get("errors") or [])
        if isinstance(error, dict)
    ]
    assert "INTERNAL_SERVER_ERROR" not in codes, body


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any, fuzz_headers: dict[str, str]) -> None:
    response = case.call(headers=fuzz_headers)
    no_server_error(None, response, case)
