"""/metrics: what it counts, with which labels, and who may read it.

The counters are the process's own (prometheus_client's registry), shared
by every app a test run builds, so tests compare values before and after.
"""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.datastructures import Secret

from hub.app import create_app
from hub.config import Settings
from tests.conftest import Tokens
from tests.helpers import data_of, post_graphql

pytestmark = pytest.mark.anyio

LOOKUP = "query Lookup($code: String!) { enterprise(code: $code) { name } }"
CODE = "91110108600037341D"  # valid, and no such enterprise
COUNT = """
import asyncio, httpx
from hub.app import create_app
from hub.config import Settings
async def main():
    app = create_app(Settings(database_url={url!r}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        print((await c.get("/metrics")).text)
asyncio.run(main())
"""


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[str]], float]:
    """Every sample of /metrics by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def samples(text: str) -> dict[tuple[str, frozenset[str]], float]:
    return {
        (s.name, frozenset(f"{k}={v}" for k, v in s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[str]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(f"{k}={v}" for k, v in labels.items())), 0.0)


class TestCounts:
    async def test_graphql_request(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        bank = await tokens.register()
        headers = {
            "Authorization": f"Bearer {await tokens.issue(bank)}",
            "Hub-Purpose": "LOAN_APPROVAL",
        }
        labels = {
            "kind": "GRAPHQL",
            "operation": "Lookup",
            "outcome": "OK",
            "agency_kind": "COMMERCIAL_BANK",
        }
        before = await scrape(client)
        # when
        data_of(await post_graphql(client, LOOKUP, {"code": CODE}, headers=headers))
        # then
        after = await scrape(client)
        for name in ("hub_requests_total", "hub_request_duration_seconds_count"):
            assert value(after, name, **labels) - value(before, name, **labels) == 1
        batches = "hub_audit_batch_size_count"
        assert value(after, batches) - value(before, batches) == 1
        assert value(after, "hub_audit_queue_depth") == 0

    async def test_unknown_operation_names_are_bounded(
        self, client: httpx.AsyncClient
    ) -> None:
        # given: a name no answered request carried
        query = "query NoSuchField { nope }"
        # when
        await post_graphql(client, query)
        # then: a refused document's name is not a label
        text = (await client.get("/metrics")).text
        assert 'operation="NoSuchField"' not in text

    async def test_tokens_issued_and_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        bank = await tokens.register()
        before = await scrape(client)
        # when: one token issued, one refused at /oauth/token, one bearer refused
        await tokens.issue(bank)
        refused = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(bank.client_id, "wrong secret"),
        )
        bad = await post_graphql(
            client, LOOKUP, {"code": CODE}, headers={"Authorization": "Bearer x.y.z"}
        )
        # then
        assert (refused.status_code, bad.status_code) == (401, 401)
        after = await scrape(client)
        delta = {
            (name, frozenset(labels.items())): value(after, name, **labels)
            - value(before, name, **labels)
            for name, labels in [
                ("hub_tokens_issued_total", {}),
                (
                    "hub_token_rejections_total",
                    {"source": "token_endpoint", "reason": "INVALID_CLIENT"},
                ),
                (
                    "hub_token_rejections_total",
                    {"source": "bearer", "reason": "TOKEN_MALFORMED"},
                ),
            ]
        }
        assert list(delta.values()) == [1, 1, 1]

    async def test_pool_and_outbox(self, client: httpx.AsyncClient) -> None:
        scraped = await scrape(client)
        assert value(scraped, "hub_db_pool_size", pool="requests") >= 1
        assert value(scraped, "hub_db_pool_connections_in_use", pool="requests") == 0
        # no webhook endpoint: nothing waits
        assert ("hub_webhook_outbox_backlog", frozenset()) in scraped
        assert value(scraped, "hub_webhook_outbox_backlog") == 0


class TestAccess:
    async def test_other_address_gets_404(self, app: Starlette) -> None:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 1234))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            response = await c.get("/metrics")
        assert (response.status_code, response.text) == (404, "Not Found")

    async def test_allowed_network(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given: HUB_METRICS_ALLOW names the scraper's network
        monkeypatch.setenv("HUB_METRICS_ALLOW", "10.0.0.0/8, 192.0.2.1/32")
        allow = Settings.from_env(env_file=None).metrics_allow
        app = create_app(
            replace(settings, metrics_allow=allow), sessionmaker=sessionmaker
        )
        transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 1234))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            # when
            response = await c.get("/metrics")
        # then
        assert response.status_code == 200
        assert [str(n) for n in allow] == ["10.0.0.0/8", "192.0.2.1/32"]

    async def test_token_required_when_configured(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # given
        configured = replace(settings, metrics_token=Secret("s3cret-scraper"))
        app = create_app(configured, sessionmaker=sessionmaker)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            # when
            missing = await c.get("/metrics")
            wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await c.get(
                "/metrics", headers={"Authorization": "Bearer s3cret-scraper"}
            )
        # then
        assert [missing.status_code, wrong.status_code, right.status_code] == [
            401,
            401,
            200,
        ]


class TestMultiprocess:
    def test_workers_counts_are_summed(self, tmp_path: Path, database_url: str) -> None:
        """Two processes count; a third one's /metrics shows the sum."""
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
        count = "from hub.metrics import TOKENS_ISSUED; TOKENS_ISSUED.inc()"
        for _ in range(2):
            subprocess.run([sys.executable, "-c", count], env=env, check=True)
        scraped = subprocess.run(
            [sys.executable, "-c", COUNT.format(url=database_url)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert value(samples(scraped), "hub_tokens_issued_total") == 2
