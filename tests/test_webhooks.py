"""Webhooks: registration and its SSRF checks, signed at-least-once delivery,
retries and dead letters, isolation between endpoints, and who sees what."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from auth.clients import create_agency, create_client, disable_client
from auth.scopes import PURPOSE_REQUIRED, PURPOSES
from hub.app import create_app
from hub.cli_webhooks import webhook_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind, FeedDataset
from hub.models import Enterprise, WebhookEndpoint
from hub.webhooks.addresses import system_resolver
from hub.webhooks.dispatcher import Dispatcher
from resolvers.changes import encode_cursor
from resolvers.feed import NewEvent, queue
from resolvers.watchlist import add_codes
from seeds import builders as b
from tests.conftest import NOW, Credentials, Tokens
from tests.helpers import data_of, error_of, post_graphql
from tests.webhook_receiver import Receiver, SignatureError, verify

pytestmark = pytest.mark.anyio

ADD_WEBHOOK = """
mutation($url: String!, $datasets: [FeedDataset!], $kinds: [String!],
         $watchlistOnly: Boolean! = false, $fromStart: Boolean! = false) {
  addWebhook(url: $url, datasets: $datasets, kinds: $kinds,
             watchlistOnly: $watchlistOnly, fromStart: $fromStart) {
    webhook { id url datasets kinds watchlistOnly cursor }
    secret
  }
}
"""
WEBHOOKS = "{ webhooks { id url cursor failingSince failedAttempts nextAttemptAt } }"
DELIVERIES = """
query($id: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $id, status: $status, first: 100) {
    id endpointId webhookId seq attempt manual at status httpStatus error durationMs
  }
}
"""
REMOVE_WEBHOOK = "mutation($id: ID!) { removeWebhook(id: $id) { id } }"
REDELIVER = """
mutation($id: ID!) {
  redeliverWebhook(deliveryId: $id) { webhookId seq attempt manual status httpStatus }
}
"""


class Clock:
    """The hub's clock in these tests: fixed until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeDNS:
    """A resolver for the hub (settings.webhooks_resolver): names in `records`
    answer those addresses, *.invalid does not exist, others ask the system."""

    records: dict[str, list[str]] = field(default_factory=dict)

    async def __call__(self, host: str, port: int) -> list[str]:
        if host in self.records:
            return self.records[host]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await system_resolver(host, port)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS()


@pytest.fixture
def settings(settings: Settings, clock: Clock, dns: FakeDNS) -> Settings:
    """Development: receivers listen on loopback (E-family tests)."""
    return replace(
        settings, clock=clock, webhooks_allow_http_loopback=True, webhooks_resolver=dns
    )


@pytest.fixture
def production(settings: Settings) -> Settings:
    """As deployed: https to public addresses only (B8)."""
    return replace(settings, webhooks_allow_http_loopback=False)


