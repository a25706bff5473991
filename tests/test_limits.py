"""Abuse limits (RELIABILITY A1-A7): document shape and cost, refused before anything runs."""

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.enums import AgencyKind
from hub.models import Enterprise, PenaltyDecision
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql
from tests.test_collect import RECORD_PENALTY, penalty_input

pytestmark = pytest.mark.anyio

STYLES = ["fields", "named fragments", "inline fragments", "aliases"]

# What a bank asks for 1,000 enterprises at once: the four datasets.
BANK_BATCH_QUERY = """
query($codes: [String!]!) {
  enterprisesByCodes(codes: $codes) {
    code name
    currentRating { grade validFrom }
    penalties { decisionNumber decisionDate categories }
    riskLevel { overallLevel }
    insurance { policyNumber endDate }
  }
}
"""

# Everything an enterprise's profile holds (tests/test_enterprises_by_codes.py).
FULL_BATCH_QUERY = """
query($codes: [String!]!) {
  enterprisesByCodes(codes: $codes) {
    code name district { code name } industry supervisionCategory status address legalRepresentative
    currentRating { grade score validFrom enterprise { code } }
    ratingHistory { grade scheme status enterprise { name } }
    penalties { decisionNumber fineAmount categories enterprise { code } }
    riskLevel { overallLevel air { level q } water { level } }
    insurance { policyNumber premium }
    compulsoryInsuranceYears
  }
}
"""

# A7, nested: 100 enterprises × 10 grades × 10 penalties × 10 grades, 8 deep.
NESTED_LISTS_QUERY = """
{
  enterprises(first: 100) {
    nodes {
      ratingHistory { enterprise { penalties { enterprise { ratingHistory { grade } } } } }
    }
  }
}
"""

FRAGMENT_CYCLE_QUERY = """
query { ...A }
fragment A on Query { ...B }
fragment B on Query { ...A }
"""


def deep_query(depth: int, style: str = "fields") -> str:
    """enterprise { penalties { enterprise { … name } } }, `depth` fields deep,
    each level written plainly, in a named or an inline fragment, or aliased."""
    names = (["enterprise(code: $code)"] + ["penalties", "enterprise"] * depth)[
        : depth - 1
    ]
    types = [
        "Enterprise" if n.startswith("enterprise") else "PenaltyDecision" for n in names
    ]
    inner = "name" if types[-1] == "Enterprise" else "id"
    fragments = []
    for level in reversed(range(1, len(names))):
        field = f"l{level}: {names[level]}" if style == "aliases" else names[level]
        selection = f"{field} {{ {inner} }}"
        on = types[level - 1]  # the type the level's field is selected on
        if style == "inline fragments":
            selection = f"... on {on} {{ {selection} }}"
        elif style == "named fragments":
            fragments.append(f"fragment L{level} on {on} {{ {selection} }}")
            selection = f"...L{level}"
        inner = selection
    query = f"query($code: String!) {{ {names[0]} {{ {inner} }} }}"
    return "\n".join([query, *fragments])


def refused(response: httpx.Response, reason: str, limit: int, actual: int) -> str:
    """The message of a limit's refusal, after checking that nothing ran."""
    assert response.status_code == 200
    assert "data" not in response.json()
    error = error_of(response)
    assert error["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "reason": reason,
        "limit": limit,
        "actual": actual,
    }
    message: str = error["message"]
    return message


@pytest.fixture
async def bank(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.COMMERCIAL_BANK)


@pytest.fixture
async def owner(db: AsyncSession) -> Enterprise:
    """An enterprise with a grade, a penalty, a risk level and a policy."""
    enterprise = b.enterprise()
    db.add(enterprise)
    await db.flush()
    db.add_all(
        [
            b.rating(enterprise),
            b.penalty(enterprise),
            b.risk(enterprise),
            b.policy(enterprise),
        ]
    )
    await db.commit()
    return enterprise


