"""Compiled completion (hub/executor.py) answers exactly as graphql-core does.

Every query is sent to the hub as configured (compiled) and to the same hub
with HUB_COMPILED_EXECUTION off, over one database; the two bodies must be
equal, errors and their paths included (request ids aside).
"""

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.enums import AgencyKind
from hub.executor import compiled_plans
from tests.conftest import Tokens, serving
from tests.helpers import post_graphql
from tests.test_enterprises_by_codes import add_enterprises

pytestmark = pytest.mark.anyio

FIELDS = """
  code name __typename district { code name nameEn }
  industry supervisionCategory status address legalRepresentative
  currentRating { grade score scheme status validFrom validTo decidedAt enterprise { code } }
  old: currentRating(asOf: "2025-06-01") { grade validFrom }
  ratingHistory { grade scheme status enterprise { name } }
  penalties { decisionNumber fineAmount categories decisionDate status enterprise { code } }
  recent: penalties(from: "2026-01-01", status: EFFECTIVE) { decisionNumber }
  riskLevel { overallLevel levelString air { level q m e } water { level } }
  insurance { policyNumber premium startDate endDate status }
  compulsoryInsuranceYears
"""

QUERIES: dict[str, str] = {
    "batch with every dataset": (
        "query($codes: [String!]!) { enterprisesByCodes(codes: $codes) {"
        + FIELDS
        + "} }"
    ),
    "single through named and inline fragments": """
        query($code: String!) {
          enterprise(code: $code) {
            ...Basics
            ... on Enterprise { rating: currentRating { grade } }
            ... { penalties { ...Penalty } }
          }
        }
        fragment Basics on Enterprise { code name district { ...Place } }
        fragment Place on District { code name }
        fragment Penalty on PenaltyDecision { decisionNumber fineAmount }
    """,
    "same field selected twice is merged": """
        query($code: String!) {
          enterprise(code: $code) {
            currentRating { grade }
            currentRating { score enterprise { code } }
          }
        }
    """,
    "directives go the general way": """
        query($code: String!, $with: Boolean!) {
          enterprise(code: $code) {
            code
            penalties @include(if: $with) { decisionNumber }
            riskLevel @skip(if: $with) { overallLevel }
          }
        }
    """,
    "list page with a count": """
        query {
          enterprises(first: 3) {
            totalCount
            nodes { code currentRating { grade } }
            edges { cursor node { name } }
            pageInfo { hasNextPage endCursor }
          }
        }
    """,
    "a bad code in a batch": (
        "query($codes: [String!]!) { enterprisesByCodes(codes: $codes) { code } }"
    ),
}


@pytest.fixture
async def general(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The same hub, completing results field by field with graphql-core."""
    app = create_app(
        replace(settings, compiled_execution=False), sessionmaker=sessionmaker
    )
    async with serving(app) as client:
        yield client


def comparable(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("extensions", None)  # the cost report
    for error in body.get("errors", []):
        error.get("extensions", {}).pop("requestId", None)
        error["message"] = error["message"].split(" (request ")[0]
    return body


def variables_for(name: str, codes: list[str]) -> dict[str, Any]:
    if "batch" in name:
        return {"codes": [*codes, "91110108600037341E" if "bad" in name else codes[0]]}
    return {"code": codes[1], "with": True}


@pytest.mark.parametrize("name", QUERIES)
@pytest.mark.parametrize("kind", [AgencyKind.COMMERCIAL_BANK, AgencyKind.CITY_EPB])
async def test_compiled_answers_as_graphql_core(
    name: str,
    kind: AgencyKind,
    client: httpx.AsyncClient,
    general: httpx.AsyncClient,
    db: AsyncSession,
    tokens: Tokens,
) -> None:
    # given
    codes = await add_enterprises(db, 4)
    headers = await tokens.headers(kind)
    variables = variables_for(name, codes)
    # when
    compiled = await post_graphql(client, QUERIES[name], variables, headers=headers)
    plain = await post_graphql(general, QUERIES[name], variables, headers=headers)
    # then
    assert compiled.status_code == plain.status_code == 200
    assert comparable(compiled) == comparable(plain)
    if "bad" not in name:
        assert comparable(compiled).get("data"), compiled.text


async def test_a_lookup_is_completed_by_a_plan(
    client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
) -> None:
    """The comparison above would pass if plans were never used: they are."""
    # given
    codes = await add_enterprises(db, 4)
    headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
    query = QUERIES["single through named and inline fragments"].replace(
        "rating:",
        "graded:",  # a document no other test compiled
    )
    before = compiled_plans()
    # when
    response = await post_graphql(client, query, {"code": codes[0]}, headers=headers)
    # then
    assert response.status_code == 200
    assert compiled_plans() == before + 1


NESTED_VARIABLES = """
    query($codes: [String!]!, $asOf: Date, $status: PenaltyStatus) {
      enterprisesByCodes(codes: $codes) {
        code
        currentRating(asOf: $asOf) { grade validFrom }
        fixed: currentRating(asOf: "2025-06-01") { grade }
        penalties(status: $status) { decisionNumber status }
      }
    }
"""


async def test_arguments_follow_each_requests_variables(
    client: httpx.AsyncClient,
    general: httpx.AsyncClient,
    db: AsyncSession,
    tokens: Tokens,
) -> None:
    """A plan converts literal arguments once; those with variables, every time."""
    # given
    codes = await add_enterprises(db, 3)
    headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
    answers = []
    for variables in (
        {"codes": codes, "asOf": "2025-06-01", "status": "REVOKED"},
        {"codes": codes, "asOf": "2026-06-01", "status": "EFFECTIVE"},
        {"codes": codes, "asOf": None, "status": None},
    ):
        # when
        compiled = await post_graphql(
            client, NESTED_VARIABLES, variables, headers=headers
        )
        plain = await post_graphql(
            general, NESTED_VARIABLES, variables, headers=headers
        )
        # then
        assert compiled.status_code == plain.status_code == 200
        assert comparable(compiled) == comparable(plain)
        answers.append(comparable(compiled)["data"]["enterprisesByCodes"][0])
    assert [a["currentRating"]["grade"] for a in answers] == ["BLUE", "GREEN", "GREEN"]
    assert [a["fixed"] for a in answers] == [{"grade": "BLUE"}] * 3
    assert [len(a["penalties"]) for a in answers] == [0, 1, 1]
