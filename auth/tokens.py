"""Access tokens: the hub's RFC 9068 JWTs, issued and checked.

Checking follows RFC 8725 (JWT Best Current Practices) and never lets the
token choose how it is checked:

- the size is capped before anything is decoded;
- only the JWS Compact Serialization is accepted (RFC 7515 §7.1): the JSON
  serialization and JWE (five segments) are refused;
- header and payload must be JSON objects without duplicate member names
  (RFC 7515 §5.2 step 4, RFC 7519 §4) and without NaN or Infinity;
- header parameters are limited to `alg`, `typ`, `kid`: `jku`, `x5u`, `jwk`,
  `x5c` and `crit` are refused, so no key is ever taken from the token or
  fetched from a URL (RFC 8725 §3.10);
- `alg` is pinned per key before the signature is checked (RFC 8725 §3.1);
- `typ` must be `at+jwt` (RFC 9068 §2.1, §4; RFC 8725 §3.11);
- `kid` must name a kept key; a kid is a thumbprint, never a path;
- claims `iss`, `aud`, `exp`, `iat`, `jti`, `sub`, `client_id`, `scope`
  are required (RFC 9068 §2.2) and times are checked with a 30 s leeway.
"""

import base64
import binascii
import json
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExceededSizeError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from auth.keys import ALGORITHM, KeyStore, SigningKey
from auth.scopes import Scope

TOKEN_TYPE = "at+jwt"
LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 4096
HEADER_PARAMETERS = frozenset({"alg", "typ", "kid"})
_TYPES = frozenset({TOKEN_TYPE, "application/at+jwt"})
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_NAMED_PARAMETERS = frozenset(
    {"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit", "cty", "b64", "zip"}
    | {"enc", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"}
)
_REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti", "sub", "client_id", "scope")


class Reason(StrEnum):
    """Stable reasons a bearer token is refused (`extensions.reason`)."""

    TOKEN_MALFORMED = "TOKEN_MALFORMED"
    TOKEN_TOO_LARGE = "TOKEN_TOO_LARGE"
    HEADER_NOT_ALLOWED = "HEADER_NOT_ALLOWED"
    ALGORITHM_NOT_ALLOWED = "ALGORITHM_NOT_ALLOWED"
    WRONG_TOKEN_TYPE = "WRONG_TOKEN_TYPE"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    MISSING_CLAIM = "MISSING_CLAIM"
    INVALID_CLAIM = "INVALID_CLAIM"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_NOT_YET_VALID = "TOKEN_NOT_YET_VALID"
    WRONG_ISSUER = "WRONG_ISSUER"
    WRONG_AUDIENCE = "WRONG_AUDIENCE"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
    CLIENT_DISABLED = "CLIENT_DISABLED"
    UNSUPPORTED_SCHEME = "UNSUPPORTED_SCHEME"


class TokenRejected(Exception):
    """A token that must not be accepted; `description` is safe to send back."""

    def __init__(self, reason: Reason, description: str) -> None:
        super().__init__(f"{reason}: {description}")
        self.reason = reason
        self.description = description


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A compact JWS split and parsed, signature NOT yet checked."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The verified claims of one of the hub's access tokens."""

    jti: str
    client_id: str
    scopes: frozenset[Scope]
    issued_at: int
    expires_at: int
    claims: dict[str, Any]


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    scope: str,
    now: int,
    ttl: int,
) -> str:
    """Sign an RFC 9068 access token for a client-credentials grant (§2.2)."""
    header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": key.kid}
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": client_id,
        "client_id": client_id,
        "scope": scope,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(header, claims, key.key, algorithms=[ALGORITHM])


def parse_unverified(raw: str) -> UnverifiedToken:
    """Split a compact JWS and parse both JSON parts strictly; no signature check."""
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenRejected(
            Reason.TOKEN_TOO_LARGE, f"token is longer than {MAX_TOKEN_LENGTH} bytes"
        )
    if raw.count(".") == 4:
        raise TokenRejected(Reason.TOKEN_MALFORMED, "encrypted tokens are not accepted")
    if not _COMPACT.fullmatch(raw):
        raise TokenRejected(
            Reason.TOKEN_MALFORMED, "not a JWS in compact serialization"
        )
    header_segment, payload_segment, _ = raw.split(".")
    return UnverifiedToken(
        raw, _json_segment(header_segment, "header"), _json_segment(payload_segment)
    )


def check_header(
    header: dict[str, Any],
    *,
    algorithms: Collection[str],
    allowed: frozenset[str] = HEADER_PARAMETERS,
) -> str:
    """Apply the header policy; return the kid."""
    extra = set(header) - allowed
    if extra:
        named = ", ".join(sorted(extra & _NAMED_PARAMETERS)) or "unrecognised"
        raise TokenRejected(
            Reason.HEADER_NOT_ALLOWED, f"header parameter not accepted: {named}"
        )
    if header.get("alg") not in algorithms:
        raise TokenRejected(
            Reason.ALGORITHM_NOT_ALLOWED, f"alg must be {' or '.join(algorithms)}"
        )
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYPES:
        raise TokenRejected(Reason.WRONG_TOKEN_TYPE, "typ must be at+jwt")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected(Reason.UNKNOWN_KEY, "kid is missing")
    return kid