class TestDepth:
    @pytest.mark.parametrize("style", STYLES)
    async def test_eight_levels_pass(
        self,
        client: httpx.AsyncClient,
        bank: dict[str, str],
        owner: Enterprise,
        style: str,
    ) -> None:
        # given: enterprise > penalties > enterprise > ... > name
        query = deep_query(8, style)
        # when
        response = await post_graphql(client, query, {"code": owner.code}, headers=bank)
        # then
        assert data_of(response)["enterprise"] is not None

    @pytest.mark.parametrize("style", STYLES)
    @pytest.mark.parametrize("depth", [9, 10, 20, 100])
    async def test_deeper_is_refused(
        self, client: httpx.AsyncClient, owner: Enterprise, style: str, depth: int
    ) -> None:
        response = await post_graphql(
            client, deep_query(depth, style), {"code": owner.code}
        )
        message = refused(response, "QUERY_TOO_DEEP", 8, depth)
        assert message == f"The operation's depth ({depth}) exceeds the limit of 8."

    async def test_introspection_does_not_count(
        self, client: httpx.AsyncClient
    ) -> None:
        # GraphiQL's TypeRef nests ofType seven times below __schema > types
        of_type = "name"
        for _ in range(9):
            of_type = f"name ofType {{ {of_type} }}"
        query = f"{{ __schema {{ types {{ fields {{ type {{ {of_type} }} }} }} }} }}"
        response = await client.post("/graphql", json={"query": query})
        assert data_of(response)["__schema"]["types"]


class TestAliases:
    async def test_fifteen_pass(
        self, client: httpx.AsyncClient, owner: Enterprise
    ) -> None:
        names = " ".join(f"n{i}: name" for i in range(15))
        query = f"query($code: String!) {{ enterprise(code: $code) {{ {names} }} }}"
        response = await post_graphql(client, query, {"code": owner.code})
        assert data_of(response)["enterprise"]["n14"] == owner.name

    async def test_sixteen_are_refused(self, client: httpx.AsyncClient) -> None:
        # A2: one enterprise asked for under 16 names
        lookups = " ".join(
            f'e{i}: enterprise(code: "{b.credit_code(i)}") {{ name }}'
            for i in range(16)
        )
        response = await client.post("/graphql", json={"query": f"{{ {lookups} }}"})
        refused(response, "TOO_MANY_ALIASES", 15, 16)

    async def test_counted_in_every_fragment_spread(
        self, client: httpx.AsyncClient
    ) -> None:
        # given: 4 aliases in F, spread twice in G, G spread twice in the query
        query = """
        query($code: String!) { enterprise(code: $code) { ...G ...G } }
        fragment G on Enterprise { ...F ...F }
        fragment F on Enterprise { a: name b: name c: code d: code }
        """
        # when
        response = await post_graphql(client, query, {"code": b.credit_code(1)})
        # then: 4 × 2 × 2
        refused(response, "TOO_MANY_ALIASES", 15, 16)


class TestFragmentCycle:
    async def test_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        # A5: graphql-core refuses the cycle; measuring it must not recurse forever
        response = await client.post("/graphql", json={"query": FRAGMENT_CYCLE_QUERY})
        assert response.status_code == 200
        assert "data" not in response.json()
        error = error_of(response)
        assert error["message"] == "Cannot spread fragment 'A' within itself via 'B'."
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}

    async def test_through_fields_is_a_validation_error(
        self, client: httpx.AsyncClient
    ) -> None:
        query = """
        { enterprise(code: "x") { ...E } }
        fragment E on Enterprise { penalties { enterprise { ...E } } }
        """
        response = await client.post("/graphql", json={"query": query})
        assert (
            error_of(response)["message"] == "Cannot spread fragment 'E' within itself."
        )


