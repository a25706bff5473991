"""Subscriptions over graphql-transport-ws: the change feed live, until the token lapses.

TestClient runs the app in its own thread and event loop, so the app here
has an engine without a pool (no connection crosses loops) and the story is
arranged with asyncio.run on that engine.
"""

import asyncio
import itertools
import json
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from auth.clients import create_agency, create_client
from auth.scopes import Scope
from hub.app import create_app
from hub.config import Settings
from hub.db import create_sessionmaker
from hub.enums import AgencyKind, FeedDataset
from hub.models import AuditEntry, Enterprise
from resolvers.changes import encode_cursor
from resolvers.feed import NewEvent, queue
from resolvers.watchlist import add_codes
from seeds import builders as b
from tests.conftest import NOW

# Starlette asks for httpx2 under its TestClient; the hub's tests use httpx.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient, WebSocketTestSession

PROTOCOL = "graphql-transport-ws"
START = encode_cursor(0)  # the start of the (emptied) feed
CREDIT_EVENTS = """
subscription Follow($filter: CreditEventFilter) {
  creditEvents(filter: $filter) { seq dataset kind enterpriseCode cursor }
}
"""
RECORD_PENALTY = """
mutation($input: PenaltyInput!) { recordPenalty(input: $input) { outcome } }
"""
BANK_PURPOSE = {"Hub-Purpose": "POST_LOAN_MONITORING"}
T = TypeVar("T")


@dataclass(slots=True)
class Clock:
    """The app's clock; a test moves it to let a token expire."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass(slots=True)
class Hub:
    """The app under TestClient, and the story told to it."""

    http: TestClient
    engine: AsyncEngine
    clock: Clock
    names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    decisions: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def session() -> T:
            async with create_sessionmaker(self.engine)() as db:
                return await work(db)

        return asyncio.run(session())

    def register(
        self, kind: AgencyKind, *, scopes: frozenset[Scope] | None = None, **agency: Any
    ) -> tuple[str, str, int]:
        """A new agency of `kind` with one client: its id, secret and agency id."""

        if kind is AgencyKind.COUNTY_EPB:
            agency.setdefault("district_code", "320205")

        async def work(db: AsyncSession) -> tuple[str, str, int]:
            made_agency = await create_agency(
                db,
                name=f"{kind.value}-{next(self.names)}",
                kind=kind,
                now=NOW,
                **agency,
            )
            made = await create_client(db, agency=made_agency, scopes=scopes, now=NOW)
            await db.commit()
            assert made.secret is not None
            return made.client.client_id, made.secret, made_agency.id

        return self.run(work)

    def token_of(self, client_id: str, secret: str) -> str:
        response = self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def token(self, kind: AgencyKind, **agency: Any) -> str:
        client_id, secret, _ = self.register(kind, **agency)
        return self.token_of(client_id, secret)

    def enterprise(self, district: str = "320205") -> str:
        async def work(db: AsyncSession) -> str:
            e: Enterprise = b.enterprise(district_code=district)
            db.add(e)
            await db.commit()
            return e.code

        return self.run(work)

    def penalise(self, code: str) -> None:
        """The city bureau records a penalty: a PUBLISHED event in the feed."""
        headers = {"Authorization": f"Bearer {self.token(AgencyKind.CITY_EPB)}"}
        n = next(self.decisions)
        variables = {"input": penalty(code, n)}
        response = self.http.post(
            "/graphql",
            json={"query": RECORD_PENALTY, "variables": variables},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.json()

    def publish(self, code: str, *kinds: str) -> None:
        """Rating events, queued and numbered as a writer's commit does."""

        async def work(db: AsyncSession) -> None:
            e = await db.scalar(select(Enterprise).where(Enterprise.code == code))
            assert e is not None
            payload = {"grade": "BLACK", "scheme": "JS_ANNUAL_100"}
            events = [
                NewEvent(FeedDataset.RATING, k, e.id, 1, payload, NOW) for k in kinds
            ]
            queue(db, events)
            await db.commit()

        self.run(work)

    def socket(self, *, request_id: str = "ws-test-0001") -> WebSocketTestSession:
        return self.http.websocket_connect(
            "/graphql", subprotocols=[PROTOCOL], headers={"x-request-id": request_id}
        )

    def audit_entries(self, request_id: str) -> list[AuditEntry]:
        async def work(db: AsyncSession) -> list[AuditEntry]:
            found = await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.request_id == request_id)
                .order_by(AuditEntry.seq)
            )
            return list(found)

        return self.run(work)


def penalty(code: str, n: int) -> dict[str, Any]:
    return {
        "decisionNumber": f"锡山环罚决〔2026〕{n}号",
        "enterpriseCode": code,
        "categories": ["WARNING"],
        "violationType": "未按规定设置排污口标志",
        "facts": "现场检查发现排污口未设置标志牌。",
        "legalBasis": "《水污染防治法》第八十四条",
        "decisionDate": "2026-06-01",
        "authorityName": "无锡市锡山生态环境局",
        "authorityCode": b.CITY_BUREAU_CODE,
    }


