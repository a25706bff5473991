"""The authorization matrix, generated from the scope catalogue and the schema.

For every agency kind (and the anonymous public) and every field of every
object type, one query: readable fields answer, the others are null with a
FORBIDDEN error naming the missing scope, and the rest of the response is
served.
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type
from sqlalchemy.ext.asyncio import AsyncSession

from auth.scopes import PRESETS, PUBLIC_SCOPES, Scope, matrix_markdown
from hub.authorization import requirements_of
from hub.config import Settings
from hub.enums import AgencyKind, RatingStatus
from hub.graphql import create_schema
from seeds import builders as b
from tests.helpers import post_graphql, without_cost

pytestmark = pytest.mark.anyio

SCHEMA = create_schema()
GRAPHQL_SCHEMA = SCHEMA._schema
REQUIREMENTS = requirements_of(SCHEMA)
KINDS: list[AgencyKind | None] = [None, *PRESETS]

# How a query reaches each object type: (prefix, suffix) around its selection.
ACCESS: dict[str, tuple[str, str]] = {
    "Query": ("", ""),
    "Enterprise": ("enterprise(code: $code) {", "}"),
    "District": ("enterprise(code: $code) { district {", "} }"),
    "Rating": ("enterprise(code: $code) { currentRating {", "} }"),
    "PenaltyDecision": ("enterprise(code: $code) { penalties {", "} }"),
    "RiskAssessment": ("enterprise(code: $code) { riskLevel {", "} }"),
    "MediumRisk": ("enterprise(code: $code) { riskLevel { air {", "} } }"),
    "InsurancePolicy": ("enterprise(code: $code) { insurance {", "} }"),
    "InsuranceEnrollment": ("insuranceEnrollment(year: 2026) { nodes {", "} }"),
}
ROOT_ARGS = {
    "enterprise": "(code: $code)",
    "enterprisesByCodes": "(codes: [$code])",
    "insuranceEnrollment": "(year: 2026)",
    "evaluationList": "(year: 2025)",
    "ratingExplanation": '(ratingId: "1")',
    "ratingTransitions": '(ratingId: "1")',
    "objections": '(ratingId: "1")',
    "redBlackList": "(year: 2026, half: 1)",
    "creditReview": "(code: $code, purpose: LOAN_APPROVAL)",
    "creditReviews": "(codes: [$code], purpose: LOAN_APPROVAL)",
    "subsidyEligibility": "(code: $code)",
    "subsidyEligibilityBatch": "(applications: [{code: $code}])",
}
# A review is refused for a purpose the caller's kind may not state, or one
# other than its Hub-Purpose: a rule of the resolver, not of the scopes.
REVIEW_FIELDS = {
    "creditReview",
    "creditReviews",
    "subsidyEligibility",
    "subsidyEligibilityBatch",
}
PURPOSE_REFUSALS = {"PURPOSE_NOT_ALLOWED", "PURPOSE_MISMATCH"}


def path_of(type_name: str) -> list[tuple[str, str]]:
    """(parent type, field) pairs the access query walks through."""
    steps = {
        "Query": [],
        "Enterprise": [("Query", "enterprise")],
        "District": [("Query", "enterprise"), ("Enterprise", "district")],
        "Rating": [("Query", "enterprise"), ("Enterprise", "currentRating")],
        "PenaltyDecision": [("Query", "enterprise"), ("Enterprise", "penalties")],
        "RiskAssessment": [("Query", "enterprise"), ("Enterprise", "riskLevel")],
        "MediumRisk": [
            ("Query", "enterprise"),
            ("Enterprise", "riskLevel"),
            ("RiskAssessment", "air"),
        ],
        "InsurancePolicy": [("Query", "enterprise"), ("Enterprise", "insurance")],
        "InsuranceEnrollment": [
            ("Query", "insuranceEnrollment"),
            ("InsuranceEnrollmentConnection", "nodes"),
        ],
    }
    return steps[type_name]


def selection(type_name: str) -> str:
    graphql_type = GRAPHQL_SCHEMA.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        args = ROOT_ARGS.get(name, "") if type_name == "Query" else ""
        leaf = get_named_type(field.type)
        parts.append(
            f"{name}{args} {{ __typename }}"
            if isinstance(leaf, GraphQLObjectType)
            else f"{name}{args}"
        )
    return " ".join(parts)


def allowed(coordinate: tuple[str, str], scopes: frozenset[str]) -> bool:
    required = REQUIREMENTS.get(coordinate)
    return required is None or any(s <= scopes for s in required)


def expected_denials(
    type_name: str, scopes: frozenset[str]
) -> dict[tuple[str, ...], str]:
    """Response paths that must be FORBIDDEN, with the scope each needs."""
    keys: list[str] = []
    for parent, field in path_of(type_name):
        if parent != "InsuranceEnrollmentConnection":
            keys.append(field)
        else:
            keys.append("nodes")
        if not allowed((parent, field), scopes):
            return {tuple(keys): sorted(REQUIREMENTS[(parent, field)][0])[0]}
    graphql_type = GRAPHQL_SCHEMA.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return {
        (*keys, name): sorted(REQUIREMENTS[(type_name, name)][0])[0]
        for name in graphql_type.fields
        if not allowed((type_name, name), scopes)
    }


def scopes_of(kind: AgencyKind | None) -> frozenset[str]:
    return frozenset(
        s.value for s in (PUBLIC_SCOPES if kind is None else PRESETS[kind])
    )


def test_readme_shows_the_scope_matrix() -> None:
    with open("README.md", encoding="utf-8") as f:
        assert matrix_markdown() in f.read(), (
            "README scope table is stale: paste auth.scopes.matrix_markdown()"
        )


def test_guarded_fields_are_nullable() -> None:
    """A denied field answers null, so the schema must allow null there."""
    for type_name, field_name in REQUIREMENTS:
        graphql_type = GRAPHQL_SCHEMA.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        assert not isinstance(graphql_type.fields[field_name].type, GraphQLNonNull), (
            type_name,
            field_name,
        )


def test_every_read_scope_guards_a_field() -> None:
    guarding = {
        s for required in REQUIREMENTS.values() for all_of in required for s in all_of
    }
    assert {
        s.value
        for s in (
            Scope.ratings_read,
            Scope.ratings_history,
            Scope.penalties_read,
            Scope.penalties_detail,
            Scope.risk_read,
            Scope.insurance_read,
        )
    } <= guarding


async def add_everything(db: AsyncSession, district: str = "320205") -> str:
    """One enterprise with a published record in every dataset; its code."""
    e = b.enterprise(district_code=district)
    db.add(e)
    await db.flush()
    db.add_all(
        [
            b.rating(e, valid_from=date(2026, 1, 1)),
            b.penalty(e),
            b.risk(e),
            b.policy(e),
            b.compulsory(e, 2026),
        ]
    )
    await db.commit()
    return e.code


HeadersFor = Callable[[AgencyKind | None, str], Awaitable[dict[str, str]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The matrix asks for every root field in one query: more than a client may."""
    assert GRAPHQL_SCHEMA.query_type is not None
    return replace(settings, max_root_fields=len(GRAPHQL_SCHEMA.query_type.fields))


