"""The hub's rows as authlib sees them: client (RFC 6749 §2), token, request."""

from authlib.oauth2.rfc6749 import (
    ClientMixin,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from starlette.datastructures import Headers

from auth.jwks import pin_public_keys
from auth.scopes import format_scopes
from auth.secrets import verify_secret
from auth.tokens import (
    AccessToken,
    known_scopes,
)
from hub.models import OAuthClient

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
SECRET_METHODS = frozenset(AUTH_METHODS[:2])


class HubClient(ClientMixin):
    """An oauth_client row as authlib's ClientMixin (RFC 6749 §2)."""

    def __init__(self, row: OAuthClient) -> None:
        self.client_id = row.client_id
        self.secret_hash = row.secret_hash
        self.keys = pin_public_keys(row.jwks) if row.jwks is not None else None
        self.scopes = known_scopes(row.scopes)
        self.disabled = row.disabled_at is not None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """RFC 6749 §3.3: no scope asked means every scope the client holds."""
        if not scope or not scope.strip():
            return format_scopes(self.scopes)
        asked = set(scope.split())
        return " ".join(sorted(asked)) if asked <= set(self.scopes) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.disabled:
            return False
        if method == "private_key_jwt":
            return self.keys is not None
        return method in SECRET_METHODS and self.secret_hash is not None

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class IssuedToken(TokenMixin):
    """One of the hub's access tokens, as the revocation/introspection endpoints see it."""

    def __init__(self, access: AccessToken, *, now: int, revoked: bool) -> None:
        self.access = access
        self.now = now
        self.revoked = revoked

    def check_client(self, client: HubClient) -> bool:
        return client.client_id == self.access.client_id

    def get_scope(self) -> str:
        return str(self.access.claims["scope"])

    def get_expires_in(self) -> int:
        return self.access.expires_at - self.now

    def is_expired(self) -> bool:
        return self.access.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.revoked


class FormRequest(OAuth2Request):
    """A form-encoded POST already read by the Starlette adapter."""

    def __init__(self, uri: str, headers: Headers, form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}
