"""Fail-closed auditing of /graphql, /oauth/token, /exports/ and /subsidy/.

The response is held back until its audit entry is committed; if the entry
cannot be written, the caller gets 503 AUDIT_UNAVAILABLE and no data. An
export is too large to hold: its entry is committed when the response
starts, before any of the body goes out.
"""

import logging
from collections.abc import Callable
from datetime import datetime

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.audit.draft import AuditDraft
from hub.audit.record import EntryKind
from hub.audit.writer import AuditUnavailable, AuditWriter
from hub.metrics import observe_request
from hub.portal.paths import PORTAL_PAGES, PORTAL_PREFIXES
from hub.request_id import request_id_of

log = logging.getLogger("hub.audit")

AUDITED = {
    "/graphql": EntryKind.GRAPHQL,
    "/oauth/token": EntryKind.TOKEN,
    # The public portal's pages (hub/portal/); its static files are not audited.
    **{path: EntryKind.PORTAL for path in PORTAL_PAGES},
}
AUDITED_PREFIXES = {
    "/exports/": EntryKind.EXPORT,
    "/subsidy/": EntryKind.EXPORT,
    **{prefix: EntryKind.PORTAL for prefix in PORTAL_PREFIXES},
}
RETRY_AFTER_SECONDS = b"5"


class AuditMiddleware:
    def __init__(
        self, app: ASGIApp, *, writer: AuditWriter, clock: Callable[[], datetime]
    ) -> None:
        self.app = app
        self.writer = writer
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = kind_of(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        draft = AuditDraft(
            kind=kind,
            at=self.clock(),
            request_id=request_id_of(scope),
            client_address=client[0] if client else None,
        )
        scope.setdefault("state", {})["audit"] = draft
        if kind is EntryKind.EXPORT:
            await self._stream(scope, receive, send, draft)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is None:
            return
        if kind is EntryKind.GRAPHQL and _is_ide_page(start):
            # GraphiQL for a browser: no data, not an access (a portal page is one)
            for message in held:
                await send(message)
            return
        draft.caller = scope["state"].get("caller")
        record = draft.finish(start["status"])
        try:
            await self.writer.append(record)
        except AuditUnavailable:
            if start["status"] == 200:
                log.error(
                    "audit unavailable: answer withheld",
                    extra={"request_id": draft.request_id},
                )
                observe_request(draft, record, withheld=True)
                await _unavailable(send, draft.request_id, kind)
                return
            # A refusal or failure carries no data: it goes out, its entry is lost.
            log.error(
                "audit unavailable: entry of a refusal lost",
                extra={"request_id": draft.request_id},
            )
        observe_request(draft, record)
        for message in held:
            await send(message)

    async def _stream(
        self, scope: Scope, receive: Receive, send: Send, draft: AuditDraft
    ) -> None:
        """Commit the entry at the response's start; withhold the body without one.

        The entry's latency is the time to that start. A body that fails
        midway was still an access: the entry stands.
        """
        withheld = False

        async def audited(message: Message) -> None:
            nonlocal withheld
            if message["type"] == "http.response.start":
                draft.caller = scope["state"].get("caller")
                record = draft.finish(message["status"])
                try:
                    await self.writer.append(record)
                except AuditUnavailable:
                    if message["status"] == 200:
                        log.error(
                            "audit unavailable: export withheld",
                            extra={"request_id": draft.request_id},
                        )
                        withheld = True
                        observe_request(draft, record, withheld=True)
                        await _unavailable(send, draft.request_id, draft.kind)
                        return
                    log.error(
                        "audit unavailable: entry of a refusal lost",
                        extra={"request_id": draft.request_id},
                    )
                observe_request(draft, record)
            if not withheld:
                await send(message)

        await self.app(scope, receive, audited)


def kind_of(path: str) -> EntryKind | None:
    """What an entry for `path` is, or None when the path is not audited."""
    kind = AUDITED.get(path)
    if kind is None:
        kind = next(
            (k for prefix, k in AUDITED_PREFIXES.items() if path.startswith(prefix)),
            None,
        )
    return kind


def _is_ide_page(start: Message) -> bool:
    content_type = Headers(raw=start.get("headers", [])).get("content-type", "")
    return start["status"] == 200 and content_type.startswith("text/html")


async def _unavailable(send: Send, request_id: str, kind: EntryKind) -> None:
    message = "The audit log cannot be written, so no data is returned; retry later."
    if kind is EntryKind.TOKEN:  # RFC 6749 §5.2 shape for OAuth clients
        body = orjson.dumps(
            {"error": "temporarily_unavailable", "error_description": message}
        )
    else:
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": message,
                        "extensions": {
                            "code": "AUDIT_UNAVAILABLE",
                            "reason": "AUDIT_UNAVAILABLE",
                            "requestId": request_id,
                        },
                    }
                ]
            }
        )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", RETRY_AFTER_SECONDS),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
