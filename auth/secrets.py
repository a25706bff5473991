"""Client secrets: generated once, kept only as a salted scrypt hash.

RFC 6749 §2.3.1 lets a confidential client authenticate with a password
(the client secret). The hub stores `scrypt$n=..,r=..,p=..$<salt>$<hash>`
so the parameters can be raised later without breaking stored hashes, and
compares in constant time. Secrets are 256 random bits: the work factor is
there so a leaked table is not a list of working credentials, not to slow a
dictionary attack on guessable passwords (there are none).
"""

import base64
import hashlib
import hmac
import secrets

SECRET_BYTES = 32
SALT_BYTES = 16
HASH_BYTES = 32
# scrypt's "interactive" cost (16 MiB, ~50 ms on one core).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
# Refuse stored parameters that would let a corrupted row exhaust memory.
_MAX_N = 2**20
_MAX_MEMORY = 2**30


def generate_secret() -> str:
    """A new client secret: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The storable form of `secret`, with a fresh salt and the scrypt parameters."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """True when `secret` matches the stored hash; never raises on bad input."""
    if not stored or not secret:
        return False
    try:
        scheme, params, salt_text, digest_text = stored.split("$")
        values = dict(item.split("=", 1) for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except (ValueError, KeyError):
        return False
    if scheme != "scrypt" or not _sane(n, r, p):
        return False
    actual = _scrypt(secret, salt, n, r, p, length=len(expected))
    return hmac.compare_digest(actual, expected)


def _sane(n: int, r: int, p: int) -> bool:
    return 1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16


def _scrypt(
    secret: str, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES
) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_MAX_MEMORY,
        dklen=length,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
