"""The graphql-transport-ws connection: admitted at connection_init, watched while open.

connection_init carries what an HTTP request carries in its headers, under
the same names in any case: `{"Authorization": "Bearer <token>",
"Hub-Purpose": "POST_LOAN_MONITORING", "Hub-Case-Ref": "..."}`.

- No Authorization: the anonymous public, as over HTTP.
- An Authorization that the HTTP middleware's Authenticator refuses
  (auth/middleware.py), or a missing purpose where the agency must state one
  (auth/purpose.py): the socket closes with 4403 Forbidden, the protocol's
  refusal, and the refusal is audited with its reason.

While the socket is open, each subscription calls `check()` before every
poll. Once the clock reaches the token's `exp`, or its jti is revoked (as
auth/directory.py sees it, within HUB_AUTH_CACHE_SECONDS), the socket closes
with 4401 and the reason "token expired" or "token revoked".
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected

from auth.caller import Caller
from auth.middleware import Authenticator, bearer_token
from auth.purpose import PurposeError, purpose_case_ref, stated_purpose
from auth.tokens import Reason, TokenRejected, parse_unverified
from hub.audit.draft import AuditDraft
from hub.audit.record import EntryKind, Outcome
from hub.audit.writer import AuditUnavailable, AuditWriter
from hub.config import Settings
from hub.db import is_unavailable
from hub.evaluate.loading import Policies
from hub.request_id import request_id_of
from resolvers.subscriptions import SocketContext

log = logging.getLogger("hub.ws")

EXPIRED, REVOKED = "token expired", "token revoked"
LAPSED_CODE = 4401

# hub.graphql.format_error: how an error is shown to the client.
ErrorFormat = Callable[[GraphQLError, str], dict[str, Any]]


class TextFrames(ASGIWebSocketAdapter):
    """Messages go out as text frames, as graphql-transport-ws requires (the
    view's JSON is bytes, which strawberry would send as binary frames)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


@dataclass(frozen=True, slots=True)
class Grant:
    """The token a connection was admitted with: what `check()` watches."""

    jti: str
    expires_at: datetime


class SocketConnection:
    """One socket: its token, its stated purpose, its audit trail, its close."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        gate: "SocketGate",
        request_id: str,
    ) -> None:
        self.websocket = websocket
        self.gate = gate
        self.request_id = request_id
        self.grant: Grant | None = None
        self.purpose: str | None = None
        self.case_ref: str | None = None
        self.closed = False

    async def check(self) -> None:
        """Return while the token stands; else close with 4401 and wait to be
        cancelled (the transport cancels every subscription once the client
        has gone; sending after the close would fail)."""
        lapsed = await self._lapsed()
        if lapsed is None:
            return
        if not self.closed:
            self.closed = True
            log.info("socket closed: %s", lapsed, extra={"request_id": self.request_id})
            with suppress(RuntimeError, OSError):  # the client may be gone already
                await self.websocket.close(code=LAPSED_CODE, reason=lapsed)
        await asyncio.Event().wait()

    async def _lapsed(self) -> str | None:
        if self.grant is None:
            return None
        now = self.gate.settings.clock()
        if now >= self.grant.expires_at:
            return EXPIRED
        directory = self.gate.authenticator.directory
        if await directory.is_revoked(self.grant.jti, now=now):
            return REVOKED
        return None

    def draft(self, caller: Caller | None) -> AuditDraft:
        """An audit entry for this connection (its request id, address, purpose)."""
        client = self.websocket.client
        draft = AuditDraft(
            kind=EntryKind.GRAPHQL,
            at=self.gate.settings.clock(),
            request_id=self.request_id,
            client_address=client.host if client else None,
        )
        draft.caller, draft.purpose, draft.case_ref = (
            caller,
            self.purpose,
            self.case_ref,
        )
        return draft

    async def record(self, draft: AuditDraft) -> None:
        """Commit the entry; AuditUnavailable when it cannot be written."""
        await self.gate.audit.append(draft.finish(101))  # 101: the socket's handshake

    def format_error(self, error: GraphQLError) -> dict[str, Any]:
        return self.gate.error_format(error, self.request_id)


class SocketGate:
    """Makes each socket's context and admits it at connection_init."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        policies: Policies,
        authenticator: Authenticator,
        audit: AuditWriter,
        error_format: ErrorFormat,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.policies = policies
        self.authenticator = authenticator
        self.audit = audit
        self.error_format = error_format

    def context(self, websocket: WebSocket) -> SocketContext:
        """The connection's context: the anonymous public until connection_init."""
        request_id = request_id_of(websocket.scope)
        # Context.request is a Request: the handshake is an HTTP GET upgraded,
        # so the socket's context carries a read-only view of that request.
        handshake = Request({**websocket.scope, "type": "http", "method": "GET"})
        return SocketContext(
            request=handshake,
            response=Response(),
            sessions=self.sessionmaker,
            settings=self.settings,
            caller=Caller.public(),
            request_id=request_id,
            now=self.settings.clock(),
            policies=self.policies,
            sessionmaker=self.sessionmaker,
            connection=SocketConnection(websocket, gate=self, request_id=request_id),
        )

    async def admit(self, context: SocketContext) -> None:
        """Authenticate connection_init's payload; ConnectionRejectionError (4403)
        when a token is present and refused, or a required purpose is missing."""
        connection = context.connection
        assert isinstance(connection, SocketConnection)
        params = {k.lower(): v for k, v in context.connection_params.items()}
        caller: Caller | None = None
        try:
            caller, connection.grant = await self._authenticate(
                params.get("authorization")
            )
            texts = {k: v for k, v in params.items() if isinstance(v, str)}
            purpose = stated_purpose(caller, texts)
        except (TokenRejected, PurposeError) as e:
            reason = e.reason.value if isinstance(e, TokenRejected) else e.reason
            await self._refuse(connection, caller, reason)
            raise ConnectionRejectionError() from e
        except Exception as e:
            if not is_unavailable(e):
                raise
            log.error("database unavailable", extra={"request_id": context.request_id})
            raise ConnectionRejectionError() from e
        if purpose is not None:
            connection.purpose = purpose.value
            connection.case_ref = purpose_case_ref(texts)
        context.caller = caller

    async def _authenticate(self, value: object) -> tuple[Caller, Grant | None]:
        if value is None:
            return Caller.public(), None
        if not isinstance(value, str):
            raise TokenRejected(Reason.TOKEN_MALFORMED, "Authorization is not a string")
        token = bearer_token(value.encode("utf-8", "replace"))
        caller = await self.authenticator.caller(token)
        claims = parse_unverified(token).claims  # verified just above
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return caller, Grant(jti=str(claims["jti"]), expires_at=expires_at)

    async def _refuse(
        self, connection: SocketConnection, caller: Caller | None, reason: str
    ) -> None:
        log.info(
            "socket refused",
            extra={"reason": reason, "request_id": connection.request_id},
        )
        draft = connection.draft(caller)
        draft.outcome, draft.reason = Outcome.DENIED, reason
        try:
            await connection.record(draft)
        except AuditUnavailable:  # a refusal carries no data: it goes out anyway
            log.error(
                "audit unavailable: entry of a refusal lost",
                extra={"request_id": connection.request_id},
            )