def receive(ws: WebSocketTestSession, timeout: float = 10.0) -> dict[str, Any]:
    """The next message; WebSocketDisconnect when the app closes the socket.

    TestClient's own receive has no timeout: an event that never comes would
    hang the suite, so this waits on the session's stream with one.
    """

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    answer: dict[str, Any] = json.loads(message["text"])
    return answer


def connect(ws: WebSocketTestSession, payload: dict[str, str]) -> None:
    ws.send_json({"type": "connection_init", "payload": payload})
    assert receive(ws) == {"type": "connection_ack"}


def subscribe(
    ws: WebSocketTestSession, query: str = CREDIT_EVENTS, **wanted: Any
) -> None:
    variables = {"filter": {"after": START} | wanted}
    ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }
    )


def event_of(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["creditEvents"]
    return event


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(
    engine: AsyncEngine, database_url: str, settings: Settings, clock: Clock
) -> Iterator[Hub]:
    socket_engine = create_async_engine(database_url, poolclass=NullPool)
    fast = replace(settings, clock=clock, subscription_poll_seconds=0.02)
    app = create_app(fast, sessionmaker=create_sessionmaker(socket_engine))
    with TestClient(app, base_url="http://hub.test") as http:
        yield Hub(http, socket_engine, clock)
    asyncio.run(socket_engine.dispose())


class TestProtocol:
    def test_the_legacy_protocol_is_refused(self, hub: Hub) -> None:
        legacy = hub.http.websocket_connect("/graphql", subprotocols=["graphql-ws"])
        with legacy as ws, pytest.raises(WebSocketDisconnect) as closed:
            receive(ws)
        assert (closed.value.code, closed.value.reason) == (
            4406,
            "Subprotocol not acceptable",
        )

    def test_queries_go_over_http(self, hub: Hub) -> None:
        with hub.socket() as ws:
            connect(ws, {})
            ws.send_json(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ changes(first: 1) { endCursor } }"},
                }
            )
            message = receive(ws)
        assert message == {
            "id": "1",
            "type": "error",
            "payload": [
                {
                    "message": "queries are not allowed over graphql-transport-ws: "
                    "POST them to /graphql",
                    "extensions": {
                        "code": "BAD_REQUEST",
                        "reason": "SUBSCRIPTIONS_ONLY",
                    },
                }
            ],
        }

    def test_subscriptions_do_not_go_over_http(self, hub: Hub) -> None:
        response = hub.http.post("/graphql", json={"query": CREDIT_EVENTS})
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": "subscriptions are not allowed when using POST",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }


