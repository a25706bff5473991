"""Starlette adapter for the authorization server, plus its discovery documents.

For each OAuth request: read the form (bounded, RFC 6749 §3.2 form encoding,
no repeated parameters, one client authentication method), load the rows
authlib will ask about, run authlib in a worker thread (scrypt and signatures
are CPU work), then store what it decided and commit once. Also serves RFC
8414 metadata and the JWKS.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auth.directory import Directory
from auth.keys import KeyStore
from auth.server.authorization_server import HubAuthorizationServer
from auth.server.exchange import Exchange, bound, spent_assertion_key
from auth.server.metadata import server_metadata
from auth.server.models import FormRequest, HubClient
from auth.tokens import LEEWAY_SECONDS, TokenRejected, parse_unverified
from hub.audit.draft import AuditDraft, draft_of
from hub.config import Settings
from hub.db import is_unavailable
from hub.metrics import TOKENS_ISSUED, token_rejected
from hub.models import OAuthClient, RevokedToken
from hub.request_id import request_id_of

log = logging.getLogger("hub.auth")

MAX_FORM_BYTES = 16 * 1024
MAX_CLIENT_ID_LENGTH = 64
FORM_TYPE = "application/x-www-form-urlencoded"
RETRY_AFTER_SECONDS = "5"


class OAuthEndpoints:
    """The HTTP side of /oauth/* and /.well-known/*."""

    def __init__(
        self,
        settings: Settings,
        *,
        keys: KeyStore,
        directory: Directory,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.directory = directory
        self.sessionmaker = sessionmaker
        self.server = HubAuthorizationServer(settings, keys)
        self.metadata = server_metadata(settings)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/oauth/revoke", self.revoke, methods=["POST"]),
            Route("/oauth/introspect", self.introspect, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", self.discovery),
            Route("/.well-known/jwks.json", self.jwks),
        ]

    async def token(self, request: Request) -> Response:
        """RFC 6749 §4.4.2: the client credentials access token request."""
        response = await self._handle(request, self.server.create_token_response)
        if response.status_code == 200:
            TOKENS_ISSUED.inc()
        else:
            token_rejected("token_endpoint", _error_of(response))
        return response

    async def revoke(self, request: Request) -> Response:
        """RFC 7009 §2.1."""
        return await self._handle(
            request, lambda r: self.server.create_endpoint_response("revocation", r)
        )

    async def introspect(self, request: Request) -> Response:
        """RFC 7662 §2.1."""
        return await self._handle(
            request, lambda r: self.server.create_endpoint_response("introspection", r)
        )

    async def discovery(self, _request: Request) -> Response:
        """RFC 8414 §3: authorization server metadata."""
        return JSONResponse(self.metadata, headers={"Cache-Control": "max-age=300"})

    async def jwks(self, _request: Request) -> Response:
        """The public signing keys, current and still-verifying (RFC 7517 §5)."""
        key_set = await run_in_threadpool(self.keys.jwks)
        return JSONResponse(key_set, headers={"Cache-Control": "max-age=60"})

    async def _handle(
        self, request: Request, call: Callable[[FormRequest], Response]
    ) -> Response:
        try:
            form = await read_form(request)
            oauth_request = FormRequest(
                self.settings.issuer + request.url.path, request.headers, form
            )
        except OAuth2Error as error:
            refused: Response = self.server.handle_error_response(None, error)
            return refused
        try:
            return await self._exchange(
                oauth_request,
                call,
                request_id_of(request.scope),
                draft_of(request.scope),
            )
        except Exception as e:
            if not is_unavailable(e):
                raise
            log.error(
                "database unavailable",
                extra={"request_id": request_id_of(request.scope)},
            )
            return JSONResponse(
                {
                    "error": "temporarily_unavailable",
                    "error_description": "The database is unavailable; retry later.",
                },
                503,
                headers={
                    "Retry-After": RETRY_AFTER_SECONDS,
                    "Cache-Control": "no-store",
                },
            )

    async def _exchange(
        self,
        oauth_request: FormRequest,
        call: Callable[[FormRequest], Response],
        request_id: str,
        draft: AuditDraft | None,
    ) -> Response:
        """Load, run authlib in a worker thread, persist its decisions, commit."""
        now = self.settings.clock()
        async with self.sessionmaker() as session:
            exchange = await load_exchange(session, oauth_request, now)
            exchange.request_id = request_id
            with bound(exchange):  # the worker thread sees it (context is copied)
                response: Response = await run_in_threadpool(call, oauth_request)
            note_exchange(draft, exchange, response)
            if response.status_code != 200 or not (
                exchange.spent_assertions or exchange.revocations
            ):
                return response
            try:
                await persist(session, exchange, now)
                await session.commit()
            except IntegrityError:
                await session.rollback()
                if exchange.spent_assertions:
                    replay = InvalidClientError(
                        description="The assertion was already used."
                    )
                    refused: Response = self.server.handle_error_response(
                        oauth_request, replay
                    )
                    return refused
        for access in exchange.revocations:
            self.directory.note_revoked(access.jti, _utc(access.expires_at))
        return response


def note_exchange(
    draft: AuditDraft | None, exchange: Exchange, response: Response
) -> None:
    """Tell the audit entry which client asked and what it was granted."""
    if draft is None:
        return
    if len(exchange.clients) == 1:
        draft.client_id = next(iter(exchange.clients))
    if response.status_code == 200:
        granted = orjson.loads(bytes(response.body)).get("scope", "")
        draft.scopes = tuple(sorted(str(granted).split()))
    else:
        error = (
            orjson.loads(bytes(response.body)).get("error") if response.body else None
        )
        draft.reason = str(error).upper() if error else None


async def read_form(request: Request) -> dict[str, str]:
    """The form parameters; RFC 6749 §3.2: form-encoded, none repeated."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequestError(description=f"Send {FORM_TYPE}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidRequestError(description="Request too large.", status_code=413)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=32
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(description="Malformed form body.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError(description="A parameter is repeated.")
        form[name] = value
    methods = [
        request.headers.get("authorization", "").lower().startswith("basic "),
        "client_secret" in form,
        "client_assertion" in form,
    ]
    if sum(methods) > 1:
        # RFC 6749 §2.3: a client MUST NOT use more than one method per request.
        raise InvalidRequestError(description="Use one client authentication method.")
    return form


async def load_exchange(
    session: AsyncSession, request: FormRequest, now: datetime
) -> Exchange:
    """Everything authlib may ask about this request, read up front."""
    ids: set[str] = set()
    jtis: set[str] = set()
    basic_id, _ = extract_basic_authorization(request.headers)
    ids.update(i for i in (basic_id, request.form.get("client_id")) if i)
    assertion = _claims_of(request.form.get("client_assertion"))
    sub, jti = assertion.get("sub"), assertion.get("jti")
    if isinstance(sub, str) and isinstance(jti, str):
        ids.add(sub)
        jtis.add(spent_assertion_key(sub, jti))
    token_jti = _claims_of(request.form.get("token")).get("jti")
    if isinstance(token_jti, str):
        jtis.add(token_jti)
    ids = {i for i in ids if len(i) <= MAX_CLIENT_ID_LENGTH}
    exchange = Exchange(now=int(now.timestamp()), clients={})
    if ids:
        rows = await session.scalars(
            select(OAuthClient).where(OAuthClient.client_id.in_(ids))
        )
        exchange.clients = {row.client_id: HubClient(row) for row in rows}
    if jtis:
        seen = await session.scalars(
            select(RevokedToken.jti).where(RevokedToken.jti.in_(jtis))
        )
        exchange.seen_jtis = frozenset(seen)
    return exchange


async def persist(session: AsyncSession, exchange: Exchange, now: datetime) -> None:
    """Store spent assertion jtis and revoked tokens; drop expired entries."""
    for key, client_id, exp in exchange.spent_assertions:
        session.add(_revoked(key, client_id, exp, now))
    for access in exchange.revocations:
        if await session.get(RevokedToken, access.jti) is None:
            session.add(_revoked(access.jti, access.client_id, access.expires_at, now))
    await session.flush()
    stale = datetime.fromtimestamp(now.timestamp() - LEEWAY_SECONDS, UTC)
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < stale))


def _error_of(response: Response) -> str | None:
    """The RFC 6749 §5.2 `error` code of a refusal, if it has one."""
    try:
        error = orjson.loads(bytes(response.body)).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return error if isinstance(error, str) else None


def _claims_of(value: str | None) -> dict[str, object]:
    """Unverified claims, only to know which rows to load; {} if unreadable."""
    try:
        return parse_unverified(value).claims if value else {}
    except TokenRejected:
        return {}


def _revoked(jti: str, client_id: str, exp: int, now: datetime) -> RevokedToken:
    return RevokedToken(
        jti=jti, client_id=client_id, expires_at=_utc(exp), revoked_at=now
    )


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
