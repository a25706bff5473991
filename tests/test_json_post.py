"""A plain JSON POST (hub/json_post.py) is answered as strawberry's `run` answers.

The same operation goes once as application/json, which the hub answers
itself, and once as a multipart form, which only strawberry's `run` reads:
status, body (request ids aside) and headers must be the same. Bodies the
plain path does not take get strawberry's own refusals.
"""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind
from tests.conftest import Tokens
from tests.test_enterprises_by_codes import add_enterprises

pytestmark = pytest.mark.anyio

LOOKUP = "query Lookup($code: String!) { enterprise(code: $code) { code name } }"
DENIED = (
    "query Lookup($code: String!) { enterprise(code: $code) { code "
    "accessLog { nodes { purpose } } } }"
)

# name -> (document, variables from the enterprises' codes)
CASES: dict[str, tuple[str, Any]] = {
    "a lookup": (LOOKUP, lambda c: {"code": c[0]}),
    "a bad variable": (LOOKUP, lambda c: {"code": 42}),
    "a field the caller may not read": (DENIED, lambda c: {"code": c[0]}),
    "a syntax error": ("{ enterprise(", lambda c: {}),
    "a mutation": ("mutation { recordEnterprise(input: {}) { __typename } }", None),
}
# Not compared: they differ by request (ids, timing) or by body (its length).
UNCOMPARED = {"x-request-id", "content-length", "date"}


async def bank_headers(tokens: Tokens) -> dict[str, str]:
    return {
        **await tokens.headers(AgencyKind.COMMERCIAL_BANK),
        "Hub-Purpose": "LOAN_APPROVAL",
    }


def comparable(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    for error in body.get("errors", []):
        error.get("extensions", {}).pop("requestId", None)
        error["message"] = error["message"].split(" (request ")[0]
    headers = sorted(
        (k, v) for k, v in response.headers.multi_items() if k not in UNCOMPARED
    )
    return {"status": response.status_code, "body": body, "headers": headers}


@pytest.mark.parametrize("name", CASES)
async def test_the_same_answer_as_strawberrys_run(
    name: str, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
) -> None:
    # given
    codes = await add_enterprises(db, 1)
    query, variables_of = CASES[name]
    operation = {
        "query": query,
        "variables": variables_of(codes) if variables_of else None,
    }
    headers = await bank_headers(tokens)
    # when
    plain = await client.post("/graphql", json=operation, headers=headers)
    form = await client.post(
        "/graphql",
        files={"operations": (None, json.dumps(operation)), "map": (None, "{}")},
        headers=headers,
    )
    # then
    assert comparable(plain) == comparable(form)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON"]
)
async def test_json_content_types(
    content_type: str, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
) -> None:
    # given
    codes = await add_enterprises(db, 1)
    body = json.dumps({"query": LOOKUP, "variables": {"code": codes[0]}})
    headers = {**await bank_headers(tokens), "Content-Type": content_type}
    # when
    response = await client.post("/graphql", content=body, headers=headers)
    # then
    assert response.status_code == 200, response.text
    assert response.json()["data"]["enterprise"]["code"] == codes[0]


# body -> strawberry's refusal, as the hub words it (HTTP 400, BAD_REQUEST)
REFUSED = {
    "a batch": ('[{"query": "{ __typename }"}]', "Batching is not enabled"),
    "a query that is not text": (
        '{"query": 42}',
        "The GraphQL operation's `query` must be a string or null, if provided.",
    ),
    "variables that are not an object": (
        '{"query": "{ __typename }", "variables": [1]}',
        "The GraphQL operation's `variables` must be an object or null, if provided.",
    ),
    "not JSON": ('{"query": ', "Unable to parse request body as JSON"),
}


@pytest.mark.parametrize("name", REFUSED)
async def test_bodies_strawberry_refuses(
    name: str, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # given
    body, message = REFUSED[name]
    headers = {**await bank_headers(tokens), "Content-Type": "application/json"}
    # when
    response = await client.post("/graphql", content=body, headers=headers)
    # then
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_json_the_standard_library_reads(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # given: NaN, which orjson refuses and strawberry's reader takes
    body = '{"query": "{ __typename }", "variables": {"unused": NaN}}'
    headers = {**await bank_headers(tokens), "Content-Type": "application/json"}
    # when
    response = await client.post("/graphql", content=body, headers=headers)
    # then
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}
