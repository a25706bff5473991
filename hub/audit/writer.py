"""Group commit: many requests' audit entries, one transaction per batch.

`append()` queues a record and returns its seq once the batch holding it is
committed. One background task per writer takes whatever is queued (up to
HUB_AUDIT_BATCH_MAX records, after waiting HUB_AUDIT_BATCH_WAIT_MS if the
batch is not full), and writes it in one transaction: lock the head, chain
the records, insert entries and index rows, move the head, sign a checkpoint
when one is due, commit. A failed transaction leaves nothing behind and every
waiter of that batch gets AuditUnavailable; the next batch tries again.

A commit that fails after the database applied it (the connection drops
during COMMIT) is in doubt: the waiter hears AuditUnavailable although the
entry exists. The log then holds an entry for a request that was refused,
never the reverse.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Integer, String
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from auth.keys import KeyStore, KeyStoreError
from hub.audit import batch_pg
from hub.audit.canonical import Document, canonical_bytes, chain_hash, record_document
from hub.audit.chain import ENTRY, Head, insert_batch, lock_head
from hub.audit.checkpoint import Checkpoint, append_checkpoint, sign_checkpoint
from hub.audit.record import AuditRecord
from hub.config import Settings
from hub.db import driver_connection
from hub.metrics import AUDIT_BATCH, AUDIT_BATCH_FAILURES, AUDIT_QUEUE

log = logging.getLogger("hub.audit")

UNAVAILABLE = "The audit log cannot be written right now."
_LIMITS = {c.name: c.type.length for c in ENTRY.c if isinstance(c.type, String)}
_INTEGERS = [c.name for c in ENTRY.c if type(c.type) is Integer]
_CODE_LENGTH = 18  # audit_enterprise.enterprise_code, a credit code


class AuditUnavailable(Exception):
    """The entry was not committed, so the request must not be answered.

    The message is safe to show to the caller.
    """

    def __init__(self, message: str = UNAVAILABLE) -> None:
        super().__init__(message)


class AuditRecordInvalid(AuditUnavailable):
    """The record cannot be stored as given (a caller's bug); it never joins a batch."""


@dataclass(slots=True)
class WriterStats:
    """Counters for metrics; queue depth is `AuditWriter.queue_depth`."""

    last_batch_size: int = 0
    max_batch_size: int = 0
    batches_written: int = 0
    entries_written: int = 0
    batches_failed: int = 0
    checkpoints_written: int = 0
    checkpoint_failures: int = 0


@dataclass(slots=True)
class _Pending:
    document: Document
    at: datetime
    enterprises: list[str]
    future: asyncio.Future[int] = field(repr=False)


class AuditWriter:
    """The app's one writer (per worker process); see the module docstring."""

    def __init__(
        self,
        db: AsyncEngine | async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = db if isinstance(db, AsyncEngine) else _engine_of(db)
        self.settings = settings
        self.clock = clock or settings.clock
        self.keys = KeyStore(
            settings.audit_keys_dir, refresh_seconds=60, clock=self.clock
        )
        self.stats = WriterStats()
        self._queue: deque[_Pending] = deque()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._unfiled: list[Checkpoint] = []

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def accepting(self) -> bool:
        """An append now would join a batch: not closed, the queue not full."""
        return not self._closing and len(self._queue) < self.settings.audit_queue_max

    async def start(self) -> None:
        """Load (or create) the checkpoint signing key; fails loudly at startup."""
        await asyncio.to_thread(self.keys.signing_key)

    async def append(self, record: AuditRecord) -> int:
        """Chain and commit `record`; its seq once durable, else AuditUnavailable."""
        if self._closing:
            raise AuditUnavailable()
        pending = _prepare(record, asyncio.get_running_loop().create_future())
        if len(self._queue) >= self.settings.audit_queue_max:
            log.error("audit queue full", extra={"depth": len(self._queue)})
            raise AuditUnavailable()
        self._queue.append(pending)
        AUDIT_QUEUE.set(len(self._queue))
        self._ensure_task()
        seconds = self.settings.audit_append_timeout
        if not seconds:
            return await pending.future
        # A timer that gives up on the future, rather than asyncio.timeout:
        # half the cost, paid by every request (about 1 % of a cached lookup).
        timer = asyncio.get_running_loop().call_later(seconds, _give_up, pending.future)
        try:
            return await pending.future
        except _TimedOut:
            # It may still commit: an in-doubt entry.
            log.error("audit append timed out", extra={"depth": len(self._queue)})
            raise AuditUnavailable() from None
        finally:
            timer.cancel()

    async def aclose(self) -> None:
        """Write what is queued, then stop; later appends are refused."""
        self._closing = True
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        await self._file_checkpoints()

    async def checkpoint(self) -> Checkpoint | None:
        """Sign the head now if it moved since the last checkpoint (`hub audit
        checkpoint`, e.g. from cron: a quiet log gets no batch to trigger one)."""
        async with self.engine.connect() as conn:
            head = await lock_head(conn)
            if head.seq <= head.checkpoint_seq:
                return None
            key = await asyncio.to_thread(self.keys.signing_key)
            checkpoint = sign_checkpoint(
                key, seq=head.seq, hash=head.hash, at=self.clock()
            )
            await insert_batch(conn, [], [], head=head, checkpoint=checkpoint)
            await conn.commit()
        self.stats.checkpoints_written += 1
        self._unfiled.append(checkpoint)
        await self._file_checkpoints()
        return checkpoint

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="audit-writer"
            )

    async def _run(self) -> None:
        """Write batches while anything is queued, then end (append starts another).

        No task outlives the work, so a writer that is never closed leaves
        nothing pending behind it.
        """
        try:
            while self._queue:
                wait = self.settings.audit_batch_wait_ms / 1000
                if wait and len(self._queue) < self.settings.audit_batch_max:
                    await asyncio.sleep(wait)
                size = min(len(self._queue), self.settings.audit_batch_max)
                batch = [self._queue.popleft() for _ in range(size)]
                AUDIT_QUEUE.set(len(self._queue))
                await self._write(batch)
                if self._unfiled:
                    await self._file_checkpoints()
        except BaseException:
            _fail(self._queue)
            self._queue.clear()
            AUDIT_QUEUE.set(0)
            raise

    async def _write(self, batch: list[_Pending]) -> None:
        checkpoint: Checkpoint | None = None
        try:
            # A pooled connection per batch: none is held while the log is idle.
            if self.engine.dialect.driver == "asyncpg":
                async with driver_connection(self.engine) as driver:
                    entries, checkpoint = await self._store(
                        driver, batch, batch_pg.lock_head, batch_pg.insert_batch
                    )
            else:
                async with self.engine.connect() as conn:
                    entries, checkpoint = await self._store(
                        conn, batch, lock_head, insert_batch
                    )
                    await conn.commit()
        except Exception as e:
            self.stats.batches_failed += 1
            AUDIT_BATCH_FAILURES.inc()
            # Not log.exception: SQLAlchemy's message carries the rows' values.
            log.error(
                "audit batch failed", extra={"size": len(batch), "error": _cause(e)}
            )
            _fail(batch)
            return
        except BaseException:
            _fail(batch)
            raise
        for pending, entry in zip(batch, entries, strict=True):
            if not pending.future.done():
                pending.future.set_result(entry["seq"])
        AUDIT_BATCH.observe(len(batch))
        self.stats.last_batch_size = len(batch)
        self.stats.max_batch_size = max(self.stats.max_batch_size, len(batch))
        self.stats.batches_written += 1
        self.stats.entries_written += len(batch)
        if checkpoint is not None:
            self.stats.checkpoints_written += 1
            self._unfiled.append(checkpoint)

    async def _store(
        self,
        conn: Any,
        batch: list[_Pending],
        lock: Callable[[Any], Awaitable[Head]],
        insert: Callable[..., Awaitable[None]],
    ) -> tuple[list[dict[str, Any]], Checkpoint | None]:
        """Lock the head, chain the batch and store it with `lock` and
        `insert` of hub/audit/chain.py or hub/audit/batch_pg.py."""
        head = await lock(conn)
        entries, index, new_head = _chain(head, batch)
        checkpoint = self._checkpoint_if_due(head, new_head)
        await insert(conn, entries, index, head=new_head, checkpoint=checkpoint)
        return entries, checkpoint

    def _checkpoint_if_due(self, head: Head, new: Head) -> Checkpoint | None:
        every = self.settings.audit_checkpoint_every
        seconds = self.settings.audit_checkpoint_seconds
        now = self.clock()
        since = head.checkpoint_at
        due = (every and new.seq - head.checkpoint_seq >= every) or (
            seconds and (since is None or (now - since).total_seconds() >= seconds)
        )
        if not due:
            return None
        try:
            key = self.keys.signing_key()
            return sign_checkpoint(key, seq=new.seq, hash=new.hash, at=now)
        except (KeyStoreError, OSError):
            # Entries stay writable; the next batch tries again.
            self.stats.checkpoint_failures += 1
            log.exception("audit checkpoint not signed")
            return None

    async def _file_checkpoints(self) -> None:
        """Copy committed checkpoints to the file outside the database."""
        path = self.settings.audit_checkpoint_file
        while self._unfiled:
            try:
                await asyncio.to_thread(append_checkpoint, path, self._unfiled[0])
            except OSError:
                self.stats.checkpoint_failures += 1
                log.exception("audit checkpoint not written to %s", path)
                return
            self._unfiled.pop(0)


def _prepare(record: AuditRecord, future: asyncio.Future[int]) -> _Pending:
    """Check and serialise a record in the caller's task, before it joins a batch."""
    try:
        document = record_document(record)
        canonical_bytes(document)
    except (ValueError, TypeError, orjson.JSONEncodeError) as e:
        raise AuditRecordInvalid(f"audit record not storable: {e}") from None
    for name, limit in _LIMITS.items():
        value = document.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise AuditRecordInvalid(f"audit record {name} longer than {limit}")
    for name in _INTEGERS:
        value = document[name]
        if value is not None and not -(2**31) <= value < 2**31:
            raise AuditRecordInvalid(f"audit record {name} out of range")
    codes = list(dict.fromkeys(document["enterprises"]))
    if any(len(code) > _CODE_LENGTH for code in codes):
        raise AuditRecordInvalid("audit record enterprise code too long")
    return _Pending(document, record.at, codes, future)


def _chain(
    head: Head, batch: list[_Pending]
) -> tuple[list[dict[str, Any]], list[tuple[str, int]], Head]:
    """Assign seq and prev_hash in order; the rows to insert and the new head."""
    entries: list[dict[str, Any]] = []
    index: list[tuple[str, int]] = []
    seq, prev = head.seq, head.hash
    for pending in batch:
        seq += 1
        document = pending.document
        document["seq"] = seq
        document["prev_hash"] = prev
        prev = chain_hash(prev, canonical_bytes(document))
        entries.append({**document, "at": pending.at, "hash": prev})
        index.extend((code, seq) for code in pending.enterprises)
    new = Head(seq, prev, head.pruned_before, head.checkpoint_seq, head.checkpoint_at)
    return entries, index, new


class _TimedOut(Exception):
    """The append waited HUB_AUDIT_APPEND_TIMEOUT (set by its timer)."""


def _give_up(future: "asyncio.Future[int]") -> None:
    if not future.done():
        future.set_exception(_TimedOut())


def _fail(batch: "deque[_Pending] | list[_Pending]") -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(AuditUnavailable())


def _cause(error: Exception) -> str:
    """The error's class and first line, without the statement or its parameters."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    first_line = str(cause).strip().splitlines()[0][:200] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first_line}"


def _engine_of(maker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = maker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the sessionmaker must be bound to an AsyncEngine")
    return bind
