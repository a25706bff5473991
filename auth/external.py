"""Tokens from one trusted external issuer (e.g. the province's identity provider).

The issuer's public keys come from a local JWKS file (HUB_EXTERNAL_JWKS_FILE),
read once at start-up: the hub never fetches keys from a URL, neither from the
issuer's metadata nor from a token's `jku`/`x5u` (RFC 8725 §3.10). Each key is
pinned to one algorithm, RS256 (RSA, at least 2048 bits) or ES256 (P-256),
taken from its `alg` member or its type (RFC 8725 §3.1). A token is routed
here only when its `iss` equals HUB_EXTERNAL_ISSUER; it must then pass the
same header policy and claim checks as the hub's own tokens (RFC 9068 §4),
except that `client_id` is optional. Which agency it speaks for, and with
which scopes, is decided by the external_client table, not by the token.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from auth.jwks import ALGORITHMS, PinnedKey, pin_public_keys
from auth.scopes import Scope
from auth.tokens import (
    HEADER_PARAMETERS,
    Reason,
    TokenRejected,
    UnverifiedToken,
    check_claims,
    check_header,
    check_signature,
    known_scopes,
)
from hub.config import Settings

# Thumbprint hints are harmless: keys are still looked up by kid only.
_ALLOWED_HEADER = HEADER_PARAMETERS | {"x5t", "x5t#S256"}
_REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti", "sub", "scope")


class ExternalIssuerError(ValueError):
    """The external issuer's configuration or JWKS file is unusable."""


@dataclass(frozen=True, slots=True)
class ExternalToken:
    """The verified claims of an external issuer's access token."""

    issuer: str
    subject: str
    client_id: str | None
    jti: str
    scopes: frozenset[Scope]
    expires_at: int


class ExternalIssuer:
    """Verifies tokens of the configured external issuer with its pinned keys."""

    def __init__(self, issuer: str, audience: str, keys: dict[str, PinnedKey]) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys

    @classmethod
    def from_settings(cls, settings: Settings) -> "ExternalIssuer | None":
        """The configured issuer, or None when HUB_EXTERNAL_ISSUER is unset."""
        if not settings.external_issuer or settings.external_jwks_file is None:
            return None
        if settings.external_issuer == settings.issuer:
            raise ExternalIssuerError("HUB_EXTERNAL_ISSUER must differ from HUB_ISSUER")
        return cls(
            settings.external_issuer,
            settings.external_audience or settings.audience,
            load_jwks_file(settings.external_jwks_file),
        )

    def accepts(self, token: UnverifiedToken) -> bool:
        """True when the (unverified) `iss` says the token is this issuer's."""
        return token.claims.get("iss") == self.issuer

    def verify(self, token: UnverifiedToken, *, now: int) -> ExternalToken:
        """Check header, signature and claims; raise TokenRejected otherwise."""
        kid = check_header(token.header, algorithms=ALGORITHMS, allowed=_ALLOWED_HEADER)
        pinned = self.keys.get(kid)
        if pinned is None:
            raise TokenRejected(Reason.UNKNOWN_KEY, "kid names no key of this issuer")
        if token.header["alg"] != pinned.algorithm:
            raise TokenRejected(
                Reason.ALGORITHM_NOT_ALLOWED, f"this key signs {pinned.algorithm} only"
            )
        check_signature(token, pinned.key, pinned.algorithm)
        claims = token.claims
        check_claims(
            claims,
            issuer=self.issuer,
            audience=self.audience,
            now=now,
            required=_REQUIRED_CLAIMS,
        )
        client_id = claims.get("client_id")
        if client_id is not None and not isinstance(client_id, str):
            raise TokenRejected(
                Reason.INVALID_CLAIM, "claim client_id must be a string"
            )
        return ExternalToken(
            issuer=self.issuer,
            subject=claims["sub"],
            client_id=client_id,
            jti=claims["jti"],
            scopes=known_scopes(claims["scope"]),
            expires_at=claims["exp"],
        )


def load_jwks_file(path: Path) -> dict[str, PinnedKey]:
    """Read the issuer's JWK Set (RFC 7517 §5) of public keys, pinned by kid."""
    try:
        return pin_public_keys(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise ExternalIssuerError(f"cannot use JWKS file {path}: {e}") from None
