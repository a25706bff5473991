"""Retention: delete old entries, keeping the chain verifiable from a checkpoint.

Pruning before a date deletes the entries before the newest signed
checkpoint made before that date, never the checkpoint's own entry: the
verifier then starts there, trusting it because the checkpoint's signature
names its hash. The boundary is recorded first (audit_head.pruned_before),
then entries are deleted in chunks, so an interrupted prune resumes and the
log verifies at every step. A log that does not verify is never pruned:
that would destroy the evidence.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import PinnedKey
from hub.audit.chain import CHECKPOINT, ENTERPRISE, ENTRY, HEAD, HEAD_ID, lock_head
from hub.audit.checkpoint import Checkpoint
from hub.audit.verify import Finding, verify_database

CHUNK = 10_000


class PruneRefused(RuntimeError):
    """The log does not verify; `finding` is its first problem."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(
            f"the audit log does not verify, so nothing was pruned: {finding}"
        )
        self.finding = finding


@dataclass(frozen=True, slots=True)
class Pruned:
    first_kept: int  # seq of the checkpoint the log now starts at
    deleted: int


async def prune(
    engine: AsyncEngine,
    *,
    before: datetime,
    keys: Mapping[str, PinnedKey],
    checkpoints: Sequence[Checkpoint] = (),
) -> Pruned | None:
    """Prune entries older than `before`; None when no checkpoint allows any."""
    report = await verify_database(engine, keys=keys, checkpoints=checkpoints)
    if report.finding is not None:
        raise PruneRefused(report.finding)
    async with engine.connect() as conn:
        head = await lock_head(conn)
        start = max(1, head.pruned_before)
        anchor = await conn.scalar(
            select(func.max(CHECKPOINT.c.seq)).where(
                CHECKPOINT.c.at < before, CHECKPOINT.c.seq > start
            )
        )
        if anchor is None:
            return None
        await conn.execute(
            update(HEAD).where(HEAD.c.id == HEAD_ID).values(pruned_before=anchor)
        )
        await conn.commit()
    deleted = 0
    async with engine.connect() as conn:
        oldest = await conn.scalar(select(func.min(ENTRY.c.seq)))
        for low in range(oldest or anchor, anchor, CHUNK):
            high = min(low + CHUNK, anchor)
            await conn.execute(
                delete(ENTERPRISE).where(
                    ENTERPRISE.c.seq >= low, ENTERPRISE.c.seq < high
                )
            )
            result = await conn.execute(
                delete(ENTRY).where(ENTRY.c.seq >= low, ENTRY.c.seq < high)
            )
            await conn.commit()
            deleted += result.rowcount
    return Pruned(anchor, deleted)
