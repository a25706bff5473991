"""Helpers for talking GraphQL to the app under test."""

from typing import Any

import httpx
from typer.testing import CliRunner, Result

from hub.cli import app


async def post_graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def data_of(response: httpx.Response) -> dict[str, Any]:
    """The `data` of a successful response; fails showing the errors otherwise."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def without_cost(response: httpx.Response) -> dict[str, Any]:
    """The JSON body less `extensions.cost`, which every answer carries
    (hub/limits/), so that the rest can be compared whole."""
    body: dict[str, Any] = response.json()
    extensions = body.pop("extensions", {})
    extensions.pop("cost", None)
    if extensions:
        body["extensions"] = extensions
    return body


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The only error of a response."""
    body = response.json()
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def hub(*args: str) -> Result:
    """Run the `hub` command in-process, as a shell would."""
    return CliRunner().invoke(app, list(args))
