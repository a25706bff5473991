"""Revocation (RFC 7009) and introspection (RFC 7662) of the hub's access tokens."""

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from auth.server.exchange import current_exchange
from auth.server.models import AUTH_METHODS, FormRequest, HubClient, IssuedToken


class HintIgnored:
    """RFC 7009 §2.1, RFC 7662 §2.1: `token_type_hint` only guides the search,
    and a wrong or unknown hint is ignored. The hub has one token type, so
    instead of authlib's unsupported_token_type (sent with status 401) only
    the presence of `token` is checked."""

    def check_params(self, request: FormRequest, client: HubClient) -> None:
        if "token" not in request.form:
            raise InvalidRequestError(description="The token parameter is missing.")


class Revocation(HintIgnored, RevocationEndpoint):
    """RFC 7009 for the hub's access tokens (there are no refresh tokens)."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def authenticate_token(
        self, request: FormRequest, client: HubClient
    ) -> IssuedToken | None:
        # A token of another client is answered like an invalid one (200, nothing
        # done; RFC 7009 §2.2) instead of authlib's invalid_grant, so the endpoint
        # does not tell a client whether someone else's token is genuine.
        self.check_params(request, client)
        token = self.server.find_token(request.form["token"])
        return token if token is not None and token.check_client(client) else None

    def revoke_token(self, token: IssuedToken, request: FormRequest) -> None:
        current_exchange().revocations.append(token.access)


class Introspection(HintIgnored, IntrospectionEndpoint):
    """RFC 7662: a client may introspect its own tokens; anything else is inactive."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return self.server.find_token(token_string)

    def check_permission(
        self, token: IssuedToken, client: HubClient, request: FormRequest
    ) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        claims = token.access.claims
        names = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
        return {"active": True, "token_type": "Bearer"} | {n: claims[n] for n in names}
