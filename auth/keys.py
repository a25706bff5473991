"""The hub's signing keys: ES256 key pairs in a directory, published as a JWKS.

Each key is a PKCS#8 PEM file `key-<seq>-<created>.pem` (mode 0600, in a
0700 directory). Its `kid` is the RFC 7638 JWK thumbprint, so a kid names
exactly one public key and is never used to build a path. The key with the
highest sequence number signs; every kept key verifies and appears in the
JWKS (RFC 7517 §5) so tokens signed before a rotation stay valid until they
expire. Rotation removes a retired key only once every token it can have
signed has expired (its successor's creation + token lifetime + leeway).
"""

import fcntl
import itertools
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
CURVE = "P-256"
_NAME = re.compile(r"key-(\d{4,})-(\d{8}T\d{6}Z)\.pem")
_STAMP = "%Y%m%dT%H%M%SZ"


class KeyStoreError(RuntimeError):
    """A key file that cannot be read or written; the message names the file."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    seq: int
    created_at: datetime
    path: Path
    key: ECKey

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (RFC 7517 §4), never the private scalar."""
        jwk: dict[str, Any] = dict(self.key.as_dict(private=False))
        jwk.update(kid=self.kid, alg=ALGORITHM, use="sig")
        return jwk

    def __repr__(self) -> str:  # keep the private key out of logs and tracebacks
        return f"SigningKey(kid={self.kid!r}, seq={self.seq})"


@dataclass(frozen=True, slots=True)
class Rotation:
    added: SigningKey
    removed: tuple[SigningKey, ...]


def load_keys(directory: Path) -> list[SigningKey]:
    """Every key file in `directory`, oldest first; [] when there is none."""
    return [_load(directory / name) for name in _key_files(directory)]


def create_key(directory: Path, now: datetime) -> SigningKey:
    """Generate a key and write it as the newest file (0600), under a lock."""
    with _locked(directory):
        return _create_unlocked(directory, now)


def ensure_key(directory: Path, now: datetime) -> list[SigningKey]:
    """The keys, creating the first one if the directory holds none."""
    with _locked(directory):
        keys = load_keys(directory)
        if not keys:
            keys = [_create_unlocked(directory, now)]
        return keys


def rotate_keys(
    directory: Path, *, now: datetime, token_ttl: int, leeway: int
) -> Rotation:
    """Add a signing key; drop keys older than the previous one whose tokens expired."""
    with _locked(directory):
        added = _create_unlocked(directory, now)
        keys = load_keys(directory)
        grace = timedelta(seconds=token_ttl + leeway)
        removed = []
        for retired, successor in itertools.pairwise(keys[:-1]):
            if successor.created_at + grace <= now:
                retired.path.unlink()
                removed.append(retired)
        return Rotation(added, tuple(removed))


class KeyStore:
    """One process's view of the key directory, re-listed when it may be stale.

    The listing is re-read at most every `refresh_seconds`, and at once when a
    token names a kid this process does not know yet (a key another worker or
    `hub keys rotate` just added); only new files are parsed.
    """

    def __init__(
        self,
        directory: Path,
        *,
        refresh_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.directory = directory
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._listing: tuple[str, ...] | None = None
        self._keys: list[SigningKey] = []
        self._by_kid: dict[str, SigningKey] = {}
        self._checked_at = 0.0

    def signing_key(self) -> SigningKey:
        """The newest key; the first key is created if the directory is empty."""
        self._refresh()
        if not self._keys:
            ensure_key(self.directory, self.clock())
            self._refresh(force=True)
        return self._keys[-1]

    def current(self) -> SigningKey | None:
        """The newest key already on disk, creating none (the readiness probe)."""
        self._refresh()
        return self._keys[-1] if self._keys else None

    def verification_key(self, kid: str) -> ECKey | None:
        """The public key for `kid`, or None when no kept key has that kid."""
        self._refresh()
        found = self._by_kid.get(kid)
        if found is None:
            self._refresh(force=True)
            found = self._by_kid.get(kid)
        return found.key if found is not None else None

    def jwks(self) -> dict[str, Any]:
        """The JWK Set of every kept key's public half (RFC 7517 §5)."""
        self.signing_key()
        return {"keys": [k.public_jwk() for k in reversed(self._keys)]}

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_seconds:
            return
        self._checked_at = now
        listing = _key_files(self.directory)
        if listing == self._listing:
            return
        known = {k.path.name: k for k in self._keys}
        keys = [known.get(n) or _load(self.directory / n) for n in listing]
        self._keys = keys
        self._by_kid = {k.kid: k for k in keys}
        self._listing = listing


def _key_files(directory: Path) -> tuple[str, ...]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return ()
    return tuple(sorted((n for n in names if _NAME.fullmatch(n)), key=_seq))


def _seq(name: str) -> int:
    return int(name.split("-", 2)[1])


def _load(path: Path) -> SigningKey:
    match = _NAME.fullmatch(path.name)
    assert match is not None
    try:
        key = ECKey.import_key(path.read_bytes())
    except (OSError, ValueError, JoseError) as e:
        raise KeyStoreError(
            f"cannot read signing key {path}: {type(e).__name__}"
        ) from None
    if key.curve_name != CURVE or not key.is_private:
        raise KeyStoreError(f"signing key {path} is not a private {CURVE} key")
    created = datetime.strptime(match[2], _STAMP).replace(tzinfo=UTC)
    return SigningKey(key.thumbprint(), int(match[1]), created, path, key)


def _create_unlocked(directory: Path, now: datetime) -> SigningKey:
    files = _key_files(directory)
    seq = _seq(files[-1]) + 1 if files else 1
    path = directory / f"key-{seq:04d}-{now.astimezone(UTC).strftime(_STAMP)}.pem"
    pem = ECKey.generate_key(CURVE, private=True).as_pem(private=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return _load(path)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the directory, so two workers never both create keys."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
