"""Helpers for talking GraphQL to the app under test."""

from typing import Any

import httpx


async def post_graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}
    )


def data_of(response: httpx.Response) -> dict[str, Any]:
    """The `data` of a successful response; fails showing the errors otherwise."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The only error of a response."""
    body = response.json()
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error
