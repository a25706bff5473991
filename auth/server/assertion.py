"""private_key_jwt client authentication (RFC 7523 §2.2, §3)."""

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.errors import JoseError
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from auth.jwks import PinnedKey
from auth.server.exchange import current_exchange, spent_assertion_key
from auth.server.models import HubClient
from auth.tokens import (
    LEEWAY_SECONDS,
    TokenRejected,
    check_signature,
    parse_unverified,
)

ASSERTION_HEADER = frozenset({"alg", "kid", "typ"})
# RFC 7523 §3 item 4: an assertion meant to live longer is refused.
MAX_ASSERTION_LIFETIME = 3600


@dataclass(frozen=True, slots=True)
class ClientKeys:
    """A client's pinned keys; a plain object so authlib passes it through as is."""

    by_kid: dict[str, PinnedKey]

    def get(self, kid: object) -> PinnedKey | None:
        return self.by_kid.get(kid) if isinstance(kid, str) else None


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt (RFC 7523 §2.2, §3) with the hub's pinned algorithms.

    authlib's version verifies with joserfc's default algorithm list and
    time.time(); the hub pins each registered key to one algorithm (RFC 8725
    §3.1) and uses its own clock, so the two checking methods are replaced.
    The jti is only recorded here; adapter.py stores it and refuses a
    second use (the database insert is what makes it single-use).
    """

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, audiences: list[str]) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY_SECONDS)
        self.audiences = audiences

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: HubClient) -> ClientKeys:
        if client.keys is None:
            raise InvalidClientError(description="The client has no registered keys.")
        return ClientKeys(client.keys)

    def process_assertion_claims(
        self, assertion: str, resolve_key: ClientKeys
    ) -> dict[str, Any]:
        try:
            token = parse_unverified(assertion)
            header = token.header
            pinned = resolve_key.get(header.get("kid"))
            if set(header) - ASSERTION_HEADER or pinned is None:
                raise InvalidClientError(description="Unknown key or header parameter.")
            if header.get("alg") != pinned.algorithm:
                raise InvalidClientError(description=f"Use {pinned.algorithm}.")
            check_signature(token, pinned.key, pinned.algorithm)
        except TokenRejected as e:
            raise InvalidClientError(
                description=f"Invalid assertion: {e.reason}."
            ) from None
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        now = current_exchange().now
        essential: ClaimsOption = {"essential": True}
        registry = JWTClaimsRegistry(
            now=now,
            leeway=self.leeway,
            iss=essential,
            sub=essential,
            exp=essential,
            jti=essential,
            aud={"essential": True, "values": self.get_audiences()},
        )
        try:
            registry.validate(claims)
        except JoseError as e:
            raise InvalidClientError(
                description=f"Invalid assertion: {e.error}."
            ) from None
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="Issuer and Subject MUST match.")
        if claims["exp"] - now > MAX_ASSERTION_LIFETIME:
            raise InvalidClientError(description="The assertion lives too long.")
        if not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="The assertion was already used.")

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        exchange = current_exchange()
        key = spent_assertion_key(claims["sub"], jti)
        if key in exchange.seen_jtis:
            return False
        exchange.spent_assertions.append((key, claims["sub"], int(claims["exp"])))
        return True
