"""Public verification keys from a JWK Set, each pinned to one algorithm.

Used for the external issuer's keys and for the keys a client registers for
private_key_jwt (RFC 7523 §2.2). RFC 8725 §3.1: the algorithm comes from the
key, never from the token: RS256 for RSA keys of at least 2048 bits, ES256 for
P-256 keys; a key's own `alg` member may only confirm that choice.
"""

from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

ALGORITHMS = ("ES256", "RS256")
MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class KeySetError(ValueError):
    """A JWK Set that cannot be used for verification; the message says why."""


@dataclass(frozen=True, slots=True)
class PinnedKey:
    algorithm: str
    key: Key


def pin_public_keys(data: object) -> dict[str, PinnedKey]:
    """Import a JWK Set of public keys, keyed by their (required, unique) kid."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeySetError('a JWK Set is an object with a "keys" array')
    for raw in data["keys"]:
        _check_member_names(raw)
    try:
        key_set = KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError, JoseError) as e:
        raise KeySetError(f"invalid JWK: {e}") from None
    pinned: dict[str, PinnedKey] = {}
    for key, raw in zip(key_set, data["keys"], strict=True):
        kid = raw.get("kid")
        if not isinstance(kid, str) or not kid or kid in pinned:
            raise KeySetError("every key needs its own kid")
        pinned[kid] = PinnedKey(_algorithm_of(key, raw), key)
    if not pinned:
        raise KeySetError("the key set is empty")
    return pinned


def _check_member_names(raw: object) -> None:
    """Refuse before importing: symmetric and private keys never get that far."""
    if not isinstance(raw, dict):
        raise KeySetError("each key must be a JSON object")
    if raw.get("kty") not in ("EC", "RSA"):
        raise KeySetError("only RSA and EC (P-256) keys are accepted")
    if _PRIVATE_MEMBERS & set(raw):
        raise KeySetError("the key set holds a private key; register public keys only")


def _algorithm_of(key: Key, raw: dict[str, Any]) -> str:
    if key.is_private:
        raise KeySetError("the key set holds a private key; register public keys only")
    if isinstance(key, RSAKey):
        if key.raw_value.key_size < MIN_RSA_BITS:
            raise KeySetError(f"RSA keys need at least {MIN_RSA_BITS} bits")
        algorithm = "RS256"
    elif isinstance(key, ECKey) and key.curve_name == "P-256":
        algorithm = "ES256"
    else:
        raise KeySetError("only RSA and P-256 keys are accepted")
    if raw.get("alg", algorithm) != algorithm:
        raise KeySetError(f"key {raw.get('kid')} must be used with {algorithm}")
    return algorithm
