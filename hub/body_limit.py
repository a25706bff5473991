"""Refuse request bodies over their limit before they are read whole.

Uploads (multipart/form-data) may carry HUB_MAX_BODY_BYTES; every other body
(a GraphQL document in JSON, a token request) at most HUB_MAX_QUERY_BYTES,
so a huge document is refused before anything parses it. A declared
Content-Length over the limit is answered 413 at once; a body that streams
past it is cut off the same way, so an upload can never fill memory or disk.
"""

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, max_query_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_query_bytes = min(max_query_bytes or max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").lower()
        upload = kind.startswith(b"multipart/form-data")
        limit = self.max_bytes if upload else self.max_query_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"The request body exceeds {limit} bytes.",
                        "extensions": {
                            "code": "PAYLOAD_TOO_LARGE",
                            "reason": "BODY_TOO_LARGE",
                            "limit": limit,
                        },
                    }
                ]
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
