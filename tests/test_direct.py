"""The direct path (hub/direct.py) answers exactly as strawberry's hooks do.

Every request goes to the hub as configured and to the same hub with
HUB_DIRECT_EXECUTION off, over one database: the status, the body (request
ids aside), the rate-limit headers and the audit entry must be the same.
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions import SchemaExtension

from hub.app import create_app
from hub.config import Settings
from hub.direct import direct_counts
from hub.enums import AgencyKind
from hub.graphql import QuietSchema, create_schema
from hub.models import AuditEntry, Enterprise
from schema.build import build_schema
from seeds import builders as b
from tests.conftest import Tokens, serving
from tests.helpers import data_of, post_graphql
from tests.test_enterprises_by_codes import add_enterprises

pytestmark = pytest.mark.anyio

FIELDS = (
    "code name district { code name } currentRating { grade score validFrom } "
    "penalties { decisionNumber fineAmount status } riskLevel { overallLevel } "
    "insurance { policyNumber status }"
)

# How each case is answered: resolvers called directly ("resolved"), by
# graphql-core's execution after the direct path's steps ("executed"), or
# through strawberry's hooks ("hooks").
RESOLVED, EXECUTED, HOOKS = (1, 1), (1, 0), (0, 0)

# name -> (document, variables from the enterprises' codes, how it is answered)
CASES: dict[str, tuple[str, Any, tuple[int, int]]] = {
    "single lookup": (
        f"query Lookup($code: String!) {{ enterprise(code: $code) {{ {FIELDS} }} }}",
        lambda c: {"code": c[0]},
        RESOLVED,
    ),
    "operation named by the request only": (
        f"query($code: String!) {{ enterprise(code: $code) {{ {FIELDS} }} }}",
        lambda c: {"code": c[0].lower()},
        RESOLVED,
    ),
    "batch with an unknown code": (
        "query Batch($codes: [String!]!) "
        f"{{ enterprisesByCodes(codes: $codes) {{ {FIELDS} }} }}",
        lambda c: {"codes": [*c, b.credit_code(987_654)]},
        RESOLVED,
    ),
    "two root fields, aliases and a fragment": (
        "query Two($a: String!, $b: String!) { first: enterprise(code: $a) "
        "{ ...E } second: enterprise(code: $b) { ...E currentRating { grade } } } "
        "fragment E on Enterprise { code name }",
        lambda c: {"a": c[0], "b": c[1]},
        RESOLVED,
    ),
    "__typename at the root": (
        "query Lookup($code: String!) { __typename enterprise(code: $code) { code } }",
        lambda c: {"code": c[0]},
        EXECUTED,
    ),
    "list page": (
        "query Page { enterprises(first: 2) { totalCount nodes { code "
        "currentRating { grade } } pageInfo { hasNextPage endCursor } } }",
        lambda c: {},
        RESOLVED,
    ),
    "a malformed code (the resolver refuses)": (
        "query Lookup($code: String!) { enterprise(code: $code) { code } }",
        lambda c: {"code": "not a code"},
        EXECUTED,
    ),
    "a variable of the wrong type": (
        "query Lookup($code: String!) { enterprise(code: $code) { code } }",
        lambda c: {"code": 42},
        EXECUTED,
    ),
    "a field the caller may not read": (
        "query Lookup($code: String!) { enterprise(code: $code) { code "
        "accessLog { nodes { purpose } } } }",
        lambda c: {"code": c[0]},
        HOOKS,
    ),
    "introspection": ("{ __schema { queryType { name } } }", lambda c: {}, HOOKS),
    "an invalid document": ("{ enterprise { nope } }", lambda c: {}, HOOKS),
    "a syntax error": ("{ enterprise(", lambda c: {}, HOOKS),
    "two operations, none named": (
        "query A { __typename } query B { __typename }",
        lambda c: {},
        HOOKS,
    ),
    "a mutation": (
        "mutation { recordEnterprise(input: {}) { __typename } }",
        lambda c: {},
        HOOKS,
    ),
}

AUDITED = (
    "kind",
    "outcome",
    "client_id",
    "agency_kind",
    "scopes",
    "purpose",
    "operation_name",
    "document_sha256",
    "variables",
    "enterprises",
    "fields",
    "denied",
    "reason",
)


@pytest.fixture
async def hooked(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The same hub with every request through strawberry's hooks."""
    app = create_app(
        replace(settings, direct_execution=False), sessionmaker=sessionmaker
    )
    async with serving(app) as client:
        yield client