@pytest.fixture
async def production_client(
    production: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(production, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c
    await app.state.audit.aclose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def canary() -> Iterator[Receiver]:
    """A listener that must never be contacted."""
    with Receiver() as r:
        yield r


@dataclass(frozen=True, slots=True)
class Agency:
    credentials: Credentials
    headers: dict[str, str]


async def agency(
    tokens: Tokens,
    kind: AgencyKind = AgencyKind.COMMERCIAL_BANK,
    *,
    scope: str | None = None,
    **options: Any,
) -> Agency:
    credentials = await tokens.register(kind, **options)
    token = await tokens.issue(credentials, scope)
    headers = {"Authorization": f"Bearer {token}"}
    if kind in PURPOSE_REQUIRED:
        headers["Hub-Purpose"] = min(PURPOSES[kind]).value
    return Agency(credentials, headers)


async def add_webhook(
    client: httpx.AsyncClient, who: Agency, url: str, **options: Any
) -> dict[str, Any]:
    response = await post_graphql(
        client, ADD_WEBHOOK, {"url": url, **options}, headers=who.headers
    )
    added: dict[str, Any] = data_of(response)["addWebhook"]
    return added


async def deliveries(
    client: httpx.AsyncClient, who: Agency, webhook_id: str
) -> list[dict[str, Any]]:
    response = await post_graphql(
        client, DELIVERIES, {"id": webhook_id}, headers=who.headers
    )
    rows: list[dict[str, Any]] = data_of(response)["webhookDeliveries"]
    return rows


async def enterprises(db: AsyncSession, *districts: str) -> list[Enterprise]:
    made = [b.enterprise(district_code=d) for d in districts]
    db.add_all(made)
    await db.commit()
    return made


async def publish(
    sessionmaker: async_sessionmaker[AsyncSession],
    *events: tuple[Enterprise, FeedDataset, str],
) -> None:
    """Commit change-feed events, as a write of the hub does."""
    async with sessionmaker() as session:
        queue(
            session,
            [
                NewEvent(dataset, kind, owner.id, i, {"n": i}, NOW)
                for i, (owner, dataset, kind) in enumerate(events, 1)
            ],
        )
        await session.commit()


async def dispatch(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> int:
    """`hub dispatch --once` in process: deliver what is due; attempts made."""
    async with Dispatcher(settings, sessionmaker) as dispatcher:
        return await dispatcher.run_once()


async def endpoint_row(db: AsyncSession, webhook_id: str) -> WebhookEndpoint:
    row = await db.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == int(webhook_id))
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


class TestAddWebhook:
    async def test_registers_from_the_head_of_the_feed(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        tokens: Tokens,
        db: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        receiver: Receiver,
    ) -> None:
        # given: two events already in the feed
        (owner,) = await enterprises(db, "320205")
        await publish(
            sessionmaker,
            (owner, FeedDataset.PENALTY, "PUBLISHED"),
            (owner, FeedDataset.RATING, "FINALISED"),
        )
        bank = await agency(tokens)
        # when
        added = await add_webhook(client, bank, receiver.url, datasets=["RATING"])
        # then
        secret = added.pop("secret")
        assert secret.startswith("whsec_")
        assert len(secret) == len("whsec_") + 32
        # kept sealed, under a key only the hub's user reads
        stored = (await db.scalars(select(WebhookEndpoint.secret_sealed))).one()
        assert secret not in stored
        assert secret[6:] not in stored
        key_file = settings.keys_dir / "webhook-secrets.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert added == {
            "webhook": {
                "id": added["webhook"]["id"],
                "url": receiver.url,
                "datasets": ["RATING"],
                "kinds": None,
                "watchlistOnly": False,
                "cursor": encode_cursor(2),
            }
        }
        listed = data_of(await post_graphql(client, WEBHOOKS, headers=bank.headers))
        assert listed["webhooks"] == [
            {
                "id": added["webhook"]["id"],
                "url": receiver.url,
                "cursor": encode_cursor(2),
                "failingSince": None,
                "failedAttempts": 0,
                "nextAttemptAt": None,
            }
        ]

    async def test_a_bank_without_the_scope_is_forbidden(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given: a bank token without webhooks:manage, and an insurer (never holds it)
        bank = await agency(tokens, scope="ratings:read penalties:read")
        insurer = await agency(tokens, AgencyKind.INSURER)
        for who in (bank, insurer):
            # when
            response = await post_graphql(
                client,
                ADD_WEBHOOK,
                {"url": "https://8.8.8.8/hook"},
                headers=who.headers,
            )
            listed = await post_graphql(client, WEBHOOKS, headers=who.headers)
            # then
            assert error_of(response)["extensions"]["code"] == "FORBIDDEN"
            assert response.json()["data"] == {"addWebhook": None}
            assert error_of(listed)["extensions"]["code"] == "FORBIDDEN"
        assert (await db.scalars(select(WebhookEndpoint))).all() == []

    async def test_only_datasets_the_credentials_read(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given: an industry regulator may not read insurance
        regulator = await agency(tokens, AgencyKind.INDUSTRY_REGULATOR)
        # when
        response = await post_graphql(
            client,
            ADD_WEBHOOK,
            {"url": "https://8.8.8.8/hook", "datasets": ["INSURANCE"]},
            headers=regulator.headers,
        )
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "DATASET_NOT_ALLOWED"


class TestSsrf:
    """RELIABILITY B8: refused at registration (no socket is opened) and again
    at delivery, after DNS resolution."""

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("https://10.0.0.1/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://172.16.5.4/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://192.168.1.1/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://127.0.0.1/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://127.1/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://2130706433/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://0x7f000001/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://0.0.0.0/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://[::1]/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://[::ffff:127.0.0.1]/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://169.254.169.254/latest/meta-data", "URL_FORBIDDEN_ADDRESS"),
            ("https://[fd00:ec2::254]/", "URL_FORBIDDEN_ADDRESS"),
            ("https://100.100.100.200/", "URL_FORBIDDEN_ADDRESS"),
            ("https://[fe80::1]/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://localhost/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://rebind.test/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://mixed.test/hook", "URL_FORBIDDEN_ADDRESS"),
            ("http://8.8.8.8/hook", "URL_NOT_HTTPS"),
            ("http://localhost/hook", "URL_NOT_HTTPS"),
            ("file:///etc/passwd", "URL_NOT_HTTPS"),
            ("gopher://8.8.8.8:70/_x", "URL_NOT_HTTPS"),
            ("ftp://8.8.8.8/x", "URL_NOT_HTTPS"),
            ("https://user@8.8.8.8/hook", "URL_INVALID"),
            ("https://8.8.8.8/" + "a" * 10_000, "URL_INVALID"),
            ("https://nowhere.invalid/hook", "URL_UNRESOLVABLE"),
        ],
    )
    async def test_refused_at_registration(
        self,
        production_client: httpx.AsyncClient,
        tokens: Tokens,
        dns: FakeDNS,
        url: str,
        reason: str,
    ) -> None:
        # given: names a resolver maps to private addresses
        dns.records["rebind.test"] = ["127.0.0.1"]
        dns.records["mixed.test"] = ["8.8.8.8", "10.1.2.3"]
        bank = await agency(tokens)
        # when
        response = await post_graphql(
            production_client, ADD_WEBHOOK, {"url": url}, headers=bank.headers
        )
        # then
        error = error_of(response)
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": reason,
            "field": "url",
        }

    async def test_http_only_to_loopback_in_development(
        self, client: httpx.AsyncClient, tokens: Tokens, receiver: Receiver
    ) -> None:
        bank = await agency(tokens)
        assert (await add_webhook(client, bank, receiver.url))["webhook"]["url"]
        for url, reason in [
            ("http://8.8.8.8/hook", "URL_NOT_HTTPS"),
            ("http://10.0.0.1/hook", "URL_FORBIDDEN_ADDRESS"),
            ("https://169.254.169.254/", "URL_FORBIDDEN_ADDRESS"),
        ]:
            response = await post_graphql(
                client, ADD_WEBHOOK, {"url": url}, headers=bank.headers
            )
            assert error_of(response)["extensions"]["reason"] == reason, url

    async def test_rebinding_is_refused_at_delivery(
        self,
        production_client: httpx.AsyncClient,
        production: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        dns: FakeDNS,
        canary: Receiver,
    ) -> None:
        # given: a name that is public at registration (no connection is made)...
        dns.records["rebind.test"] = ["93.184.216.34"]
        bank = await agency(tokens)
        added = await add_webhook(
            production_client, bank, f"https://rebind.test:{canary.port}/hook"
        )
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        # ...and loopback at delivery
        dns.records["rebind.test"] = ["127.0.0.1"]
        # when
        made = await dispatch(production, sessionmaker)
        # then
        assert made == 1
        assert canary.connections == 0
        [attempt] = await deliveries(production_client, bank, added["webhook"]["id"])
        assert attempt["status"] == "FAILED"
        assert attempt["httpStatus"] is None
        assert attempt["error"] == (
            "URL_FORBIDDEN_ADDRESS: rebind.test resolves to a loopback address"
        )

    async def test_redirects_are_not_followed(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
        canary: Receiver,
    ) -> None:
        # given
        receiver.status = 302
        receiver.reply_headers = {"location": canary.url}
        bank = await agency(tokens)
        added = await add_webhook(client, bank, receiver.url)
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        # when
        await dispatch(settings, sessionmaker)
        # then
        [attempt] = await deliveries(client, bank, added["webhook"]["id"])
        assert (attempt["status"], attempt["httpStatus"]) == ("FAILED", 302)
        assert attempt["error"] == "HTTP 302 (redirects are not followed): ok"
        assert canary.connections == 0

    async def test_the_connection_keeps_the_host_name(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        """The vetted address is connected to; Host (and SNI) stay the URL's name."""
        bank = await agency(tokens)
        await add_webhook(client, bank, f"http://localhost:{receiver.port}/hook")
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        await dispatch(settings, sessionmaker)
        assert [r.headers["host"] for r in receiver.received] == [
            f"localhost:{receiver.port}"
        ]


class TestWebhookAccess:
    async def test_another_agencys_webhook_is_not_found(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        # given: bank A's webhook with one delivery
        bank_a, bank_b = await agency(tokens), await agency(tokens)
        added = await add_webhook(client, bank_a, receiver.url)
        webhook_id = added["webhook"]["id"]
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        await dispatch(settings, sessionmaker)
        [delivery] = await deliveries(client, bank_a, webhook_id)
        # when: bank B reaches for them, and for ids that do not exist
        answers = {
            name: await post_graphql(client, query, variables, headers=bank_b.headers)
            for name, query, variables in [
                ("deliveries", DELIVERIES, {"id": webhook_id}),
                ("remove", REMOVE_WEBHOOK, {"id": webhook_id}),
                ("redeliver", REDELIVER, {"id": delivery["id"]}),
                ("no such webhook", REMOVE_WEBHOOK, {"id": "999999"}),
                ("no such delivery", REDELIVER, {"id": "999999"}),
                ("not an id", DELIVERIES, {"id": "x'; --"}),
            ]
        }
        listed = data_of(await post_graphql(client, WEBHOOKS, headers=bank_b.headers))
        logged = await post_graphql(
            client, "{ webhookDeliveries { id } }", headers=bank_b.headers
        )
        # then
        assert data_of(logged) == {"webhookDeliveries": []}
        for name, response in answers.items():
            assert error_of(response)["extensions"]["code"] == "NOT_FOUND", name
        assert listed == {"webhooks": []}
        assert receiver.ids() == ["evt_1"]
        assert len(await deliveries(client, bank_a, webhook_id)) == 1

    async def test_a_removed_webhook_gets_nothing(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        bank = await agency(tokens)
        added = await add_webhook(client, bank, receiver.url)
        removed = await post_graphql(
            client, REMOVE_WEBHOOK, {"id": added["webhook"]["id"]}, headers=bank.headers
        )
        assert data_of(removed) == {"removeWebhook": {"id": added["webhook"]["id"]}}
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        assert await dispatch(settings, sessionmaker) == 0
        listed = data_of(await post_graphql(client, WEBHOOKS, headers=bank.headers))
        assert listed == {"webhooks": []}
        assert receiver.ids() == []


class TestDelivery:
    async def test_a_recorded_penalty_arrives_signed(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        # given: a bank's webhook, then a penalty recorded by the bureau
        bank = await agency(tokens)
        added = await add_webhook(client, bank, receiver.url)
        (owner,) = await enterprises(db, "320205")
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        recorded = await post_graphql(
            client,
            "mutation($input: PenaltyInput!) { recordPenalty(input: $input) { id } }",
            {
                "input": {
                    "decisionNumber": "锡山环罚决〔2026〕7号",
                    "enterpriseCode": owner.code,
                    "categories": ["WARNING"],
                    "violationType": "未按规定设置排污口标志",
                    "facts": "现场检查发现排污口未设置标志牌。",
                    "legalBasis": "《水污染防治法》第八十四条",
                    "decisionDate": "2026-06-01",
                    "authorityName": "无锡市锡山生态环境局",
                    "authorityCode": b.CITY_BUREAU_CODE,
                }
            },
            headers=epb,
        )
        penalty_id = int(data_of(recorded)["recordPenalty"]["id"])
        # when
        assert await dispatch(settings, sessionmaker) == 1
        # then: a message any Standard Webhooks verifier accepts
        [message] = receiver.received
        now = NOW.timestamp()
        assert (
            verify(added["secret"], message.headers, message.body, now=now) == "evt_1"
        )
        assert message.headers["webhook-timestamp"] == str(int(now))
        assert message.headers["content-type"] == "application/json"
        assert message.json == {
            "type": "penalty.published",
            "timestamp": "2026-06-15T04:00:00Z",
            "data": {
                "seq": 1,
                "dataset": "PENALTY",
                "kind": "PUBLISHED",
                "enterpriseCode": owner.code,
                "recordId": penalty_id,
                "payload": {
                    "decisionNumber": "锡山环罚决〔2026〕7号",
                    "categories": ["WARNING"],
                    "decisionDate": "2026-06-01",
                    "authority": "无锡市锡山生态环境局",
                    "status": "EFFECTIVE",
                    "publicationEndDate": "2029-06-01",
                },
            },
        }
        [logged] = await deliveries(client, bank, added["webhook"]["id"])
        assert logged | {"id": "-", "durationMs": 0} == {
            "id": "-",
            "endpointId": added["webhook"]["id"],
            "webhookId": "evt_1",
            "seq": "1",
            "attempt": 1,
            "manual": False,
            "at": "2026-06-15T04:00:00+00:00",
            "status": "DELIVERED",
            "httpStatus": 200,
            "error": None,
            "durationMs": 0,
        }

    async def test_the_reference_verifier_refuses_tampering(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        bank = await agency(tokens)
        secret = (await add_webhook(client, bank, receiver.url))["secret"]
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.RATING, "DOWNGRADED"))
        await dispatch(settings, sessionmaker)
        [message] = receiver.received
        headers, body, now = message.headers, message.body, NOW.timestamp()
        signature = headers["webhook-signature"]
        # a second secret during rotation: either signature is enough
        rotated = headers | {"webhook-signature": f"v1,AAAA {signature}"}
        assert verify(secret, rotated, body, now=now) == "evt_1"
        assert message.json["type"] == "rating.downgraded"
        for forged_headers, forged_body, at in [
            (headers, body.replace(b"DOWNGRADED", b"FINALISED"), now),
            (headers | {"webhook-id": "evt_2"}, body, now),
            (headers | {"webhook-timestamp": str(int(now) + 1)}, body, now),
            (headers, body, now + 301),
            (headers, body, now - 301),
            (headers | {"webhook-signature": "v2," + signature[3:]}, body, now),
        ]:
            with pytest.raises(SignatureError):
                verify(secret, forged_headers, forged_body, now=at)
        with pytest.raises(SignatureError):
            verify("whsec_" + "A" * 32, headers, body, now=now)

    async def test_events_arrive_in_order_from_where_the_webhook_started(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        # given: one event before the webhook (not sent), five after
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        bank = await agency(tokens)
        await add_webhook(client, bank, receiver.url)
        await publish(sessionmaker, *[(owner, FeedDataset.PENALTY, "CHANGED")] * 5)
        # when
        assert await dispatch(settings, sessionmaker) == 5
        assert await dispatch(settings, sessionmaker) == 0
        # then
        assert receiver.ids() == ["evt_2", "evt_3", "evt_4", "evt_5", "evt_6"]
        listed = data_of(await post_graphql(client, WEBHOOKS, headers=bank.headers))
        assert listed["webhooks"][0]["cursor"] == encode_cursor(6)
        # and from the start of the feed when asked
        again = await add_webhook(client, bank, receiver.url, fromStart=True)
        assert again["webhook"]["cursor"] == encode_cursor(0)
        assert await dispatch(settings, sessionmaker) == 6

    async def test_a_county_bureau_gets_its_district_only(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        """RELIABILITY E7: no event about another jurisdiction's enterprises."""
        county = await agency(tokens, AgencyKind.COUNTY_EPB, district="320205")
        await add_webhook(client, county, receiver.url)
        xishan, huishan = await enterprises(db, "320205", "320206")
        await publish(
            sessionmaker,
            (huishan, FeedDataset.PENALTY, "PUBLISHED"),
            (xishan, FeedDataset.PENALTY, "PUBLISHED"),
            (huishan, FeedDataset.RATING, "DOWNGRADED"),
        )
        await dispatch(settings, sessionmaker)
        assert receiver.ids() == ["evt_2"]
        assert receiver.received[0].json["data"]["enterpriseCode"] == xishan.code

    async def test_watchlist_datasets_and_kinds_narrow_the_events(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        # given: a bank watching one borrower, with three differently narrowed webhooks
        bank = await agency(tokens)
        borrower, other = await enterprises(db, "320205", "320211")
        await add_codes(
            db, bank.credentials.agency_id, [borrower.code], now=NOW, replace=False
        )
        await db.commit()
        with Receiver() as watched, Receiver() as ratings, Receiver() as downgrades:
            await add_webhook(client, bank, watched.url, watchlistOnly=True)
            await add_webhook(client, bank, ratings.url, datasets=["RATING"])
            await add_webhook(
                client, bank, downgrades.url, datasets=["RATING"], kinds=["DOWNGRADED"]
            )
            await publish(
                sessionmaker,
                (other, FeedDataset.RATING, "DOWNGRADED"),
                (borrower, FeedDataset.PENALTY, "PUBLISHED"),
                (borrower, FeedDataset.RATING, "FINALISED"),
                (other, FeedDataset.PENALTY, "PUBLISHED"),
                (borrower, FeedDataset.RATING, "DOWNGRADED"),
            )
            # when
            await dispatch(settings, sessionmaker)
            # then
            assert watched.ids() == ["evt_2", "evt_3", "evt_5"]
            assert ratings.ids() == ["evt_1", "evt_3", "evt_5"]
            assert downgrades.ids() == ["evt_1", "evt_5"]
        listed = data_of(await post_graphql(client, WEBHOOKS, headers=bank.headers))
        assert [w["cursor"] for w in listed["webhooks"]] == [encode_cursor(5)] * 3

    async def test_a_disabled_client_gets_nothing_more(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        bank = await agency(tokens)
        await add_webhook(client, bank, receiver.url)
        await disable_client(db, bank.credentials.client_id, now=NOW)
        await db.commit()
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        assert await dispatch(settings, sessionmaker) == 0
        assert receiver.ids() == []


FAILURES = "hub_webhook_delivery_failures_total"


class TestRetries:
    async def test_backoff_for_24_hours_then_dead_then_redelivered(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        clock: Clock,
        receiver: Receiver,
    ) -> None:
        # given: a receiver that answers 500
        receiver.status = 500
        receiver.reply_body = b"upstream down"
        bank = await agency(tokens)
        labels = {"agency": str(bank.credentials.agency_id)}
        failed_before = REGISTRY.get_sample_value(FAILURES, labels) or 0
        webhook_id = (await add_webhook(client, bank, receiver.url))["webhook"]["id"]
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.RATING, "DOWNGRADED"))
        # when: the dispatcher runs whenever the event is due, and in between
        waits: list[timedelta] = []
        while True:
            assert await dispatch(settings, sessionmaker) == 1
            endpoint = await endpoint_row(db, webhook_id)
            if endpoint.next_attempt_at is None:
                break
            waits.append(endpoint.next_attempt_at - clock.now)
            clock.now += waits[-1] - timedelta(seconds=1)
            assert await dispatch(settings, sessionmaker) == 0, "retried early"
            clock.now += timedelta(seconds=1)
        # then: 10 s, 20 s, 40 s ... (less up to 10 % jitter), at most an hour
        for n, wait in enumerate(waits):
            nominal = min(10 * 2**n, 3600)
            assert 0.9 * nominal <= wait.total_seconds() <= nominal, (n, wait)
        assert timedelta(hours=24) <= clock.now - NOW < timedelta(hours=25)
        assert endpoint.cursor_seq == 1
        assert receiver.ids() == ["evt_1"] * (len(waits) + 1)
        # the log, read with a token of the new day
        bank = Agency(
            bank.credentials,
            bank.headers
            | {"Authorization": f"Bearer {await tokens.issue(bank.credentials)}"},
        )
        log = await deliveries(client, bank, webhook_id)
        assert [d["status"] for d in log] == ["DEAD"] + ["FAILED"] * len(waits)
        assert [d["attempt"] for d in log] == list(range(len(waits) + 1, 0, -1))
        assert {(d["webhookId"], d["httpStatus"]) for d in log} == {("evt_1", 500)}
        assert log[0]["error"] == "HTTP 500: upstream down"
        # every failed attempt counted for the agency in /metrics
        failed = REGISTRY.get_sample_value(FAILURES, labels) or 0
        assert failed - failed_before == len(waits) + 1
        # and the endpoint moves on once the receiver is back
        receiver.status = 200
        await publish(sessionmaker, (owner, FeedDataset.RATING, "REPAIRED"))
        assert await dispatch(settings, sessionmaker) == 1
        assert receiver.ids()[-1] == "evt_2"
        # when: the dead event is redelivered by hand
        response = await post_graphql(
            client, REDELIVER, {"id": log[0]["id"]}, headers=bank.headers
        )
        # then
        assert data_of(response) == {
            "redeliverWebhook": {
                "webhookId": "evt_1",
                "seq": "1",
                "attempt": len(waits) + 2,
                "manual": True,
                "status": "DELIVERED",
                "httpStatus": 200,
            }
        }
        assert receiver.ids()[-1] == "evt_1"
        assert (await endpoint_row(db, webhook_id)).cursor_seq == 2

    async def test_retry_after_is_honoured(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        clock: Clock,
        receiver: Receiver,
    ) -> None:
        receiver.status = 429
        receiver.reply_headers = {"retry-after": "120"}
        bank = await agency(tokens)
        webhook_id = (await add_webhook(client, bank, receiver.url))["webhook"]["id"]
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.RATING, "DOWNGRADED"))
        await dispatch(settings, sessionmaker)
        endpoint = await endpoint_row(db, webhook_id)
        assert endpoint.next_attempt_at == clock.now + timedelta(seconds=120)


class TestIsolation:
    async def test_a_slow_receiver_does_not_delay_another(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        # given: one agency's receiver takes 2 s per answer (registered first)
        bank, other = await agency(tokens), await agency(tokens)
        with Receiver(delay=2.0) as slow, Receiver() as fast:
            slow_id = (await add_webhook(client, bank, slow.url))["webhook"]["id"]
            await add_webhook(client, other, fast.url)
            (owner,) = await enterprises(db, "320205")
            await publish(
                sessionmaker, *[(owner, FeedDataset.PENALTY, "PUBLISHED")] * 3
            )
            # when: attempts time out after 0.5 s
            started = time.monotonic()
            await dispatch(replace(settings, webhooks_timeout=0.5), sessionmaker)
            elapsed = time.monotonic() - started
            # then: the fast one was served at once, not after the slow one's 0.5 s
            assert fast.ids() == ["evt_1", "evt_2", "evt_3"]
            assert fast.received[0].at - started < 0.45
            assert slow.ids() == ["evt_1"]
        assert elapsed < 1.5
        [attempt] = await deliveries(client, bank, slow_id)
        assert attempt["status"] == "FAILED"
        assert attempt["error"] == "timed out after 0.5 s"
        assert 450 <= attempt["durationMs"] < 1000

    async def test_a_long_reply_is_cut_short(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
        receiver: Receiver,
    ) -> None:
        receiver.status = 500
        receiver.reply_body = b"x" * 5_000_000
        bank = await agency(tokens)
        webhook_id = (await add_webhook(client, bank, receiver.url))["webhook"]["id"]
        (owner,) = await enterprises(db, "320205")
        await publish(sessionmaker, (owner, FeedDataset.PENALTY, "PUBLISHED"))
        await dispatch(settings, sessionmaker)
        [attempt] = await deliveries(client, bank, webhook_id)
        assert attempt["httpStatus"] == 500
        assert len(attempt["error"]) == 500


# `hub dispatch` (hub/cli_webhooks.py), run as its own process.
DISPATCH = [
    sys.executable,
    "-c",
    "import typer; from hub.cli_webhooks import dispatch_command; "
    "typer.run(dispatch_command)",
]
BANK = "演示银行无锡分行"


async def arrange_bank(url: str, events: int) -> Enterprise:
    """A bank with one client, an enterprise and `events` events, in `url`."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with create_sessionmaker(engine)() as session:
            bank = await create_agency(
                session, name=BANK, kind=AgencyKind.COMMERCIAL_BANK, now=NOW
            )
            await create_client(session, agency=bank, now=NOW)
            owner = b.enterprise()
            session.add(owner)
            await session.commit()
        await publish_in(url, owner, events)
        return owner
    finally:
        await engine.dispose()


async def publish_in(url: str, owner: Enterprise, events: int) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        await publish(
            create_sessionmaker(engine),
            *[(owner, FeedDataset.PENALTY, "PUBLISHED")] * events,
        )
    finally:
        await engine.dispose()


def start_dispatcher(cli: Path, *args: str) -> "subprocess.Popen[bytes]":
    with (cli / "dispatch.log").open("ab") as log:
        return subprocess.Popen([*DISPATCH, *args], stdout=log, stderr=log)


def test_webhook_commands(cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("HUB_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "true")
    asyncio.run(arrange_bank(os.environ["HUB_DATABASE_URL"], events=2))
    runner = CliRunner()
    with Receiver() as receiver:
        # when
        added = runner.invoke(
            webhook_app,
            [
                *("add", "--agency", BANK, "--url", receiver.url),
                *("--dataset", "penalty", "--from-start"),
            ],
        )
        refused = runner.invoke(
            webhook_app, ["add", "--agency", BANK, "--url", "https://10.0.0.1/x"]
        )
        listed = runner.invoke(webhook_app, ["list"])
        once = start_dispatcher(cli, "--once")
        assert once.wait(30) == 0, (cli / "dispatch.log").read_text()
        removed = runner.invoke(webhook_app, ["remove", "1"])
        after = runner.invoke(webhook_app, ["list"])
        # then
        assert added.exit_code == 0, added.output
        webhook_line, secret_line = added.stdout.splitlines()
        assert webhook_line == "webhook: 1"
        secret = secret_line.removeprefix("secret: ")
        assert "shown once" in added.stderr
        assert refused.exit_code == 1
        assert "10.0.0.1 is a private address" in refused.stderr
        assert listed.exit_code == 0, listed.output
        assert receiver.url in listed.stdout
        assert "PENALTY" in listed.stdout
        assert "1 webhook(s)" in listed.stderr
        assert receiver.ids() == ["evt_1", "evt_2"]
        for message in receiver.received:
            verify(secret, message.headers, message.body, now=time.time())
        assert removed.exit_code == 0, removed.output
        assert "0 webhook(s)" in after.stderr


def test_kill_9_of_the_dispatcher_loses_no_event(
    cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RELIABILITY E1/E2: the dispatcher is killed while a request is in flight;
    the events written meanwhile and afterwards all arrive, in order, and
    deduplicating by webhook-id gives exactly the feed."""
    # given: 60 events, a webhook from the start, a receiver that holds evt_40
    monkeypatch.setenv("HUB_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "true")
    monkeypatch.setenv("HUB_WEBHOOKS_TIMEOUT", "1")  # its lease lapses in 3 s
    url = os.environ["HUB_DATABASE_URL"]
    owner = asyncio.run(arrange_bank(url, events=60))
    log = cli / "dispatch.log"
    with Receiver() as receiver:
        added = CliRunner().invoke(
            webhook_app,
            ["add", "--agency", BANK, "--url", receiver.url, "--from-start"],
        )
        secret = added.stdout.splitlines()[1].removeprefix("secret: ")
        in_flight = receiver.hold("evt_40")
        first = start_dispatcher(cli, "--interval", "0.1")
        # when: kill -9 while evt_40 is being delivered
        try:
            assert in_flight.wait(30), log.read_text()
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        receiver.release()
        # the hub writes on while no dispatcher runs, and after it is back
        asyncio.run(publish_in(url, owner, 40))
        second = start_dispatcher(cli, "--interval", "0.1")
        try:
            assert receiver.wait_for(lambda ids: len(set(ids)) == 100, 60), (
                log.read_text()
            )
            asyncio.run(publish_in(url, owner, 20))
            assert receiver.wait_for(lambda ids: len(set(ids)) == 120, 60), (
                log.read_text()
            )
        finally:
            second.send_signal(signal.SIGTERM)
            stopped = second.wait(15)
    # then
    assert first.returncode == -signal.SIGKILL
    assert stopped == 0, log.read_text()
    ids = receiver.ids()
    feed = [f"evt_{seq}" for seq in range(1, 121)]
    assert list(dict.fromkeys(ids)) == feed  # each at least once, first seen in order
    assert ids.count("evt_40") == 2  # the one in flight, sent again with its id
    assert len(ids) - len(feed) == 1
    for message in receiver.received:
        assert verify(secret, message.headers, message.body, now=time.time())