@pytest.fixture
def headers_for(tokens: Any) -> HeadersFor:
    """Headers of a caller of `kind`; an ENTERPRISE caller is the enterprise `code`."""

    async def make(kind: AgencyKind | None, code: str) -> dict[str, str]:
        if kind is None:
            return {}
        extra = {"enterprise_code": code} if kind is AgencyKind.ENTERPRISE else {}
        result: dict[str, str] = await tokens.headers(kind, **extra)
        return result

    return make


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value if k else "PUBLIC")
@pytest.mark.parametrize("type_name", list(ACCESS))
async def test_field_matrix(
    client: httpx.AsyncClient,
    db: AsyncSession,
    headers_for: HeadersFor,
    kind: AgencyKind | None,
    type_name: str,
) -> None:
    # given
    code = await add_everything(db)
    prefix, suffix = ACCESS[type_name]
    fields = f"{prefix} {selection(type_name)} {suffix}"
    query = (
        f"query($code: String!) {{ {fields} }}"
        if "$code" in fields
        else f"{{ {fields} }}"
    )
    scopes = scopes_of(kind)
    # when
    response = await post_graphql(
        client, query, {"code": code}, headers=await headers_for(kind, code)
    )
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    errors = body.get("errors", [])
    refused = [e for e in errors if e["extensions"].get("reason") in PURPOSE_REFUSALS]
    assert all(e["path"][0] in REVIEW_FIELDS for e in refused), refused
    errors = [e for e in errors if e not in refused]
    assert all(e["extensions"]["code"] == "FORBIDDEN" for e in errors), errors
    actual = {tuple(e["path"]): e["extensions"]["requiredScopes"][0][0] for e in errors}
    assert actual == expected_denials(type_name, scopes)
    for path in actual:
        assert all(v is None for v in value_at(body["data"], path)), path


