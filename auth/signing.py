"""Signed JSON statements (not tokens): a compact JWS (RFC 7515 §7.1) over JSON.

Used for the audit log's checkpoints. The header carries only `alg` (ES256),
`kid` and `typ`; the verifier looks the key up by kid in a pinned key set and
never takes a key or algorithm from the statement (RFC 8725 §3.1, §3.10).
"""

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from auth.jwks import PinnedKey
from auth.keys import ALGORITHM, SigningKey

MAX_STATEMENT_LENGTH = 2048
_REGISTRY = JWSRegistry(algorithms=[ALGORITHM])


class StatementInvalid(ValueError):
    """A signed statement that does not verify; the message says why."""


def sign_statement(key: SigningKey, payload: Mapping[str, Any], *, typ: str) -> str:
    """Sign `payload` (sorted, compact JSON) with `key` as a compact JWS."""
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": typ}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key.key, algorithms=[ALGORITHM])


def verify_statement(
    token: str, keys: Mapping[str, PinnedKey], *, typ: str
) -> dict[str, Any]:
    """The payload of `token` once its signature verifies with a key in `keys`."""
    if len(token) > MAX_STATEMENT_LENGTH or token.count(".") != 2:
        raise StatementInvalid("not a compact JWS")
    header = _segment(token.split(".", 1)[0])
    if set(header) != {"alg", "kid", "typ"} or header["typ"] != typ:
        raise StatementInvalid(f"header must be alg, kid and typ {typ!r}")
    pinned = keys.get(header["kid"]) if isinstance(header["kid"], str) else None
    if pinned is None:
        raise StatementInvalid("signed by a key that is not in the key set")
    if header["alg"] != pinned.algorithm:
        raise StatementInvalid(f"alg must be {pinned.algorithm}")
    try:
        verified = jws.deserialize_compact(
            token, pinned.key, algorithms=[pinned.algorithm], registry=_REGISTRY
        )
    except JoseError:
        raise StatementInvalid("signature does not verify") from None
    payload = _decode(verified.payload)
    if not isinstance(payload, dict):
        raise StatementInvalid("payload is not a JSON object")
    return payload


def _segment(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise StatementInvalid("header is not base64url") from None
    value = _decode(raw)
    if not isinstance(value, dict):
        raise StatementInvalid("header is not a JSON object")
    return value


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise StatementInvalid("not valid JSON") from None
