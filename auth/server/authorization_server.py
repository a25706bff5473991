"""authlib's AuthorizationServer with the hub's hooks: client credentials only."""

import logging
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from starlette.responses import JSONResponse, Response

from auth.keys import KeyStore
from auth.scopes import Scope
from auth.server.assertion import PrivateKeyJWT
from auth.server.endpoints import Introspection, Revocation
from auth.server.exchange import current_exchange
from auth.server.models import AUTH_METHODS, FormRequest, HubClient, IssuedToken
from auth.tokens import (
    TokenRejected,
    issue_access_token,
    verify_access_token,
)
from hub.config import Settings

log = logging.getLogger("hub.auth")


class ClientCredentials(ClientCredentialsGrant):
    """RFC 6749 §4.4, with the three client authentication methods."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """RFC 6749 §5.2 invalid_scope: unknown, or beyond what the client holds."""
        super().validate_requested_scope()
        scope = self.request.payload.scope
        if scope and self.client.get_allowed_scope(scope) is None:
            beyond = sorted(set(scope.split()) - set(self.client.scopes))
            raise InvalidScopeError(
                description=f"The client may not request: {' '.join(beyond)}"
            )


class HubAuthorizationServer(AuthorizationServer):
    """authlib's AuthorizationServer with the hub's hooks (no sync DB access)."""

    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        super().__init__(scopes_supported=sorted(s.value for s in Scope))
        self.settings = settings
        self.keys = keys
        self.register_grant(ClientCredentials)
        self.register_client_auth_method(
            "private_key_jwt",
            PrivateKeyJWT([f"{settings.issuer}/oauth/token", settings.issuer]),
        )
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                self._sign, expires_generator=settings.token_ttl_seconds
            ),
        )
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id: str) -> HubClient | None:
        return current_exchange().clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        # Access tokens are self-contained JWTs: nothing to store, only to log.
        log.info(
            "access token issued",
            extra={
                "client_id": request.client.client_id,
                "scope": token.get("scope"),
                "request_id": current_exchange().request_id,
            },
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def create_json_request(self, request: object) -> Any:
        raise NotImplementedError("the hub has no JSON OAuth endpoints")

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> Response:
        return JSONResponse(body, status, headers=dict(headers))

    def find_token(self, raw: str) -> IssuedToken | None:
        """One of our tokens, signature and claims valid; None for anything else."""
        exchange = current_exchange()
        try:
            access = verify_access_token(
                raw,
                self.keys,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                now=exchange.now,
            )
        except TokenRejected:
            return None
        revoked = access.jti in exchange.seen_jtis
        return IssuedToken(access, now=exchange.now, revoked=revoked)

    def _sign(
        self, client: HubClient, grant_type: str, user: object, scope: str
    ) -> str:
        return issue_access_token(
            self.keys.signing_key(),
            issuer=self.settings.issuer,
            audience=self.settings.audience,
            client_id=client.client_id,
            scope=scope,
            now=current_exchange().now,
            ttl=self.settings.token_ttl_seconds,
        )
