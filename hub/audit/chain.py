"""The chain in the database: the locked head, a batch's rows, entries read back.

Only hub/audit/ writes these tables. A writer's transaction starts by
locking the head row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN
IMMEDIATE takes the database's single write lock), so seq and prev_hash are
assigned under one lock across every worker process: no gaps, no forks.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Insert, Text, cast, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit.canonical import (
    GENESIS_HASH,
    JSON_FIELDS,
    RECORD_FIELDS,
    Document,
    format_at,
)
from hub.audit.checkpoint import Checkpoint
from hub.models import AuditCheckpoint, AuditEnterprise, AuditEntry, AuditHead, Base

ENTRY = Base.metadata.tables[AuditEntry.__tablename__]
ENTERPRISE = Base.metadata.tables[AuditEnterprise.__tablename__]
HEAD = Base.metadata.tables[AuditHead.__tablename__]
CHECKPOINT = Base.metadata.tables[AuditCheckpoint.__tablename__]
HEAD_ID = 1
GENESIS_ROW = {
    "id": HEAD_ID,
    "seq": 0,
    "hash": GENESIS_HASH,
    "pruned_before": 0,
    "checkpoint_seq": 0,
    "checkpoint_at": None,
}
# JSON columns are read as their stored text (a SQL cast, so asyncpg's json
# codec does not parse them first) and parsed with orjson: verifying a
# million entries spends most of its time here.
_NAMES = (*RECORD_FIELDS, "seq", "prev_hash")
_READ_COLUMNS = [
    cast(ENTRY.c[name], Text) if name in JSON_FIELDS else ENTRY.c[name]
    for name in (*_NAMES, "hash")
]
_AT = _NAMES.index("at")
_JSON = frozenset(_NAMES.index(name) for name in JSON_FIELDS)
_PLAIN = [(i, name) for i, name in enumerate(_NAMES) if i != _AT and i not in _JSON]
_PARSED = [(i, _NAMES[i]) for i in sorted(_JSON)]
_HASH = len(_NAMES)
_INSERT_INDEX_PG = text(
    "INSERT INTO audit_enterprise (enterprise_code, seq) "
    "SELECT * FROM unnest(CAST(:codes AS varchar[]), CAST(:seqs AS bigint[]))"
)


@dataclass(slots=True)
class Head:
    seq: int
    hash: str
    pruned_before: int
    checkpoint_seq: int
    checkpoint_at: datetime | None


def genesis_head() -> Insert:
    """The head row of an empty log (migration 0003 inserts the same)."""
    return insert(HEAD).values(GENESIS_ROW)


async def lock_head(conn: AsyncConnection) -> Head:
    """Start the write transaction holding the chain's lock; return the head.

    A missing head row (an emptied database) is recreated at genesis; if
    entries remain, the first insert then collides and the batch fails.
    """
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    head = await _select_head(conn, lock=True)
    if head is None:
        await conn.execute(_insert_genesis_if_missing(conn.dialect.name))
        head = await _select_head(conn, lock=True)
        assert head is not None
    return head


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only connection whose reads all see one consistent snapshot."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            )
            # Verifying or exporting millions of rows outlasts the app's 5 s limit.
            await conn.execute(text("SET LOCAL statement_timeout = 0"))
        else:
            await conn.exec_driver_sql("BEGIN")  # WAL: one read snapshot until rollback
        try:
            yield conn
        finally:
            await conn.rollback()


async def read_head(conn: AsyncConnection) -> Head | None:
    return await _select_head(conn, lock=False)


async def insert_batch(
    conn: AsyncConnection,
    entries: Sequence[dict[str, Any]],
    index: Sequence[tuple[str, int]],
    *,
    head: Head,
    checkpoint: Checkpoint | None,
) -> None:
    """Insert a batch's entries and index rows (code, seq) and move the head,
    in `conn`'s transaction."""
    if entries:
        await conn.execute(insert(ENTRY), list(entries))
    if index and conn.dialect.name == "postgresql":
        # Two arrays in one statement: a batch of 1,000 codes is 1,000 rows,
        # and executemany's parameter sets cost more than PostgreSQL's inserts.
        codes, seqs = zip(*index, strict=True)
        await conn.execute(_INSERT_INDEX_PG, {"codes": codes, "seqs": seqs})
    elif index:
        await conn.execute(
            insert(ENTERPRISE),
            [{"enterprise_code": code, "seq": seq} for code, seq in index],
        )
    values: dict[str, Any] = {"seq": head.seq, "hash": head.hash}
    if checkpoint is not None:
        await conn.execute(insert(CHECKPOINT), [checkpoint_row(checkpoint)])
        values.update(checkpoint_seq=checkpoint.seq, checkpoint_at=checkpoint.at)
    await conn.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(values))


def checkpoint_row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": checkpoint.at,
        "kid": checkpoint.kid,
        "signature": checkpoint.signature,
    }


async def list_checkpoints(
    conn: AsyncConnection, *, first: int = 0, last: int | None = None
) -> list[Checkpoint]:
    """The stored checkpoints with first <= seq <= last, oldest first."""
    stmt = select(CHECKPOINT).where(CHECKPOINT.c.seq >= first)
    if last is not None:
        stmt = stmt.where(CHECKPOINT.c.seq <= last)
    rows = (await conn.execute(stmt.order_by(CHECKPOINT.c.seq))).all()
    return [Checkpoint(r.seq, r.hash, r.at, r.kid, r.signature) for r in rows]


async def stream_entries(
    conn: AsyncConnection, *, first: int, last: int | None = None, chunk: int = 1000
) -> AsyncIterator[list[tuple[Document, str]]]:
    """(document, stored hash) of entries first <= seq <= last in seq order, in chunks.

    One ordered query through a server-side cursor, not keyset pages, so rows
    that share a seq (a dropped primary key) are seen, not skipped.
    """
    stmt = select(*_READ_COLUMNS).where(ENTRY.c.seq >= first)
    if last is not None:
        stmt = stmt.where(ENTRY.c.seq <= last)
    result = await conn.stream(
        stmt.order_by(ENTRY.c.seq).execution_options(yield_per=chunk)
    )
    async for rows in result.partitions():
        yield [row_document(row) for row in rows]


def row_document(row: Sequence[Any]) -> tuple[Document, str]:
    """Rebuild an entry's document from its columns (as _READ_COLUMNS orders them)."""
    values = tuple(row)  # plain tuple indexing is much cheaper than Row's
    document = {name: values[i] for i, name in _PLAIN}
    document["at"] = format_at(values[_AT])
    for i, name in _PARSED:
        document[name] = orjson.loads(values[i])
    return document, values[_HASH]


async def _select_head(conn: AsyncConnection, *, lock: bool) -> Head | None:
    stmt = select(
        HEAD.c.seq,
        HEAD.c.hash,
        HEAD.c.pruned_before,
        HEAD.c.checkpoint_seq,
        HEAD.c.checkpoint_at,
    ).where(HEAD.c.id == HEAD_ID)
    row = (await conn.execute(stmt.with_for_update() if lock else stmt)).first()
    return None if row is None else Head(*row)


def _insert_genesis_if_missing(dialect: str) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(HEAD).values(GENESIS_ROW).on_conflict_do_nothing()
    return sqlite.insert(HEAD).values(GENESIS_ROW).on_conflict_do_nothing()
