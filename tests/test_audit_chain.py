"""The chain: canonical bytes, hashes, and the verifier against every tampering.

In memory, each tampering class is tried at many random places; in the
database (both backends), each is done with plain SQL as an attacker with
write access would, and verify names the first bad seq. A bare chain (no
checkpoints) misses a cut tail and a re-chained log; the signed checkpoints
in the file outside the database catch both.
"""

import dataclasses
import hashlib
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import PinnedKey
from auth.keys import SigningKey, create_key
from hub.audit.canonical import (
    GENESIS_HASH,
    RECORD_FIELDS,
    Document,
    canonical_bytes,
    document_hash,
    record_document,
)
from hub.audit.checkpoint import Checkpoint, public_keys, sign_checkpoint
from hub.audit.record import AuditRecord, EntryKind, Outcome
from hub.audit.verify import Problem, Report, verify
from hub.config import Settings
from tests.audit_helpers import (
    audit_settings,
    insert_entry,
    make_record,
    rechain,
    set_head,
    shift,
    verify_with,
    write_sequentially,
)
from tests.conftest import NOW

pytestmark = pytest.mark.anyio

KNOWN_RECORD = AuditRecord(
    at=datetime(2026, 6, 15, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
    kind=EntryKind.GRAPHQL,
    request_id="req-1",
    outcome=Outcome.PARTIAL,
    latency_ms=12,
    agency_name="无锡市生态环境局",
    scopes=("enterprises:read",),
    variables={"名称": "太湖", "b": [1, 2.5, None], "a": {"z": True, "y": False}},
    enterprises=("91320205MA1W7XXX0A",),
    denied=("Enterprise.riskLevel",),
)
KNOWN_CANONICAL = (
    '{"agency_id":null,"agency_kind":null,"agency_name":"无锡市生态环境局",'
    '"at":"2026-06-15T04:00:00.000005Z","case_ref":null,"client_address":null,'
    '"client_id":null,"denied":["Enterprise.riskLevel"],"document_sha256":null,'
    '"enterprises":["91320205MA1W7XXX0A"],"fields":[],"kind":"GRAPHQL",'
    '"latency_ms":12,"operation_name":null,"outcome":"PARTIAL",'
    f'"prev_hash":"{GENESIS_HASH}","purpose":null,"reason":null,'
    '"request_id":"req-1","scopes":["enterprises:read"],"seq":1,'
    '"variables":{"a":{"y":false,"z":true},"b":[1,2.5,null],"名称":"太湖"}}'
)
KNOWN_HASH = "89fdb6353535ae7db79773a21414207a3c882947b09e0bd865bab705bdf589e9"


def chained(record: AuditRecord, seq: int, prev_hash: str) -> Document:
    return record_document(record) | {"seq": seq, "prev_hash": prev_hash}


class TestCanonical:
    def test_known_answer(self) -> None:
        document = chained(KNOWN_RECORD, 1, GENESIS_HASH)

        canonical = canonical_bytes(document)

        assert canonical.decode("utf-8") == KNOWN_CANONICAL
        assert "无锡".encode() in canonical  # UTF-8, not \\u escapes
        assert document_hash(document) == KNOWN_HASH
        expected = hashlib.sha256((GENESIS_HASH + KNOWN_CANONICAL).encode()).hexdigest()
        assert expected == KNOWN_HASH

    def test_every_record_field_is_hashed(self) -> None:
        assert set(record_document(KNOWN_RECORD)) == set(RECORD_FIELDS)
        assert set(RECORD_FIELDS) == {f.name for f in dataclasses.fields(AuditRecord)}

    def test_same_record_twice_hashes_differently(self) -> None:
        first = chained(KNOWN_RECORD, 1, GENESIS_HASH)
        second = chained(KNOWN_RECORD, 2, document_hash(first))

        assert document_hash(first) != document_hash(second)

    def test_hostile_values_become_storable_text(self) -> None:
        record = make_record(
            1,
            operation_name="a\x00b\ud800",
            variables={"big": 2**70, "nan": float("nan"), 3: "\x00"},
        )

        document = record_document(record)

        assert document["operation_name"] == "a\\x00b\\ud800"
        assert document["variables"] == {"big": str(2**70), "nan": "nan", "3": "\\x00"}
        canonical_bytes(document)  # serialisable

    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            record_document(make_record(1, at=datetime(2026, 6, 15)))


# -- in memory: many random tamperings per class --------------------------------

CHAIN_LENGTH = 100
CHECKPOINT_EVERY = 10
TRIALS = 200

Entries = list[tuple[Document, str]]


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return create_key(tmp_path_factory.mktemp("audit-keys"), NOW)


@pytest.fixture(scope="module")
def keys(signer: SigningKey) -> dict[str, PinnedKey]:
    return public_keys(signer.path.parent)


@pytest.fixture(scope="module")
def chain(signer: SigningKey) -> tuple[Entries, list[Checkpoint]]:
    entries: Entries = []
    checkpoints = []
    prev = GENESIS_HASH
    for seq in range(1, CHAIN_LENGTH + 1):
        document = chained(make_record(seq), seq, prev)
        prev = document_hash(document)
        entries.append((document, prev))
        if seq % CHECKPOINT_EVERY == 0:
            checkpoints.append(sign_checkpoint(signer, seq=seq, hash=prev, at=NOW))
    return entries, checkpoints


def copy(entries: Entries) -> Entries:
    return [(dict(d), h) for d, h in entries]


def renumber(entries: Entries, start: int, by: int) -> None:
    for document, _ in entries[start:]:
        document["seq"] += by


def found(report: Report) -> tuple[int | None, Problem] | None:
    return (
        None if report.finding is None else (report.finding.seq, report.finding.problem)
    )


class TestTamperingInMemory:
    """Each class at TRIALS random places: 100 % found, with the first bad seq."""

    def test_clean_chains_verify(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        entries, checkpoints = chain
        report = verify(entries, checkpoints, keys)
        assert found(report) is None
        assert (report.entries, report.checkpoints) == (CHAIN_LENGTH, 10)

    def test_edited_field(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(1)
        for _ in range(TRIALS):
            entries = copy(chain[0])
            i = rng.randrange(CHAIN_LENGTH)
            field = rng.choice(["agency_name", "latency_ms", "variables", "at"])
            value = entries[i][0][field]
            entries[i][0][field] = (
                value + 1
                if isinstance(value, int)
                else {"x": 1}
                if field == "variables"
                else value + "·"
            )
            assert found(verify(entries, chain[1], keys)) == (
                i + 1,
                Problem.HASH_MISMATCH,
            )

    def test_deleted_entry(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(2)
        for _ in range(TRIALS):
            entries = copy(chain[0])
            i = rng.randrange(CHAIN_LENGTH - 1)
            del entries[i]
            renumbered = rng.random() < 0.5
            if renumbered:
                renumber(entries, i, -1)
            expected = Problem.LINK_BROKEN if renumbered else Problem.GAP
            assert found(verify(entries, chain[1], keys)) == (i + 1, expected)

    def test_inserted_entry(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(3)
        for _ in range(TRIALS):
            entries = copy(chain[0])
            i = rng.randrange(1, CHAIN_LENGTH)  # the forged entry gets seq i + 1
            forged = chained(
                make_record(999, agency_name="伪造"), i + 1, entries[i - 1][1]
            )
            entries.insert(i, (forged, document_hash(forged)))
            renumbered = rng.random() < 0.5
            if renumbered:
                renumber(entries, i + 1, 1)
            problem = Problem.INSERTED if renumbered else Problem.DUPLICATE
            if (i + 1) % CHECKPOINT_EVERY == 0:  # a signed hash names the real one
                problem = Problem.CHECKPOINT_MISMATCH
            assert found(verify(entries, chain[1], keys)) == (i + 1, problem)

    def test_reordered_entries(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(4)
        for _ in range(TRIALS):
            entries = copy(chain[0])
            i = rng.randrange(CHAIN_LENGTH - 1)
            entries[i], entries[i + 1] = entries[i + 1], entries[i]
            if rng.random() < 0.5:  # swap their seqs too, as in the database
                a, b = entries[i][0], entries[i + 1][0]
                a["seq"], b["seq"] = b["seq"], a["seq"]
            assert found(verify(entries, chain[1], keys)) == (
                i + 1,
                Problem.OUT_OF_ORDER,
            )

    def test_cut_tail(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(5)
        for _ in range(TRIALS):
            kept = rng.randrange(1, CHAIN_LENGTH)  # the newest checkpoint is seq 100
            entries = chain[0][:kept]
            assert found(verify(entries, chain[1], keys)) == (
                kept + 1,
                Problem.TAIL_TRUNCATED,
            )
            assert found(verify(entries, [], keys)) is None  # a bare chain misses it

    def test_rechained_without_the_key(
        self, chain: tuple[Entries, list[Checkpoint]], keys: dict[str, PinnedKey]
    ) -> None:
        rng = random.Random(6)
        for _ in range(TRIALS):
            entries = copy(chain[0])
            i = rng.randrange(CHAIN_LENGTH)
            entries[i][0]["agency_name"] = "篡改"
            prev = entries[i - 1][1] if i else GENESIS_HASH
            for j in range(i, CHAIN_LENGTH):
                entries[j][0]["prev_hash"] = prev
                prev = document_hash(entries[j][0])
                entries[j] = (entries[j][0], prev)
            first_checkpoint = (i // CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY
            assert found(verify(entries, chain[1], keys)) == (
                first_checkpoint,
                Problem.CHECKPOINT_MISMATCH,
            )
            assert found(verify(entries, [], keys)) is None  # a bare chain misses it

    def test_forged_checkpoint(
        self,
        chain: tuple[Entries, list[Checkpoint]],
        keys: dict[str, PinnedKey],
        tmp_path: Path,
    ) -> None:
        entries, checkpoints = chain
        altered = dataclasses.replace(checkpoints[3], hash=entries[5][1])
        stranger = create_key(tmp_path / "not-the-hub", NOW)
        foreign = sign_checkpoint(stranger, seq=50, hash=entries[49][1], at=NOW)

        assert found(verify(entries, [altered], keys)) == (
            40,
            Problem.CHECKPOINT_INVALID,
        )
        assert found(verify(entries, [foreign], keys)) == (
            50,
            Problem.CHECKPOINT_INVALID,
        )


# -- in the database: each tampering with SQL, on both backends -------------------

ENTRIES = 50


@pytest.fixture
async def logged(engine: AsyncEngine, settings: Settings) -> Settings:
    """50 entries written through the writer; checkpoints at 10, 20, ..., 50."""
    settings = audit_settings(settings)
    await write_sequentially(engine, settings, [make_record(n) for n in range(ENTRIES)])
    return settings


class TestTamperingInTheDatabase:
    async def test_clean_log_verifies(
        self, engine: AsyncEngine, logged: Settings
    ) -> None:
        report = await verify_with(engine, logged)

        assert found(report) is None
        assert (report.entries, report.first_seq, report.last_seq) == (50, 1, 50)
        assert (report.checkpoints, report.signed_through) == (5, 50)

    async def test_edited_field(self, engine: AsyncEngine, logged: Settings) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE audit_entry SET agency_name = '别的银行' WHERE seq = 17")
            )

        assert found(await verify_with(engine, logged)) == (17, Problem.HASH_MISMATCH)

    async def test_deleted_row(self, engine: AsyncEngine, logged: Settings) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_entry WHERE seq = 23"))

        assert found(await verify_with(engine, logged)) == (23, Problem.GAP)

    async def test_swapped_rows(self, engine: AsyncEngine, logged: Settings) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE audit_entry SET seq = -30 WHERE seq = 30"))
            await conn.execute(text("UPDATE audit_entry SET seq = 30 WHERE seq = 31"))
            await conn.execute(text("UPDATE audit_entry SET seq = 31 WHERE seq = -30"))

        assert found(await verify_with(engine, logged)) == (30, Problem.OUT_OF_ORDER)

    async def test_inserted_row(self, engine: AsyncEngine, logged: Settings) -> None:
        async with engine.begin() as conn:
            prev = (
                await conn.execute(text("SELECT hash FROM audit_entry WHERE seq = 11"))
            ).scalar_one()
            await shift(conn, from_seq=12, by=1)
            forged = chained(make_record(12, agency_name="伪造"), 12, prev)
            await insert_entry(conn, forged)
            await set_head(conn, ENTRIES + 1)

        assert found(await verify_with(engine, logged)) == (12, Problem.INSERTED)

    async def test_cut_tail(self, engine: AsyncEngine, logged: Settings) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_entry WHERE seq > 35"))
            await set_head(conn, 35)

        anchored = await verify_with(engine, logged)
        bare = await verify_with(engine, logged, anchored=False)

        assert found(anchored) == (36, Problem.TAIL_TRUNCATED)
        assert found(bare) is None

    async def test_naive_cut_is_seen_by_the_head(
        self, engine: AsyncEngine, logged: Settings
    ) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_entry WHERE seq > 45"))

        assert found(await verify_with(engine, logged, anchored=False)) == (
            46,
            Problem.TAIL_TRUNCATED,
        )

    async def test_rechained_without_the_key(
        self, engine: AsyncEngine, logged: Settings
    ) -> None:
        async with engine.begin() as conn:
            await rechain(conn, edit_seq=17, agency_name="篡改")

        anchored = await verify_with(engine, logged)
        bare = await verify_with(engine, logged, anchored=False)

        assert found(anchored) == (20, Problem.CHECKPOINT_MISMATCH)
        assert anchored.finding is not None
        assert "after seq 10" in anchored.finding.detail
        assert found(bare) is None

    async def test_stored_checkpoint_altered(
        self, engine: AsyncEngine, logged: Settings
    ) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE audit_checkpoint SET hash = :h WHERE seq = 30"),
                {"h": "f" * 64},
            )

        assert found(await verify_with(engine, logged)) == (
            30,
            Problem.CHECKPOINT_INVALID,
        )
