"""Export bundles: a range of the log that a third party verifies offline.

A bundle is a tar file (gzip-compressed when its name ends in .gz or .tgz),
or a directory holding the same four files:

- `manifest.json`: format, the requested range, first_seq, last_seq, counts;
- `entries.jsonl`: one entry per line, its document plus `hash`, keys sorted
  (the canonical JSON of hub/audit/canonical.py with `hash` added);
- `checkpoints.jsonl`: the signed checkpoints from first_seq to last_seq, as
  lines of the checkpoint file;
- `jwks.json`: the public JWK Set of the audit keys.

The entries run from the newest checkpoint at or before the range (or seq 1)
to the first checkpoint at or after it (or the range's last entry), so both
ends are anchored by a signature whenever one exists. `hub audit verify
--bundle` checks it with no database; `--public-keys` pins keys obtained
from the bureau rather than trusting the bundle's own jwks.json.
"""

import os
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import KeySetError, PinnedKey, pin_public_keys
from hub.audit.canonical import DOCUMENT_KEYS, Document, canonical_bytes, format_at
from hub.audit.chain import (
    CHECKPOINT,
    ENTRY,
    list_checkpoints,
    read_head,
    snapshot,
    stream_entries,
)
from hub.audit.checkpoint import Checkpoint, read_checkpoints
from hub.audit.verify import ChainVerifier, Finding, Problem, Report

BUNDLE_FORMAT = "hub-audit-bundle/1"
FILES = ("manifest.json", "entries.jsonl", "checkpoints.jsonl", "jwks.json")


class BundleError(ValueError):
    """A bundle that cannot be written or read; the message says why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    since: str
    until: str
    first_seq: int
    last_seq: int
    entries: int
    checkpoints: int

    def to_json(self) -> dict[str, Any]:
        return {"format": BUNDLE_FORMAT} | {
            name: getattr(self, name) for name in self.__slots__
        }


async def export_bundle(
    engine: AsyncEngine,
    output: Path,
    *,
    since: datetime,
    until: datetime,
    jwks: Mapping[str, Any],
) -> Manifest:
    """Write entries with since <= at < until (widened to checkpoints) to `output`."""
    async with snapshot(engine) as conn:
        head = await read_head(conn)
        floor = max(1, head.pruned_before) if head is not None else 1
        in_range = select(func.min(ENTRY.c.seq), func.max(ENTRY.c.seq)).where(
            ENTRY.c.at >= since, ENTRY.c.at < until, ENTRY.c.seq >= floor
        )
        low, high = (await conn.execute(in_range)).one()
        if low is None:
            raise BundleError("no audit entries in that range")
        before = select(func.max(CHECKPOINT.c.seq)).where(
            CHECKPOINT.c.seq <= low, CHECKPOINT.c.seq >= floor
        )
        after = select(func.min(CHECKPOINT.c.seq)).where(CHECKPOINT.c.seq >= high)
        first = await conn.scalar(before) or floor
        last = await conn.scalar(after) or high
        checkpoints = await list_checkpoints(conn, first=first, last=last)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            count = 0
            with (work / "entries.jsonl").open("wb") as f:
                async for rows in stream_entries(conn, first=first, last=last):
                    f.writelines(_entry_line(d, h) for d, h in rows)
                    count += len(rows)
            manifest = Manifest(
                format_at(since), format_at(until), first, last, count, len(checkpoints)
            )
            (work / "checkpoints.jsonl").write_bytes(
                b"".join(cp.line() for cp in checkpoints)
            )
            (work / "manifest.json").write_bytes(_json(manifest.to_json()))
            (work / "jwks.json").write_bytes(_json(dict(jwks)))
            _write_tar(work, output)
    return manifest


def verify_bundle(
    path: Path,
    *,
    keys: Mapping[str, PinnedKey] | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    errors: Sequence[Finding] = (),
) -> tuple[Manifest, Report]:
    """Verify a bundle offline; `keys` pins the audit keys (else its jwks.json).

    `checkpoints` and `errors` come from an external checkpoint file, if any.
    """
    with _BundleFiles(path) as files:
        manifest = _manifest(files["manifest.json"].read())
        if keys is None:
            try:
                keys = pin_public_keys(orjson.loads(files["jwks.json"].read()))
            except (orjson.JSONDecodeError, KeySetError) as e:
                raise BundleError(f"jwks.json: {e}") from None
        found, found_errors = read_checkpoints(files["checkpoints.jsonl"].read())
        verifier = ChainVerifier(
            [*found, *checkpoints],
            keys,
            start=manifest.first_seq,
            end=manifest.last_seq,
            errors=[
                *errors,
                *(Finding(None, Problem.CHECKPOINT_INVALID, e) for e in found_errors),
            ],
        )
        for number, line in enumerate(files["entries.jsonl"], 1):
            entry = _parse_entry(line)
            if entry is None:
                verifier.add(
                    Finding(None, Problem.MALFORMED, f"entries.jsonl line {number}")
                )
                break
            if not verifier.feed([entry]):
                break
        return manifest, verifier.finish(last=manifest.last_seq)


def _entry_line(document: Document, hash_: str) -> bytes:
    return canonical_bytes({**document, "hash": hash_}) + b"\n"


def _parse_entry(line: bytes) -> tuple[Document, str] | None:
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    stored = document.pop("hash", None)
    if (
        set(document) != DOCUMENT_KEYS
        or not isinstance(stored, str)
        or not isinstance(document["prev_hash"], str)
        or type(document["seq"]) is not int
    ):
        return None
    return document, stored


def _manifest(raw: bytes) -> Manifest:
    try:
        data = orjson.loads(raw)
        if data.pop("format") != BUNDLE_FORMAT:
            raise BundleError(f"not a {BUNDLE_FORMAT} bundle")
        manifest = Manifest(**data)
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        raise BundleError("manifest.json is not a bundle manifest") from None
    if not all(isinstance(v, int) for v in (manifest.first_seq, manifest.last_seq)):
        raise BundleError("manifest.json: first_seq and last_seq must be integers")
    return manifest


def _json(data: Mapping[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def _write_tar(work: Path, output: Path) -> None:
    """Write the tar beside `output` and rename it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=".bundle-")
    os.close(fd)
    try:
        gzip = output.name.endswith((".gz", ".tgz"))
        with tarfile.open(temporary, "w:gz" if gzip else "w") as tar:
            for name in FILES:
                tar.add(work / name, arcname=name)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _BundleFiles:
    """The four files of a bundle (tar or directory), opened for reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.files: dict[str, IO[bytes]] = {}

    def __enter__(self) -> dict[str, IO[bytes]]:
        try:
            if self.path.is_dir():
                for name in FILES:
                    self.files[name] = (self.path / name).open("rb")
            else:
                self.tar = tarfile.open(self.path, "r:*")
                for name in FILES:
                    self.files[name] = self._member(name)
        except (OSError, tarfile.TarError, KeyError) as e:
            self.__exit__()
            raise BundleError(f"cannot read bundle {self.path}: {_reason(e)}") from None
        return self.files

    def _member(self, name: str) -> IO[bytes]:
        assert self.tar is not None
        member = self.tar.getmember(name)
        extracted = self.tar.extractfile(member) if member.isfile() else None
        if extracted is None:
            raise KeyError(name)
        return extracted

    def __exit__(self, *_: object) -> None:
        for f in self.files.values():
            f.close()
        if self.tar is not None:
            self.tar.close()


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"{error.args[0]} is missing"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
