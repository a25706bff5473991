"""A JSON POST of one operation, answered without strawberry's request triage.

Nearly every request to /graphql is one: a bank's integration posting
`{"query": ..., "variables": ...}` as application/json. Strawberry's `run`
first works out which of its many kinds of request it has: a WebSocket, the
IDE, GET, multipart uploads, batches, streaming transports chosen by Accept,
subscriptions and incremental results. Two of those checks alone (parsing
Content-Type through the standard library's e-mail parser, and an isinstance
against a runtime Protocol, which inspects the result's attributes) cost a
cached single lookup about 4 % of its CPU (BENCHMARKS.md).

`single_operation` recognises the common request from its method, headers
and body; `HubGraphQL` then takes strawberry's own steps for it in the same
order (context, persisted documents, `execute_single`, `process_result`,
`create_response`). Anything else, including every body strawberry would
refuse, goes to strawberry's `run`, which answers as it always has:
Starlette keeps the body it read, so nothing is lost by looking first.
"""

from typing import Any

import orjson
from starlette.requests import Request

JSON = "application/json"
# Accept values that ask strawberry for a streamed answer (multipart/mixed,
# text/event-stream): its transports decide those.
_STREAMED = ("multipart", "event-stream")


async def single_operation(request: Request) -> dict[str, Any] | None:
    """The body of a plain JSON POST of one operation; None for anything else."""
    if request.method != "POST":
        return None
    headers = request.headers
    content_type = headers.get("content-type", "").lower()
    if content_type != JSON and not content_type.startswith(JSON + ";"):
        return None
    accept = headers.get("accept", "")
    if any(kind in accept for kind in _STREAMED):
        return None
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None  # strawberry reads it the lenient way, or refuses it
    if not isinstance(data, dict):
        return None  # a batch: strawberry refuses it
    if not (
        isinstance(data.get("query"), str | None)
        and isinstance(data.get("variables"), dict | None)
        and isinstance(data.get("extensions"), dict | None)
    ):
        return None  # strawberry says which member is wrong
    return data