class TestCreditEvents:
    def test_a_bank_receives_a_penalty_recorded_after_it_subscribed(
        self, hub: Hub
    ) -> None:
        # given
        code = hub.enterprise()
        token = hub.token(AgencyKind.COMMERCIAL_BANK)
        with hub.socket() as ws:
            connect(ws, bearer(token) | BANK_PURPOSE)
            subscribe(ws)
            # when
            hub.penalise(code)
            # then
            event = event_of(receive(ws))
        assert event == {
            "seq": "1",
            "dataset": "PENALTY",
            "kind": "PUBLISHED",
            "enterpriseCode": code,
            "cursor": encode_cursor(1),
        }

    def test_without_a_cursor_it_starts_from_now(self, hub: Hub) -> None:
        # given: one penalty before the subscription
        code = hub.enterprise()
        hub.penalise(code)
        with hub.socket() as ws:
            connect(ws, {})
            ws.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": CREDIT_EVENTS}}
            )
            time.sleep(0.3)  # many polls: the subscription has begun
            # when
            hub.penalise(code)
            # then: the anonymous public follows penalties, from now on
            assert event_of(receive(ws))["seq"] == "2"

    def test_a_county_bureau_receives_only_its_district(self, hub: Hub) -> None:
        # given
        xishan, huishan = hub.enterprise("320205"), hub.enterprise("320206")
        token = hub.token(AgencyKind.COUNTY_EPB, district_code="320206")
        with hub.socket() as ws:
            connect(ws, bearer(token))
            subscribe(ws)
            # when
            hub.penalise(xishan)
            hub.penalise(huishan)
            # then: Xishan's event (seq 1) never arrives
            event = event_of(receive(ws))
        assert (event["seq"], event["enterpriseCode"]) == ("2", huishan)

    def test_watchlist_only(self, hub: Hub) -> None:
        # given: the bank watches one of two enterprises
        watched, other = hub.enterprise(), hub.enterprise()
        client_id, secret, agency_id = hub.register(AgencyKind.COMMERCIAL_BANK)
        hub.run(
            lambda db: _watch(db, agency_id, watched),
        )
        with hub.socket() as ws:
            connect(ws, bearer(hub.token_of(client_id, secret)) | BANK_PURPOSE)
            subscribe(ws, watchlistOnly=True)
            # when
            hub.penalise(other)
            hub.penalise(watched)
            # then
            event = event_of(receive(ws))
        assert (event["seq"], event["enterpriseCode"]) == ("2", watched)

    def test_enterprise_codes(self, hub: Hub) -> None:
        first, second = hub.enterprise(), hub.enterprise()
        with hub.socket() as ws:
            connect(ws, {})
            subscribe(ws, enterpriseCodes=[second])
            hub.penalise(first)
            hub.penalise(second)
            event = event_of(receive(ws))
        assert (event["seq"], event["enterpriseCode"]) == ("2", second)

    def test_kinds(self, hub: Hub) -> None:
        code = hub.enterprise()
        with hub.socket() as ws:
            connect(ws, {})
            subscribe(ws, kinds=["DOWNGRADED"])
            hub.publish(code, "FINALISED", "DOWNGRADED")
            event = event_of(receive(ws))
        assert (event["seq"], event["kind"]) == ("2", "DOWNGRADED")

    def test_a_bad_cursor_is_bad_input(self, hub: Hub) -> None:
        with hub.socket() as ws:
            connect(ws, {})
            subscribe(ws, after="not-a-cursor")
            message, after = receive(ws), receive(ws)
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [
                    {
                        "message": "after is not a cursor of the change feed",
                        "extensions": {
                            "code": "BAD_USER_INPUT",
                            "reason": "INVALID_CURSOR",
                            "field": "filter.after",
                        },
                    }
                ],
            },
        }
        assert after == {"id": "1", "type": "complete"}

    def test_a_caller_without_a_feed_scope_is_forbidden(self, hub: Hub) -> None:
        client_id, secret, _ = hub.register(
            AgencyKind.COMMERCIAL_BANK, scopes=frozenset({Scope.watchlist_manage})
        )
        with hub.socket(request_id="ws-forbidden-01") as ws:
            connect(ws, bearer(hub.token_of(client_id, secret)) | BANK_PURPOSE)
            subscribe(ws)
            message = receive(ws)
        [error] = message["payload"]["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["reason"] == "MISSING_SCOPE"
        [entry] = hub.audit_entries("ws-forbidden-01")
        assert (entry.outcome, entry.reason) == ("DENIED", "MISSING_SCOPE")


class TestConnectionInit:
    def test_an_invalid_token_is_refused(self, hub: Hub) -> None:
        with hub.socket(request_id="ws-refused-001") as ws:
            ws.send_json({"type": "connection_init", "payload": bearer("not.a.token")})
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws)
        assert (closed.value.code, closed.value.reason) == (4403, "Forbidden")
        [entry] = hub.audit_entries("ws-refused-001")
        assert (entry.kind, entry.outcome, entry.reason) == (
            "GRAPHQL",
            "DENIED",
            "TOKEN_MALFORMED",
        )

    def test_a_bank_must_state_its_purpose(self, hub: Hub) -> None:
        token = hub.token(AgencyKind.COMMERCIAL_BANK)
        with hub.socket() as ws:
            ws.send_json({"type": "connection_init", "payload": bearer(token)})
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws)
        assert closed.value.code == 4403

    def test_the_subscription_is_audited(self, hub: Hub) -> None:
        client_id, secret, _ = hub.register(AgencyKind.COMMERCIAL_BANK)
        code = hub.enterprise()
        with hub.socket(request_id="ws-audited-001") as ws:
            connect(
                ws,
                {"authorization": f"Bearer {hub.token_of(client_id, secret)}"}
                | {"hub-purpose": "post_loan_monitoring", "hub-case-ref": "贷-7"},
            )
            subscribe(ws)
            hub.penalise(code)
            event_of(receive(ws))
        [entry] = hub.audit_entries("ws-audited-001")
        assert (entry.kind, entry.outcome, entry.client_id) == (
            "GRAPHQL",
            "OK",
            client_id,
        )
        assert (entry.purpose, entry.case_ref) == ("POST_LOAN_MONITORING", "贷-7")
        assert entry.operation_name == "Follow"
        assert entry.variables == {"filter": {"after": START}}
        assert "Subscription.creditEvents" in entry.fields


class TestTokenLapse:
    def test_the_socket_closes_when_the_token_expires(self, hub: Hub) -> None:
        # given: a live subscription
        code = hub.enterprise()
        with hub.socket() as ws:
            connect(ws, bearer(hub.token(AgencyKind.COUNTY_EPB)))
            subscribe(ws)
            hub.penalise(code)
            event_of(receive(ws))
            # when: the token's 15 minutes are over
            hub.clock.now = NOW + timedelta(seconds=900)
            # then
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws)
        assert (closed.value.code, closed.value.reason) == (4401, "token expired")

    def test_the_socket_closes_when_the_token_is_revoked(self, hub: Hub) -> None:
        # given
        client_id, secret, _ = hub.register(AgencyKind.COUNTY_EPB)
        token = hub.token_of(client_id, secret)
        with hub.socket() as ws:
            connect(ws, bearer(token))
            subscribe(ws)
            # when
            revoked = hub.http.post(
                "/oauth/revoke", data={"token": token}, auth=(client_id, secret)
            )
            assert revoked.status_code == 200
            # then
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws)
        assert (closed.value.code, closed.value.reason) == (4401, "token revoked")


async def _watch(db: AsyncSession, agency_id: int, code: str) -> None:
    await add_codes(db, agency_id, [code], now=NOW, replace=False)
    await db.commit()
