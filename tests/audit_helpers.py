"""Audit records, a writer run and the tamperings the audit tests share.

The tamperings are what someone with write access to the database (or the
raw file) can do: plain SQL, no key.
"""

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit.canonical import Document, document_hash, parse_at
from hub.audit.chain import ENTRY, HEAD, stream_entries
from hub.audit.checkpoint import Checkpoint, public_keys, read_checkpoints
from hub.audit.record import AuditRecord, EntryKind, Outcome
from hub.audit.verify import Report, verify_database
from hub.audit.writer import AuditWriter
from hub.config import Settings
from tests.conftest import NOW

CODE = "91320205MA1W7XXX0A"


def make_record(n: int, **fields: Any) -> AuditRecord:
    """The n-th request of a bank reading one enterprise (Chinese names included)."""
    values: dict[str, Any] = {
        "at": NOW + timedelta(seconds=n),
        "kind": EntryKind.GRAPHQL,
        "request_id": f"req-{n:08d}",
        "outcome": Outcome.OK,
        "latency_ms": 3 + n % 40,
        "client_address": "10.1.2.3",
        "client_id": "bank-1",
        "agency_id": 7,
        "agency_name": "江苏银行无锡分行",
        "agency_kind": "COMMERCIAL_BANK",
        "scopes": ("enterprises:read", "ratings:read"),
        "purpose": "CREDIT_APPROVAL",
        "case_ref": f"贷-{n}",
        "operation_name": "Lookup",
        "document_sha256": "ab" * 32,
        "variables": {"code": CODE, "n": n},
        "enterprises": (),
        "fields": ("Query.enterprise", "Enterprise.name"),
    }
    values.update(fields)
    return AuditRecord(**values)


def audit_settings(settings: Settings, **changes: Any) -> Settings:
    """Checkpoints every 10 entries and never by time, unless told otherwise."""
    defaults: dict[str, Any] = {
        "audit_checkpoint_every": 10,
        "audit_checkpoint_seconds": 0,
    }
    return dataclasses.replace(settings, **(defaults | changes))


async def write_sequentially(
    engine: AsyncEngine, settings: Settings, records: Sequence[AuditRecord]
) -> list[int]:
    """One append at a time: one batch each, so checkpoints land on round seqs."""
    writer = AuditWriter(engine, settings)
    await writer.start()
    try:
        return [await writer.append(r) for r in records]
    finally:
        await writer.aclose()


def external_checkpoints(settings: Settings) -> list[Checkpoint]:
    if not settings.audit_checkpoint_file.exists():
        return []
    found, errors = read_checkpoints(settings.audit_checkpoint_file.read_bytes())
    assert errors == []
    return found


async def verify_with(
    engine: AsyncEngine, settings: Settings, *, anchored: bool = True
) -> Report:
    """Verify the database; `anchored` adds the checkpoint file, else a bare chain
    (and no stored checkpoints either: an attacker deleted them)."""
    if not anchored:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_checkpoint"))
    return await verify_database(
        engine,
        keys=public_keys(settings.audit_keys_dir),
        checkpoints=external_checkpoints(settings) if anchored else [],
    )


async def set_head(conn: AsyncConnection, seq: int) -> None:
    """Point the head at entry `seq`, as a careful attacker would."""
    stored = (
        await conn.execute(text(f"SELECT hash FROM audit_entry WHERE seq = {seq}"))
    ).scalar_one()
    await conn.execute(update(HEAD).values(seq=seq, hash=stored))


async def shift(conn: AsyncConnection, *, from_seq: int, by: int) -> None:
    """Renumber entries from `from_seq` on (in two steps: seq is the primary key)."""
    await conn.execute(
        text(f"UPDATE audit_entry SET seq = -seq WHERE seq >= {from_seq}")
    )
    await conn.execute(text(f"UPDATE audit_entry SET seq = -seq + {by} WHERE seq < 0"))


async def rechain(conn: AsyncConnection, *, edit_seq: int, **changes: Any) -> None:
    """Edit entry `edit_seq`, then recompute every hash from there to the head."""
    rows = [
        r async for chunk in stream_entries(conn, first=edit_seq - 1) for r in chunk
    ]
    prev = rows[0][1] if edit_seq > 1 else "0" * 64
    for document, _ in rows[1:] if edit_seq > 1 else rows:
        if document["seq"] == edit_seq:
            document.update(changes)
        document["prev_hash"] = prev
        prev = document_hash(document)
        values = {k: document[k] for k in ("prev_hash", *changes)} | {"hash": prev}
        await conn.execute(
            update(ENTRY).where(ENTRY.c.seq == document["seq"]).values(values)
        )
    await conn.execute(update(HEAD).values(hash=prev))


async def insert_entry(conn: AsyncConnection, document: Document) -> None:
    """Insert a forged entry whose own hash is right (the function is public)."""
    row = document | {"at": parse_at(document["at"]), "hash": document_hash(document)}
    await conn.execute(insert(ENTRY).values(row))
