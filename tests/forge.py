"""Hand-made JOSE objects for the auth tests, built with `cryptography` only.

The hub checks tokens with joserfc; the tests build them without it, so a
forged token is exactly what the test says (joserfc refuses to produce many
of them) and the library is never used to check itself.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segment(value: dict[str, Any] | str | bytes) -> str:
    """A base64url segment of a JSON object, or of raw JSON text/bytes as given."""
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        value = value.encode("utf-8")
    return b64url(value)


def compact(
    header: dict[str, Any] | str,
    claims: dict[str, Any] | str,
    sign: Signer | None,
) -> str:
    """`header.payload.signature`; no signer gives an empty signature."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = sign(signing_input.encode("ascii")) if sign else b""
    return f"{signing_input}.{b64url(signature)}"


def es256(key: ec.EllipticCurvePrivateKey) -> Signer:
    """ES256 (RFC 7518 §3.4): the raw 64-byte R || S, not DER."""

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def rs256(key: rsa.RSAPrivateKey) -> Signer:
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def hs256(secret: bytes) -> Signer:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, kid: str | None = None
) -> dict[str, str]:
    """The public JWK of a key (RFC 7518 §6.2, §6.3); kid = RFC 7638 thumbprint."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        jwk = {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    else:
        rsa_numbers = key.public_key().public_numbers()
        jwk = {
            "e": b64url(rsa_numbers.e.to_bytes(3, "big")),
            "kty": "RSA",
            "n": b64url(rsa_numbers.n.to_bytes(256, "big")),
        }
    return {**jwk, "kid": kid or thumbprint(jwk)}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace."""
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


def public_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified."""
    header, payload, _ = token.split(".")
    decoded: tuple[dict[str, Any], dict[str, Any]] = (
        json.loads(unb64url(header)),
        json.loads(unb64url(payload)),
    )
    return decoded


def verify_es256(token: str, jwk: dict[str, str]) -> bool:
    """Check an ES256 compact JWS against a public JWK, independently of the hub."""
    signing_input, _, signature = token.rpartition(".")
    raw = unb64url(signature)
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64url(jwk["x"]), "big"),
        int.from_bytes(unb64url(jwk["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    der = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    try:
        public.verify(der, signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
