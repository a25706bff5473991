"""Bearer-token authentication in front of /graphql, /exports/ and /subsidy/ (RFC 6750).

- No Authorization header: the request goes on as the anonymous public.
- `Authorization: Bearer <jwt>` that verifies (auth/tokens.py, or
  auth/external.py for the external issuer) and whose client is known,
  enabled and whose jti is not revoked: `scope["state"]["caller"]` becomes
  that agency's Caller, with the token's scopes narrowed to the client's
  current scopes.
- Anything else, including another scheme: 401 with
  `WWW-Authenticate: Bearer realm="hub", error="invalid_token"` (RFC 6750
  §3, §3.1) and a GraphQL-shaped error (`UNAUTHENTICATED` plus a stable
  `reason`), never any data. The request never reaches GraphQL.

Client state and revocations come from auth/directory.py, which caches them
for HUB_AUTH_CACHE_SECONDS: that is the propagation budget.
"""

import logging

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope as ASGIScope, Send

from auth.caller import Caller
from auth.directory import ClientRecord, Directory
from auth.external import ExternalIssuer, ExternalToken
from auth.keys import KeyStore
from auth.scopes import Scope
from auth.tokens import (
    MAX_TOKEN_LENGTH,
    AccessToken,
    Reason,
    TokenRejected,
    UnverifiedToken,
    parse_unverified,
    verify_access_token,
)
from auth.verified import VerifiedTokens
from hub.audit.draft import draft_of
from hub.config import Settings
from hub.db import is_unavailable
from hub.metrics import token_rejected
from hub.request_id import request_id_of

log = logging.getLogger("hub.auth")

GUARDED_PATHS = ("/graphql", "/exports", "/subsidy")
RETRY_AFTER_SECONDS = "5"
MAX_CALLERS = 4096


class Authenticator:
    """Turns a bearer token into a Caller, or raises TokenRejected."""

    def __init__(
        self,
        settings: Settings,
        *,
        keys: KeyStore,
        directory: Directory,
        external: ExternalIssuer | None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.directory = directory
        self.external = external
        self.verified = VerifiedTokens(ttl=settings.auth_cache_seconds)
        # jti -> (client record, claims, the Caller made of them): a client
        # calls again and again with one token, and making its Caller
        # (scopes intersected, row rules) cost about 1 % of a cached lookup.
        self._callers: dict[str, tuple[ClientRecord, AccessToken, Caller]] = {}

    async def caller(self, raw: str) -> Caller:
        now = self.settings.clock()
        access = self.verified.get(raw, now=int(now.timestamp()))
        if access is None:
            token = parse_unverified(raw)
            if self.external is not None and self.external.accepts(token):
                return await self._external_caller(token, int(now.timestamp()))
            access = verify_access_token(
                token,
                self.keys,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                now=int(now.timestamp()),
            )
            self.verified.put(raw, access)
        record = _usable(await self.directory.client(access.client_id))
        if await self.directory.is_revoked(access.jti, now=now):
            raise TokenRejected(Reason.TOKEN_REVOKED, "token has been revoked")
        return self._caller_of(record, access)

    def _caller_of(self, record: ClientRecord, access: AccessToken) -> Caller:
        """The Caller of these very record and claims, made once (a reloaded
        record or a re-verified token makes a new one)."""
        kept = self._callers.get(access.jti)
        if kept is not None and kept[0] is record and kept[1] is access:
            return kept[2]
        caller = _caller(record, access.scopes, access.jti)
        self._callers[access.jti] = (record, access, caller)
        if len(self._callers) > MAX_CALLERS:
            del self._callers[next(iter(self._callers))]  # the oldest
        return caller

    async def _external_caller(self, token: UnverifiedToken, now: int) -> Caller:
        assert self.external is not None
        verified: ExternalToken = self.external.verify(token, now=now)
        record = await self.directory.external_client(verified.issuer, verified.subject)
        if record is None and verified.client_id not in (None, verified.subject):
            record = await self.directory.external_client(
                verified.issuer, str(verified.client_id)
            )
        return _caller(_usable(record), verified.scopes, verified.jti)


class AuthMiddleware:
    """Pure ASGI middleware: authenticates /graphql, /exports/ and /subsidy/, leaves other paths alone."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not any(
            path == p or path.startswith(p + "/") for p in GUARDED_PATHS
        ):
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        if not values:
            await self.app(scope, receive, send)
            return
        try:
            if len(values) > 1:
                raise TokenRejected(
                    Reason.TOKEN_MALFORMED, "more than one Authorization header"
                )
            caller = await self.authenticator.caller(bearer_token(values[0]))
        except TokenRejected as e:
            log.info(
                "bearer token refused",
                extra={"reason": e.reason.value, "request_id": request_id_of(scope)},
            )
            token_rejected("bearer", e.reason.value)
            if (draft := draft_of(scope)) is not None:
                draft.reason = e.reason.value
            await unauthorized(e)(scope, receive, send)
            return
        except Exception as e:
            if not is_unavailable(e):
                raise
            log.error(
                "database unavailable", extra={"request_id": request_id_of(scope)}
            )
            await _unavailable(request_id_of(scope))(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def bearer_token(value: bytes) -> str:
    """The token of an `Authorization: Bearer <token>` value (RFC 6750 §2.1)."""
    if len(value) > MAX_TOKEN_LENGTH + 16:
        raise TokenRejected(
            Reason.TOKEN_TOO_LARGE, f"token is longer than {MAX_TOKEN_LENGTH} bytes"
        )
    scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRejected(Reason.UNSUPPORTED_SCHEME, "use the Bearer scheme")
    token = credentials.strip()
    if not token:
        raise TokenRejected(Reason.TOKEN_MALFORMED, "the bearer token is empty")
    return token


def unauthorized(error: TokenRejected) -> Response:
    """401 per RFC 6750 §3 with the hub's GraphQL error shape."""
    challenge = (
        'Bearer realm="hub", error="invalid_token", '
        f'error_description="{error.description}"'
    )
    body = {
        "errors": [
            {
                "message": f"Invalid access token: {error.description}.",
                "extensions": {"code": "UNAUTHENTICATED", "reason": error.reason.value},
            }
        ]
    }
    return JSONResponse(
        body, 401, headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
    )


def _unavailable(request_id: str) -> Response:
    """The same 503 hub/graphql.py answers when the database is gone."""
    body = {
        "errors": [
            {
                "message": "The database is unavailable; retry later.",
                "extensions": {
                    "code": "SERVICE_UNAVAILABLE",
                    "reason": "DATABASE_UNAVAILABLE",
                    "requestId": request_id,
                },
            }
        ]
    }
    return JSONResponse(body, 503, headers={"Retry-After": RETRY_AFTER_SECONDS})


def _usable(record: ClientRecord | None) -> ClientRecord:
    if record is None:
        raise TokenRejected(Reason.UNKNOWN_CLIENT, "the client is not registered")
    if record.disabled:
        raise TokenRejected(Reason.CLIENT_DISABLED, "the client is disabled")
    return record


def _caller(record: ClientRecord, scopes: frozenset[Scope], jti: str) -> Caller:
    return Caller.for_agency(
        kind=record.kind,
        scopes=record.scopes & scopes,
        client_id=record.client_id,
        agency_id=record.agency_id,
        agency_name=record.agency_name,
        district_code=record.district_code,
        enterprise_code=record.enterprise_code,
        token_id=jti,
        persisted_only=record.persisted_only,
    )
