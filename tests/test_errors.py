"""Transport and GraphQL errors: community codes, no leaks, 503 when the database is gone."""

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.types import Message

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from hub.pool import FairQueuePool
from tests.helpers import error_of, post_graphql, without_cost

pytestmark = pytest.mark.anyio

CODE = "91110108600037341D"
LOOKUP = "query($code: String!) { enterprise(code: $code) { name } }"


class TestTransport:
    async def test_malformed_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/graphql",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": "Unable to parse request body as JSON",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }

    async def test_batching_is_off(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 3)
        assert response.status_code == 400
        assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}

    async def test_no_queries_over_get(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/graphql", params={"query": "{ __typename }"})
        assert response.status_code == 400
        assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}

    async def test_text_plain_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"content-type": "text/plain"},
        )
        assert response.status_code == 400
        assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}

    async def test_graphiql_for_browsers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        assert "graphiql" in response.text.lower()

    async def test_every_response_has_a_request_id(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/graphql", json={"query": "{ __typename }"})
        assert len(response.headers["x-request-id"]) == 32
        echoed = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"x-request-id": "bank-req-00042"},
        )
        assert echoed.headers["x-request-id"] == "bank-req-00042"

    async def test_a_client_gone_before_its_body_is_answered_quietly(
        self, app: Starlette, caplog: pytest.LogCaptureFixture
    ) -> None:
        # given: a POST whose client disconnects before sending the body
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"hub.test"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 5000),
            "server": ("hub.test", 80),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        # when
        await app(scope, receive, send)
        # then: nothing to answer, and no stack trace in the logs
        assert sent == []
        assert not [r for r in caplog.records if r.levelname == "ERROR"]


class TestGraphQLErrors:
    async def test_syntax_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/graphql", json={"query": "{ enterprise(code: "})
        error = error_of(response)
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
        assert "data" not in response.json()

    async def test_unknown_field_has_no_suggestion(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/graphql", json={"query": '{ enterprise(code: "x") { nam } }'}
        )
        error = error_of(response)
        assert error["message"] == "Cannot query field 'nam' on type 'Enterprise'."
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}

    async def test_variable_of_the_wrong_type(self, client: httpx.AsyncClient) -> None:
        response = await post_graphql(client, LOOKUP, {"code": {"$ne": 1}})
        error = error_of(response)
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_VARIABLE",
            "field": "code",
        }
        assert "$code" in error["message"]

    async def test_operation_name_not_in_document(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/graphql", json={"query": "query a { __typename }", "operationName": "b"}
        )
        assert response.status_code == 400
        assert error_of(response)["extensions"] == {"code": "BAD_REQUEST"}

    async def test_unknown_mutation(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/graphql", json={"query": "mutation { x }"})
        assert response.json() == {
            "errors": [
                {
                    "message": "Cannot query field 'x' on type 'Mutation'.",
                    "locations": [{"line": 1, "column": 12}],
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ]
        }


class TestDatabaseUnavailable:
    async def test_503_then_recovers(self, tmp_path: Path, settings: Settings) -> None:
        base = settings
        # given: the database file lives in a directory that does not exist yet
        missing = tmp_path / "not-yet" / "hub.db"
        settings = replace(base, database_url=f"sqlite+aiosqlite:///{missing}")
        engine = create_async_engine(settings.database_url, pool_pre_ping=True)
        app = create_app(settings, sessionmaker=create_sessionmaker(engine))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as client:
            # when
            down = await post_graphql(client, LOOKUP, {"code": CODE})
            # then
            assert down.status_code == 503
            assert down.headers["retry-after"] == "5"
            assert down.json() == {
                "errors": [
                    {
                        "message": "The database is unavailable; retry later.",
                        "extensions": {
                            "code": "SERVICE_UNAVAILABLE",
                            "reason": "DATABASE_UNAVAILABLE",
                            "requestId": down.headers["x-request-id"],
                        },
                    }
                ]
            }
            # when the database comes back
            migrator = create_engine(settings)
            await upgrade(migrator)
            await migrator.dispose()
            up = await post_graphql(client, LOOKUP, {"code": CODE})
            # then the same app answers
            assert up.status_code == 200
            assert without_cost(up) == {"data": {"enterprise": None}}
        await app.state.audit.aclose()
        await engine.dispose()

    async def test_no_pooled_connection_free(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        # (`engine`: the migrated database the lookup reads)
        # given a pool of one connection (the hub's kind of pool), taken for
        # longer than a request waits
        busy = create_async_engine(
            settings.database_url,
            poolclass=FairQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=0.2,
        )
        app = create_app(settings, sessionmaker=create_sessionmaker(busy))
        transport = httpx.ASGITransport(app=app)
        async with (
            busy.connect() as held,
            httpx.AsyncClient(
                transport=transport, base_url="http://hub.test"
            ) as client,
        ):
            await held.execute(text("SELECT 1"))
            # when
            response = await post_graphql(client, LOOKUP, {"code": CODE})
        await app.state.audit.aclose()
        await busy.dispose()
        # then the caller is told to come back, not that the hub failed
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert error_of(response)["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "reason": "DATABASE_UNAVAILABLE",
            "requestId": response.headers["x-request-id"],
        }

    async def test_postgresql_refusing_connections(self, settings: Settings) -> None:
        base = settings
        settings = replace(
            base, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none"
        )
        engine = create_engine(settings)
        app = create_app(settings, sessionmaker=create_sessionmaker(engine))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as client:
            response = await post_graphql(client, LOOKUP, {"code": CODE})
        await app.state.audit.aclose()
        await engine.dispose()
        assert response.status_code == 503
        assert error_of(response)["extensions"]["reason"] == "DATABASE_UNAVAILABLE"
        assert "127.0.0.1" not in response.text

    async def test_a_portal_page_says_so_too(self, settings: Settings) -> None:
        # given a database that refuses connections
        settings = replace(
            settings, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none"
        )
        engine = create_engine(settings)
        app = create_app(settings, sessionmaker=create_sessionmaker(engine))
        transport = httpx.ASGITransport(app=app)
        # when a visitor searches
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as client:
            response = await client.get("/", params={"q": "无锡化工"})
        await app.state.audit.aclose()
        await engine.dispose()
        # then the page says the service is unavailable, without detail
        assert response.status_code == 503
        assert "服务暂时不可用" in response.text
        assert "127.0.0.1" not in response.text
        assert "Internal server error" not in response.text