def comparable(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    for error in body.get("errors", []):
        error.get("extensions", {}).pop("requestId", None)
        error["message"] = error["message"].split(" (request ")[0]
    limits = {k: v for k, v in response.headers.items() if k.startswith("x-ratelimit")}
    retry = response.headers.get("retry-after")
    return {
        "status": response.status_code,
        "body": body,
        "limits": limits,
        "retry": retry,
    }


async def audited(db: AsyncSession, response: httpx.Response) -> dict[str, Any]:
    request_id = response.headers["x-request-id"]
    entry = await db.scalar(
        select(AuditEntry).where(AuditEntry.request_id == request_id)
    )
    assert entry is not None
    return {name: getattr(entry, name) for name in AUDITED}


async def ask_both(
    client: httpx.AsyncClient,
    hooked: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> tuple[httpx.Response, httpx.Response, tuple[int, int]]:
    """Both hubs' answers, and how the direct path served the first (see
    RESOLVED, EXECUTED, HOOKS)."""
    before = direct_counts()
    direct = await post_graphql(client, query, variables, headers=headers)
    middle = direct_counts()
    through_hooks = await post_graphql(hooked, query, variables, headers=headers)
    assert direct_counts() == middle  # the hooked hub never takes it
    served = (
        middle["answered"] - before["answered"],
        middle["resolved"] - before["resolved"],
    )
    return direct, through_hooks, served


@pytest.mark.parametrize("name", CASES)
async def test_the_same_answer_and_audit_entry_both_ways(
    name: str,
    client: httpx.AsyncClient,
    hooked: httpx.AsyncClient,
    db: AsyncSession,
    tokens: Tokens,
) -> None:
    # given
    codes = await add_enterprises(db, 3)
    query, variables_of, expected = CASES[name]
    headers = {
        **await tokens.headers(AgencyKind.COMMERCIAL_BANK),
        "Hub-Purpose": "LOAN_APPROVAL",
    }
    # when
    direct, through_hooks, served = await ask_both(
        client, hooked, query, variables_of(codes), headers
    )
    # then
    assert served == expected
    assert comparable(direct) == comparable(through_hooks)
    await db.commit()  # a fresh snapshot: the entries were written meanwhile
    assert await audited(db, direct) == await audited(db, through_hooks)


async def test_an_anonymous_lookup_of_published_data(
    client: httpx.AsyncClient, hooked: httpx.AsyncClient, db: AsyncSession
) -> None:
    # given
    codes = await add_enterprises(db, 1)
    query = "query($code: String!) { enterprise(code: $code) { code currentRating { grade } } }"
    # when
    direct, through_hooks, served = await ask_both(
        client, hooked, query, {"code": codes[0]}, {}
    )
    # then
    assert served == RESOLVED
    assert comparable(direct) == comparable(through_hooks)
    assert direct.json()["data"]["enterprise"]["code"] == codes[0]


TWO_OPERATIONS = (
    "query Full($code: String!) { enterprise(code: $code) "
    "{ code legalRepresentative } } "
    "query Plain($code: String!) { enterprise(code: $code) { code name } }"
)


class TestOperations:
    async def test_each_operation_of_a_document_answers_for_itself(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a document of two operations, and the bureau, which may read
        # legal representatives, running the first
        (code,) = await add_enterprises(db, 1)
        name = await db.scalar(select(Enterprise.name).where(Enterprise.code == code))
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        full = await client.post(
            "/graphql",
            json={
                "query": TWO_OPERATIONS,
                "operationName": "Full",
                "variables": {"code": code},
            },
            headers=epb,
        )
        assert data_of(full)["enterprise"]["legalRepresentative"]
        # when an industry regulator, which may not, runs the second
        regulator = await tokens.headers(AgencyKind.INDUSTRY_REGULATOR)
        plain = await client.post(
            "/graphql",
            json={
                "query": TWO_OPERATIONS,
                "operationName": "Plain",
                "variables": {"code": code},
            },
            headers=regulator,
        )
        # then it gets the second's answer, not the first's
        assert data_of(plain) == {"enterprise": {"code": code, "name": name}}


class TestBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """Room for two single lookups (15 points each), refilled slowly."""
        return replace(
            settings, max_cost=20, budget_points=30, budget_refill_per_second=0.01
        )

    async def test_an_exhausted_budget_is_refused_alike(
        self,
        client: httpx.AsyncClient,
        hooked: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given
        codes = await add_enterprises(db, 1)
        query, variables_of, _ = CASES["single lookup"]
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        answers = []
        # when: each hub keeps its own buckets, so both run dry alike
        for _ in range(4):
            answers.append(
                await ask_both(client, hooked, query, variables_of(codes), headers)
            )
        # then
        statuses = [direct.status_code for direct, _, _ in answers]
        assert statuses == [200, 200, 429, 429]
        assert [served for _, _, served in answers] == [RESOLVED] * 2 + [EXECUTED] * 2
        for direct, through_hooks, _ in answers:
            assert comparable(direct) == comparable(through_hooks)
        await db.commit()
        for direct, through_hooks, _ in answers:
            assert await audited(db, direct) == await audited(db, through_hooks)


class TestTimeout:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """So short that a request's first database query is cancelled."""
        return replace(settings, request_timeout_seconds=1e-6)

    async def test_a_query_past_the_timeout_is_cancelled_alike(
        self,
        client: httpx.AsyncClient,
        hooked: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
    ) -> None:
        # given
        codes = await add_enterprises(db, 2)
        query, variables_of, _ = CASES["batch with an unknown code"]
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        # when
        direct, through_hooks, served = await ask_both(
            client, hooked, query, variables_of(codes * 200), headers
        )
        # then
        assert served == EXECUTED
        assert direct.status_code == 504
        assert comparable(direct) == comparable(through_hooks)
        await db.commit()
        assert await audited(db, direct) == await audited(db, through_hooks)


class Elsewhere(SchemaExtension):
    """An extension the direct path knows nothing of."""

    def on_execute(self) -> Iterator[None]:
        yield


def test_a_schema_with_another_extension_is_left_to_strawberry() -> None:
    # given
    hub = create_schema()
    # when
    known = [e for e in hub.extensions if isinstance(e, type)]
    other = build_schema(
        extensions=[*known, Elsewhere],
        schema_class=QuietSchema,
        execution_context_class=hub.execution_context_class,
    )
    # then
    assert isinstance(hub, QuietSchema)
    assert isinstance(other, QuietSchema)
    assert hub.direct.usable
    assert not other.direct.usable
