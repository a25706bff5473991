"""Webhook signing secrets at rest: AES-256-GCM under a key file beside the hub's keys.

The hub must sign with the secret itself, so unlike client secrets it cannot
keep a hash. Each secret is sealed with a random 96-bit nonce under a 32-byte
key in `<HUB_KEYS_DIR>/webhook-secrets.key` (mode 0600, created on first
use); a database copy without that file reveals no secret. Losing the file
loses the secrets: endpoints must then be registered again.
"""

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE = "webhook-secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = "v1."
# Binds a sealed value to its use: it cannot be replayed as another kind of secret.
ASSOCIATED_DATA = b"ecredit-hub webhook secret v1"


class SecretUnreadable(Exception):
    """A sealed secret that the key file on this machine cannot open."""


class SecretBox:
    """Seals and opens webhook secrets with the hub's webhook key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the webhook key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return "SecretBox(...)"

    @classmethod
    def from_dir(cls, directory: Path) -> "SecretBox":
        """The box for the key in `directory`, creating the key on first use."""
        return cls(load_or_create_key(directory / KEY_FILE))

    def seal(self, secret: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), ASSOCIATED_DATA)
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith(VERSION):
            raise SecretUnreadable("unknown sealed-secret format")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(VERSION) :])
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA
            )
        except (InvalidTag, ValueError):
            raise SecretUnreadable(
                "the webhook key does not open this secret (another key file?)"
            ) from None
        return plain.decode()


def load_or_create_key(path: Path) -> bytes:
    """Read the key; if absent, create it so that concurrent creators agree.

    The new key is written to a private temporary file and linked into place:
    link fails when another process won the race, and its key is read instead.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SecretUnreadable(f"{path} is not a {KEY_BYTES}-byte key")
    return key