def check_signature(token: UnverifiedToken, key: Key, algorithm: str) -> None:
    """Verify the JWS signature with `key`, allowing only `algorithm`."""
    try:
        jws.deserialize_compact(
            token.raw, key, algorithms=[algorithm], registry=_registry(algorithm)
        )
    except BadSignatureError:
        raise TokenRejected(Reason.BAD_SIGNATURE, "signature does not verify") from None
    except ExceededSizeError:
        raise TokenRejected(Reason.TOKEN_TOO_LARGE, "token part too large") from None
    except JoseError as e:
        raise TokenRejected(Reason.TOKEN_MALFORMED, _ascii(e.error)) from None


def check_claims(
    claims: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    now: int,
    required: Collection[str] = _REQUIRED_CLAIMS,
) -> None:
    """RFC 7519 §4.1 claim checks, with the hub's clock and a 30 s leeway."""
    options: dict[str, Any] = {name: {"essential": True} for name in required}
    options["iss"] = {"essential": True, "value": issuer}
    options["aud"] = {"essential": True, "value": audience}
    registry = jwt.JWTClaimsRegistry(now=now, leeway=LEEWAY_SECONDS, **options)
    try:
        registry.validate(claims)
    except ClaimError as e:
        raise _claim_rejection(e) from None
    for name in ("sub", "client_id", "scope", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise TokenRejected(Reason.INVALID_CLAIM, f"claim {name} must be a string")


def verify_access_token(
    raw: str | UnverifiedToken,
    keys: KeyStore,
    *,
    issuer: str,
    audience: str,
    now: int,
) -> AccessToken:
    """Verify one of the hub's own access tokens, or raise TokenRejected."""
    token = parse_unverified(raw) if isinstance(raw, str) else raw
    kid = check_header(token.header, algorithms=[ALGORITHM])
    key = keys.verification_key(kid)
    if key is None:
        raise TokenRejected(Reason.UNKNOWN_KEY, "kid names no key of this issuer")
    check_signature(token, key, ALGORITHM)
    claims = token.claims
    check_claims(claims, issuer=issuer, audience=audience, now=now)
    if claims["sub"] != claims["client_id"]:
        raise TokenRejected(Reason.INVALID_CLAIM, "sub must be the client_id")
    return AccessToken(
        jti=claims["jti"],
        client_id=claims["client_id"],
        scopes=known_scopes(claims["scope"]),
        issued_at=claims["iat"],
        expires_at=claims["exp"],
        claims=claims,
    )


def known_scopes(scope: str) -> frozenset[Scope]:
    """The scopes of a `scope` claim that the catalogue knows; others are ignored."""
    return frozenset(Scope(s) for s in scope.split() if s in Scope._value2member_map_)


def _claim_rejection(error: ClaimError) -> TokenRejected:
    claim = error.claim
    if isinstance(error, ExpiredTokenError):
        return TokenRejected(Reason.TOKEN_EXPIRED, "token has expired")
    if isinstance(error, MissingClaimError):
        return TokenRejected(Reason.MISSING_CLAIM, f"missing claim: {_ascii(claim)}")
    if claim in ("nbf", "iat"):
        return TokenRejected(Reason.TOKEN_NOT_YET_VALID, f"{claim} is in the future")
    if claim == "iss":
        return TokenRejected(Reason.WRONG_ISSUER, "iss is not an accepted issuer")
    if claim == "aud":
        return TokenRejected(Reason.WRONG_AUDIENCE, "aud does not name this service")
    return TokenRejected(Reason.INVALID_CLAIM, f"invalid claim: {_ascii(claim)}")


def _json_segment(segment: str, part: str = "payload") -> dict[str, Any]:
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = _STRICT_JSON.decode(data.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TokenRejected(
            Reason.TOKEN_MALFORMED, f"{part} is not valid JSON"
        ) from None
    if not isinstance(value, dict):
        raise TokenRejected(Reason.TOKEN_MALFORMED, f"{part} is not a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate member name")
        result[name] = value
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_STRICT_JSON = json.JSONDecoder(
    object_pairs_hook=_unique_members, parse_constant=_no_constant
)
_REGISTRIES: dict[str, JWSRegistry] = {}


def _registry(algorithm: str) -> JWSRegistry:
    if algorithm not in _REGISTRIES:
        _REGISTRIES[algorithm] = JWSRegistry(algorithms=[algorithm])
    return _REGISTRIES[algorithm]


def _ascii(text: object) -> str:
    """Keep token-supplied text out of headers: printable ASCII without quotes."""
    return re.sub(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]", "?", str(text))[:80]