def value_at(data: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at `path`, through lists."""
    if isinstance(data, list):
        return [v for item in data for v in value_at(item, path)]
    if not path:
        return [data]
    if data is None:
        return []
    assert path[0] in data, (path, data)
    return value_at(data[path[0]], path[1:])


LOOKUP = "query($code: String!) { enterprise(code: $code) { name ratingHistory { grade status } } }"
BATCH = "query($codes: [String!]!) { enterprisesByCodes(codes: $codes) { name } }"
LIST = """
query($after: String) {
  enterprises(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name } }
}
"""
RATINGS = (
    "{ ratings(first: 100) { totalCount nodes { grade status enterprise { name } } } }"
)
PENALTIES = "{ penaltyDecisions(first: 100) { totalCount nodes { decisionNumber } } }"


class TestJurisdiction:
    """A county bureau sees its own district only; another district looks empty."""

    async def test_other_district_is_indistinguishable_from_nothing(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        # given: Xishan's bureau, an enterprise in Xishan and one in Binhu
        own = await add_everything(db, "320205")
        other = await add_everything(db, "320211")
        xishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        nowhere = b.credit_code(999_001)
        # when
        answers = [
            await post_graphql(client, LOOKUP, {"code": c}, headers=xishan)
            for c in (own, other, nowhere)
        ]
        batch = await post_graphql(
            client, BATCH, {"codes": [own, other, nowhere]}, headers=xishan
        )
        # then
        assert answers[0].json()["data"]["enterprise"]["name"]
        assert (
            without_cost(answers[1])
            == without_cost(answers[2])
            == {"data": {"enterprise": None}}
        )
        assert batch.json()["data"]["enterprisesByCodes"][1:] == [None, None]

    async def test_lists_counts_and_cursors(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        # given
        await add_everything(db, "320211")
        own = await add_everything(db, "320205")
        await add_everything(db, "320211")
        xishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        city = await tokens.headers(AgencyKind.CITY_EPB)
        # when: the city pages through all three, the county through its one
        city_page = (await post_graphql(client, LIST, {}, headers=city)).json()["data"][
            "enterprises"
        ]
        county = (await post_graphql(client, LIST, {}, headers=xishan)).json()["data"][
            "enterprises"
        ]
        # a cursor handed over from the city's list does not open the other rows
        replay = await post_graphql(
            client, LIST, {"after": city_page["pageInfo"]["endCursor"]}, headers=xishan
        )
        ratings = (await post_graphql(client, RATINGS, headers=xishan)).json()["data"][
            "ratings"
        ]
        # then
        assert city_page["totalCount"] == 3
        assert county["totalCount"] == 1
        assert county["pageInfo"]["hasNextPage"] is False
        assert replay.json()["data"]["enterprises"]["totalCount"] == 1
        assert [n["name"] for n in replay.json()["data"]["enterprises"]["nodes"]] == [
            n["name"] for n in county["nodes"]
        ]
        assert ratings["totalCount"] == 1
        assert own  # the one the county sees
        assert [n["enterprise"]["name"] for n in ratings["nodes"]] == [
            n["name"] for n in county["nodes"]
        ]

    async def test_abolished_code_belongs_to_its_successor(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        # given: an enterprise still recorded under 北塘区 320204, now 梁溪区
        old = await add_everything(db, "320204")
        liangxi = await tokens.headers(AgencyKind.COUNTY_EPB, district="320213")
        xishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # then
        seen = await post_graphql(client, LOOKUP, {"code": old}, headers=liangxi)
        hidden = await post_graphql(client, LOOKUP, {"code": old}, headers=xishan)
        assert seen.json()["data"]["enterprise"] is not None
        assert hidden.json()["data"]["enterprise"] is None


class TestPublication:
    """Drafts are internal; penalties leave public view when their window closes."""

    async def test_drafts_are_seen_by_the_bureau_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        # given
        e = b.enterprise()
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.rating(e, valid_from=date(2025, 1, 1)),
                b.rating(e, status=RatingStatus.DRAFT, valid_from=date(2026, 1, 1)),
                b.rating(
                    e, status=RatingStatus.PRELIMINARY, valid_from=date(2026, 1, 1)
                ),
            ]
        )
        await db.commit()
        # when
        statuses = {}
        for name, headers in [
            ("public", {}),
            ("bank", await tokens.headers(AgencyKind.COMMERCIAL_BANK)),
            ("credit office", await tokens.headers(AgencyKind.CREDIT_OFFICE)),
            ("city EPB", await tokens.headers(AgencyKind.CITY_EPB)),
        ]:
            response = await post_graphql(
                client, LOOKUP, {"code": e.code}, headers=headers
            )
            statuses[name] = sorted(
                r["status"]
                for r in response.json()["data"]["enterprise"]["ratingHistory"]
            )
        # then
        assert statuses == {
            "public": ["FINAL"],
            "bank": ["FINAL"],
            "credit office": ["FINAL"],
            "city EPB": ["DRAFT", "FINAL", "PRELIMINARY"],
        }

    async def test_expired_penalty_window(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        # given: one penalty still published, one whose window closed yesterday
        e = b.enterprise()
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.penalty(e, number="锡山环罚决〔2026〕1号"),
                b.penalty(
                    e,
                    number="锡山环罚决〔2025〕9号",
                    publication_end_date=date(2026, 6, 14),
                ),
            ]
        )
        await db.commit()
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        city = await tokens.headers(AgencyKind.CITY_EPB)
        # then
        public = (await post_graphql(client, PENALTIES)).json()["data"][
            "penaltyDecisions"
        ]
        for_bank = (await post_graphql(client, PENALTIES, headers=bank)).json()["data"][
            "penaltyDecisions"
        ]
        for_city = (await post_graphql(client, PENALTIES, headers=city)).json()["data"][
            "penaltyDecisions"
        ]
        assert (
            public
            == for_bank
            == {"totalCount": 1, "nodes": [{"decisionNumber": "锡山环罚决〔2026〕1号"}]}
        )
        assert for_city["totalCount"] == 2


class TestEnterpriseCaller:
    async def test_sees_only_itself(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        own = await add_everything(db)
        other = await add_everything(db)
        headers = await tokens.headers(AgencyKind.ENTERPRISE, enterprise_code=own)
        mine = await post_graphql(client, LOOKUP, {"code": own}, headers=headers)
        theirs = await post_graphql(client, LOOKUP, {"code": other}, headers=headers)
        listed = await post_graphql(client, LIST, {}, headers=headers)
        assert mine.json()["data"]["enterprise"] is not None
        assert without_cost(theirs) == {"data": {"enterprise": None}}
        assert listed.json()["data"]["enterprises"]["totalCount"] == 1


INTROSPECT = """
{
  __schema { types { name fields { name } } }
  enterpriseType: __type(name: "Enterprise") { name fields { name } }
  risk: __type(name: "RiskAssessment") { name }
}
"""


class TestIntrospection:
    async def test_public_sees_only_public_fields(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        data = (await post_graphql(client, INTROSPECT)).json()["data"]
        types = {t["name"]: t for t in data["__schema"]["types"]}
        enterprise_fields = {f["name"] for f in data["enterpriseType"]["fields"]}
        assert "RiskAssessment" not in types
        assert "InsurancePolicy" not in types
        assert data["risk"] is None
        assert "legalRepresentative" not in enterprise_fields
        assert {"currentRating", "ratingHistory", "penalties"} <= enterprise_fields
        assert {f["name"] for f in types["PenaltyDecision"]["fields"]}.isdisjoint(
            {"facts", "fineAmount"}
        )

    async def test_bank_sees_its_fields(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Any
    ) -> None:
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        data = (await post_graphql(client, INTROSPECT, headers=headers)).json()["data"]
        enterprise_fields = {f["name"] for f in data["enterpriseType"]["fields"]}
        assert data["risk"] == {"name": "RiskAssessment"}
        assert {"legalRepresentative", "riskLevel", "insurance"} <= enterprise_fields

    async def test_no_field_suggestions(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client, '{ enterprise(code: "x") { legalRepresentatve } }'
        )
        assert "Did you mean" not in response.text
