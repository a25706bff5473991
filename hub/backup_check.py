"""What `hub restore` checks afterwards: the audit chain and the change feed.

The chain is verified as `hub audit verify` does, against the stored and the
external checkpoints. A backup is older than the external checkpoint file:
checkpoints past the backup's last entry sign entries written after it was
taken, which the restore has lost. They are reported, not held against the
backup, and the file is set aside (kept: it proves what was lost) so that
the restored chain, which continues from the backup's head, gets a file of
its own.
"""

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.keys import KeyStoreError
from hub.audit.chain import read_head, snapshot
from hub.audit.checkpoint import Checkpoint, public_keys, read_checkpoints
from hub.audit.verify import Finding, Problem, Report, verify_database
from hub.backup import BackupError
from hub.config import Settings
from resolvers.feed_check import FeedCheck, check_feed


@dataclass(frozen=True, slots=True)
class RestoreCheck:
    audit: Report
    feed: FeedCheck
    kept: list[Checkpoint] = field(default_factory=list)  # external, within the backup
    lost: list[Checkpoint] = field(default_factory=list)  # external, past its end

    @property
    def ok(self) -> bool:
        return self.audit.ok and self.feed.ok


async def check_restored(engine: AsyncEngine, settings: Settings) -> RestoreCheck:
    """Verify the restored database's audit chain and change feed."""
    path = settings.audit_checkpoint_file
    external: list[Checkpoint] = []
    errors: list[Finding] = []
    if path.exists():
        try:
            external, bad = read_checkpoints(path.read_bytes())
        except OSError as e:
            raise BackupError(f"cannot read {path}: {e.strerror}") from None
        errors = [Finding(None, Problem.CHECKPOINT_INVALID, f"{path} {e}") for e in bad]
    try:
        keys = public_keys(settings.audit_keys_dir)
    except (KeyStoreError, ValueError) as e:
        raise BackupError(str(e)) from None
    async with snapshot(engine) as conn:
        head = await read_head(conn)
        feed = await check_feed(conn)
    end = head.seq if head is not None else 0
    kept = [cp for cp in external if cp.seq <= end]
    lost = [cp for cp in external if cp.seq > end]
    report = await verify_database(engine, keys=keys, checkpoints=kept, errors=errors)
    return RestoreCheck(report, feed, kept, lost)


def set_aside_checkpoints(path: Path, kept: list[Checkpoint], now: datetime) -> Path:
    """Move the checkpoint file aside; start a new one with the `kept` lines."""
    aside = path.with_name(f"{path.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as file:
        for cp in sorted(kept, key=lambda cp: cp.seq):
            file.write(cp.line())
        file.flush()
        os.fsync(file.fileno())
    os.replace(path, aside)
    os.replace(partial, path)
    return aside