class TestRootFields:
    async def test_ten_pass(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/graphql", json={"query": "{" + " __typename" * 10 + " }"}
        )
        assert data_of(response) == {"__typename": "Query"}

    async def test_eleven_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/graphql", json={"query": "{" + " __typename" * 11 + " }"}
        )
        refused(response, "TOO_MANY_ROOT_FIELDS", 10, 11)

    async def test_counted_through_fragments(self, client: httpx.AsyncClient) -> None:
        query = (
            "{ ...F ...F __typename } fragment F on Query {" + " __typename" * 5 + " }"
        )
        response = await client.post("/graphql", json={"query": query})
        refused(response, "TOO_MANY_ROOT_FIELDS", 10, 11)


class TestFields:
    async def test_repeated_fields_are_refused_before_validation(
        self, client: httpx.AsyncClient
    ) -> None:
        # validating 490 × `penalties { id }` took graphql-core 2.5 s
        query = '{ enterprise(code: "x") {' + " penalties { id }" * 490 + " } }"
        response = await client.post("/graphql", json={"query": query})
        refused(response, "TOO_MANY_FIELDS", 200, 981)


class TestTokens:
    @staticmethod
    def batch(n: int) -> str:
        """{ enterprisesByCodes(codes: [n codes]) { code } }: n + 12 tokens."""
        codes = ", ".join(f'"{b.credit_code(i)}"' for i in range(n))
        return f"{{ enterprisesByCodes(codes: [{codes}]) {{ code }} }}"

    async def test_two_thousand_reach_the_resolver(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/graphql", json={"query": self.batch(1988)})
        assert error_of(response)["extensions"]["reason"] == "TOO_MANY_CODES"

    async def test_more_are_refused_by_the_parser(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/graphql", json={"query": self.batch(1989)})
        assert response.status_code == 200
        assert "data" not in response.json()
        assert error_of(response) == {
            "message": "The document has more tokens than the limit of 2000.",
            "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "reason": "TOO_MANY_TOKENS",
                "limit": 2000,
            },
        }

    async def test_directive_overload_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        # A5: 5,000 directives took validation a second
        query = '{ enterprise(code: "x") { name' + " @include(if: true)" * 5000 + " } }"
        response = await client.post("/graphql", json={"query": query})
        assert error_of(response)["extensions"]["reason"] == "TOO_MANY_TOKENS"


class TestCost:
    async def test_a_batch_of_1000_with_four_datasets_passes(
        self, client: httpx.AsyncClient, bank: dict[str, str], owner: Enterprise
    ) -> None:
        # given: 1,000 codes, one of them known
        codes = [owner.code] + [b.credit_code(900_000 + i) for i in range(999)]
        # when
        response = await post_graphql(
            client, BANK_BATCH_QUERY, {"codes": codes}, headers=bank
        )
        # then: 1,000 × (enterprise, grade, 10 penalties, risk, policy)
        batch = data_of(response)["enterprisesByCodes"]
        assert len(batch) == 1000
        assert batch[0]["code"] == owner.code
        assert response.json()["extensions"]["cost"]["requested"] == 14_000

    async def test_the_full_profile_of_1000_passes(
        self, client: httpx.AsyncClient, bank: dict[str, str], owner: Enterprise
    ) -> None:
        codes = [owner.code] * 1000
        response = await post_graphql(
            client, FULL_BATCH_QUERY, {"codes": codes}, headers=bank
        )
        assert len(data_of(response)["enterprisesByCodes"]) == 1000
        assert response.json()["extensions"]["cost"]["requested"] == 48_000

    async def test_nested_lists_beyond_the_limit_are_refused(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        response = await client.post(
            "/graphql", json={"query": NESTED_LISTS_QUERY}, headers=bank
        )
        message = refused(response, "QUERY_TOO_COMPLEX", 50_000, 122_101)
        assert message == "The operation's cost (122101) exceeds the limit of 50000."

    async def test_a_page_too_large_is_the_resolvers_refusal(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        # A7: a page is counted at its maximum; beyond it the field refuses
        query = "{ penaltyDecisions(first: 1000000) { nodes { decisionNumber } } }"
        response = await client.post("/graphql", json={"query": query}, headers=bank)
        assert error_of(response)["extensions"]["reason"] == "PAGE_SIZE_EXCEEDED"
        assert response.json()["extensions"]["cost"]["requested"] == 101

    @pytest.mark.parametrize(
        ("variables", "cost"), [({}, 21), ({"n": 5}, 6), ({"n": 100}, 101)]
    )
    async def test_page_sizes_are_read_from_the_variables(
        self, client: httpx.AsyncClient, variables: dict[str, Any], cost: int
    ) -> None:
        query = "query($n: Int) { enterprises(first: $n) { nodes { code } } }"
        response = await post_graphql(client, query, variables)
        assert response.json()["extensions"]["cost"]["requested"] == cost

    async def test_introspection_has_a_cost(self, client: httpx.AsyncClient) -> None:
        query = "{ __schema { types { name fields { name } } } }"
        response = await client.post("/graphql", json={"query": query})
        # __schema, 10 types (an estimate), 10 fields each
        assert response.json()["extensions"]["cost"]["requested"] == 111

    async def test_a_mutation_costs_ten(self, client: httpx.AsyncClient) -> None:
        query = "mutation { unwatchEnterprises(codes: []) { size } }"
        response = await client.post("/graphql", json={"query": query})
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"
        assert response.json()["extensions"]["cost"]["requested"] == 10


class TestBodySize:
    async def test_a_document_over_1_mib_is_refused_before_parsing(
        self, client: httpx.AsyncClient
    ) -> None:
        # given: not even JSON, so only a refusal before parsing answers 413
        body = b"{" + b" " * (1024 * 1024)
        # when
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        # then
        assert response.status_code == 413
        assert response.json() == {
            "errors": [
                {
                    "message": "The request body exceeds 1048576 bytes.",
                    "extensions": {
                        "code": "PAYLOAD_TOO_LARGE",
                        "reason": "BODY_TOO_LARGE",
                        "limit": 1048576,
                    },
                }
            ]
        }

    async def test_an_upload_may_be_larger(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        # given: a 2 MiB file, within HUB_MAX_BODY_BYTES
        operations = {
            "query": "mutation($file: Upload!) { importWatchlist(file: $file) { size } }",
            "variables": {"file": None},
        }
        # when
        response = await client.post(
            "/graphql",
            files={
                "operations": (None, json.dumps(operations)),
                "map": (None, json.dumps({"0": ["variables.file"]})),
                "0": ("codes.csv", b"x" * (2 * 1024 * 1024), "text/csv"),
            },
            headers=bank,
        )
        # then: it reached the mutation, which reads the file
        assert response.status_code == 200
        assert error_of(response)["extensions"]["code"] == "BAD_USER_INPUT"


class TestTimeout:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """So short that a request's first database query is cancelled."""
        return replace(settings, request_timeout_seconds=1e-6)

    async def test_a_heavy_query_is_cancelled(
        self, client: httpx.AsyncClient, bank: dict[str, str], owner: Enterprise
    ) -> None:
        codes = [owner.code] * 1000
        response = await post_graphql(
            client, FULL_BATCH_QUERY, {"codes": codes}, headers=bank
        )
        assert response.status_code == 504
        assert "data" not in response.json()
        assert error_of(response) == {
            "message": "The request ran longer than 1e-06 s and was cancelled; "
            "nothing it wrote was kept.",
            "extensions": {
                "code": "TIMEOUT",
                "reason": "REQUEST_TIMEOUT",
                "timeoutSeconds": 1e-6,
            },
        }

    async def test_a_cancelled_write_leaves_nothing(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # given
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        before = await db.scalar(select(func.count()).select_from(PenaltyDecision))
        # when
        response = await post_graphql(
            client, RECORD_PENALTY, {"input": penalty_input(owner.code)}, headers=epb
        )
        # then
        assert response.status_code == 504
        assert error_of(response)["extensions"]["code"] == "TIMEOUT"
        after = await db.scalar(select(func.count()).select_from(PenaltyDecision))
        assert after == before
