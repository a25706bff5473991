"""A batch of the chain on PostgreSQL: four round trips on asyncpg directly.

The same rows, in the same transaction and under the same lock as
hub/audit/chain.py's lock_head and insert_batch, which SQLite (and
`AuditWriter.checkpoint`) still use. Through SQLAlchemy a batch was six round
trips (BEGIN, the lock, the entries, the index, the head, COMMIT) and, per
entry, the processing of 23 bound parameters: for a single lookup the audit
writer cost more of the hub's CPU than the lookup's own statement. Here it is
BEGIN, the lock, one statement that inserts the entries and the index rows
and moves the head (data-modifying CTEs, one snapshot, all or nothing), and
COMMIT; each column of the batch goes as one array.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects import postgresql

from hub.audit.canonical import JSON_FIELDS
from hub.audit.chain import CHECKPOINT, ENTRY, GENESIS_ROW, HEAD, HEAD_ID, Head
from hub.audit.checkpoint import Checkpoint
from hub.db import json_text

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _type(column: Column[Any]) -> str:
    return str(column.type.compile(dialect=_DIALECT))


def _names(columns: Sequence[Column[Any]]) -> str:
    return ", ".join(f'"{c.name}"' for c in columns)


_HEAD_COLUMNS = ("seq", "hash", "pruned_before", "checkpoint_seq", "checkpoint_at")
LOCK_HEAD = f"SELECT {', '.join(_HEAD_COLUMNS)} FROM {HEAD.name} WHERE id = {HEAD_ID} FOR UPDATE"
INSERT_GENESIS = (
    f"INSERT INTO {HEAD.name} ({', '.join(GENESIS_ROW)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(GENESIS_ROW) + 1))}) "
    "ON CONFLICT (id) DO NOTHING"
)

_ENTRY_COLUMNS = list(ENTRY.c)
_JSON = frozenset(JSON_FIELDS)
_N = len(_ENTRY_COLUMNS)
# JSON columns travel as text arrays and are cast per row: the text is what
# SQLAlchemy's JSON type would have stored (the engine's serializer).
_ARRAYS = ", ".join(
    f"${i}::{'TEXT' if c.name in _JSON else _type(c)}[]"
    for i, c in enumerate(_ENTRY_COLUMNS, 1)
)
_SELECTED = ", ".join(
    f'u."{c.name}"::JSON' if c.name in _JSON else f'u."{c.name}"'
    for c in _ENTRY_COLUMNS
)
INSERT_BATCH = f"""
WITH entries AS (
  INSERT INTO {ENTRY.name} ({_names(_ENTRY_COLUMNS)})
  SELECT {_SELECTED} FROM unnest({_ARRAYS}) AS u({_names(_ENTRY_COLUMNS)})
), codes AS (
  INSERT INTO audit_enterprise (enterprise_code, seq)
  SELECT * FROM unnest(${_N + 1}::VARCHAR[], ${_N + 2}::BIGINT[])
)
UPDATE {HEAD.name} SET seq = ${_N + 3}, hash = ${_N + 4},
  checkpoint_seq = coalesce(${_N + 5}::BIGINT, checkpoint_seq),
  checkpoint_at = coalesce(${_N + 6}::TIMESTAMPTZ, checkpoint_at)
WHERE id = {HEAD_ID}
"""
INSERT_CHECKPOINT = (
    f"INSERT INTO {CHECKPOINT.name} (seq, hash, at, kid, signature) "
    "VALUES ($1, $2, $3, $4, $5)"
)


async def lock_head(driver: Any) -> Head:
    """Begin the batch's transaction, lock the head row and return it
    (recreated at genesis when missing, as chain.lock_head does)."""
    await driver.execute("BEGIN")
    row = await driver.fetchrow(LOCK_HEAD)
    if row is None:
        await driver.execute(INSERT_GENESIS, *GENESIS_ROW.values())
        row = await driver.fetchrow(LOCK_HEAD)
        assert row is not None
    return Head(*row)


async def insert_batch(
    driver: Any,
    entries: Sequence[dict[str, Any]],
    index: Sequence[tuple[str, int]],
    *,
    head: Head,
    checkpoint: Checkpoint | None,
) -> None:
    """The batch's entries and index rows (code, seq), the checkpoint if one
    is due, and the head moved to `head`; then commit. A failure on the way
    leaves the transaction open, and hub.db.driver_connection then gives the
    connection up: the server rolls it back."""
    columns = [
        [json_text(e[c.name]) for e in entries]
        if c.name in _JSON
        else [e[c.name] for e in entries]
        for c in _ENTRY_COLUMNS
    ]
    codes = [code for code, _ in index]
    seqs = [seq for _, seq in index]
    if checkpoint is not None:
        await driver.execute(
            INSERT_CHECKPOINT,
            checkpoint.seq,
            checkpoint.hash,
            checkpoint.at,
            checkpoint.kid,
            checkpoint.signature,
        )
    await driver.execute(
        INSERT_BATCH,
        *columns,
        codes,
        seqs,
        head.seq,
        head.hash,
        checkpoint.seq if checkpoint else None,
        checkpoint.at if checkpoint else None,
    )
    await driver.execute("COMMIT")
