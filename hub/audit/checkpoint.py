"""Signed checkpoints: the chain's head, signed with an audit key and kept twice.

A checkpoint states "entry `seq` has hash `hash`" at time `at`, signed as a
compact JWS (auth/signing.py) with an ES256 key from HUB_AUDIT_KEYS_DIR. It
is stored in audit_checkpoint and appended as one JSON line to
HUB_AUDIT_CHECKPOINT_FILE. The copy outside the database is what shows a cut
tail or a re-chained log: whoever can rewrite the database cannot sign.

Audit keys are never deleted: every checkpoint ever signed must stay
verifiable (auth/keys.py's rotation for token keys does not apply here).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from auth.jwks import KeySetError, PinnedKey, pin_public_keys
from auth.keys import SigningKey, load_keys
from auth.signing import StatementInvalid, sign_statement, verify_statement
from hub.audit.canonical import format_at, parse_at

CHECKPOINT_TYPE = "hub-audit-checkpoint+jws"
_KEYS = ("seq", "hash", "at", "kid", "signature")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime
    kid: str
    signature: str  # compact JWS over {"at", "hash", "seq"}

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": format_at(self.at),
            "kid": self.kid,
            "signature": self.signature,
        }

    def line(self) -> bytes:
        """One line of the checkpoint file (and of a bundle's checkpoints.jsonl)."""
        return orjson.dumps(self.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n"

    @classmethod
    def from_json(cls, data: object) -> "Checkpoint":
        """Parse a checkpoint line's object; ValueError when it is not one."""
        if not isinstance(data, dict) or set(data) != set(_KEYS):
            raise ValueError(f"a checkpoint has exactly the members {', '.join(_KEYS)}")
        seq, hash_, at, kid, signature = (data[k] for k in _KEYS)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq must be a positive integer")
        if not all(isinstance(v, str) for v in (hash_, at, kid, signature)):
            raise ValueError("hash, at, kid and signature must be strings")
        return cls(seq, hash_, parse_at(at), kid, signature)

    def __repr__(self) -> str:
        return f"Checkpoint({self.seq}, {self.hash[:12]}…)"


def sign_checkpoint(
    key: SigningKey, *, seq: int, hash: str, at: datetime
) -> Checkpoint:
    payload = {"seq": seq, "hash": hash, "at": format_at(at)}
    signature = sign_statement(key, payload, typ=CHECKPOINT_TYPE)
    return Checkpoint(seq, hash, at, key.kid, signature)


def checkpoint_error(
    checkpoint: Checkpoint, keys: Mapping[str, PinnedKey]
) -> str | None:
    """Why `checkpoint` cannot be trusted, or None when its signature covers it."""
    try:
        payload = verify_statement(checkpoint.signature, keys, typ=CHECKPOINT_TYPE)
    except StatementInvalid as e:
        return str(e)
    signed = {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": format_at(checkpoint.at),
    }
    if payload != signed:
        return "the signed seq, hash or time differ from the stored ones"
    return None


def public_keys(directory: Path) -> dict[str, PinnedKey]:
    """The verification keys of the audit keys in `directory` ({} when none)."""
    jwks = audit_jwks(directory)
    return pin_public_keys(jwks) if jwks["keys"] else {}


def audit_jwks(directory: Path) -> dict[str, Any]:
    """The public JWK Set (RFC 7517 §5) of every audit key, newest first."""
    return {"keys": [k.public_jwk() for k in reversed(load_keys(directory))]}


def read_jwks(path: Path) -> dict[str, PinnedKey]:
    """Pinned public keys from a JWKS file; ValueError with a one-line reason."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    except orjson.JSONDecodeError:
        raise ValueError(f"{path} is not JSON") from None
    try:
        return pin_public_keys(data)
    except KeySetError as e:
        raise ValueError(f"{path}: {e}") from None


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line, flushed and fsynced; a torn last line is closed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        os.write(fd, (b"\n" if torn else b"") + checkpoint.line())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints(lines: bytes) -> tuple[list[Checkpoint], list[str]]:
    """Checkpoints of a JSONL text, and a message per line that is not one.

    Blank lines are skipped; a last line without its newline (a write cut
    short by a crash) is ignored when it does not parse.
    """
    found: list[Checkpoint] = []
    errors: list[str] = []
    rows = lines.split(b"\n")
    for number, raw in enumerate(rows, 1):
        if not raw.strip():
            continue
        try:
            found.append(Checkpoint.from_json(orjson.loads(raw)))
        except (orjson.JSONDecodeError, ValueError) as e:
            if number == len(rows):  # no newline after it: torn by a crash
                continue
            errors.append(f"line {number}: {e}")
    return found, errors
