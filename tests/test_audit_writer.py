"""The writer: commits before it answers, batches, fails whole, keeps one chain.

Real databases on both backends. Failures are the database's own: a
trigger that raises inside the batch's transaction, a database that is not
migrated, a server that does not answer.
"""

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit.canonical import GENESIS_HASH, document_hash, record_document
from hub.audit.chain import lock_head, read_head, stream_entries
from hub.audit.checkpoint import checkpoint_error, public_keys
from hub.audit.writer import AuditRecordInvalid, AuditUnavailable, AuditWriter
from hub.config import Settings
from hub.db import create_engine
from hub.models import AuditCheckpoint, AuditEnterprise, AuditEntry
from tests.audit_helpers import (
    CODE,
    audit_settings,
    external_checkpoints,
    make_record,
    verify_with,
    write_sequentially,
)
from tests.conftest import NOW

pytestmark = pytest.mark.anyio

OTHER_CODE = "91320211MA1XXXXXX1"
WRITERS, APPENDS = 3, 200
WAVE = 20  # appends per wave in the multi-process test


async def count(engine: AsyncEngine, model: type[object]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def head_seq(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        head = await read_head(conn)
    assert head is not None
    return head.seq


@pytest.fixture
async def writer(engine: AsyncEngine, settings: Settings) -> AsyncIterator[AuditWriter]:
    writer = AuditWriter(engine, audit_settings(settings))
    await writer.start()
    yield writer
    await writer.aclose()


@pytest.fixture
async def refusing(engine: AsyncEngine) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A trigger that refuses the entry of request 'poison'; call the result to repair."""
    postgres = engine.dialect.name == "postgresql"
    install = (
        [
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit store refuses'; END $$",
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_entry FOR EACH ROW "
            "WHEN (NEW.request_id = 'poison') EXECUTE FUNCTION refuse_poison()",
        ]
        if postgres
        else [
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_entry "
            "WHEN NEW.request_id = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'audit store refuses'); END"
        ]
    )
    remove = [
        "DROP TRIGGER IF EXISTS refuse_poison" + (" ON audit_entry" if postgres else "")
    ]
    if postgres:
        remove.append("DROP FUNCTION IF EXISTS refuse_poison()")

    async def repair() -> None:
        async with engine.begin() as conn:
            for statement in remove:
                await conn.execute(text(statement))

    async with engine.begin() as conn:
        for statement in install:
            await conn.execute(text(statement))
    yield repair
    await repair()


class TestAppend:
    async def test_returns_the_committed_seq(
        self, engine: AsyncEngine, writer: AuditWriter
    ) -> None:
        # when
        seq = await writer.append(make_record(1, enterprises=(CODE, OTHER_CODE, CODE)))
        # then: another connection sees it
        async with engine.connect() as conn:
            rows = [r async for chunk in stream_entries(conn, first=1) for r in chunk]
            codes = (await conn.scalars(select(AuditEnterprise.enterprise_code))).all()
        ((document, stored),) = rows
        assert seq == 1
        assert document["prev_hash"] == GENESIS_HASH
        assert document_hash(document) == stored
        assert document["enterprises"] == [CODE, OTHER_CODE, CODE]
        assert sorted(codes) == sorted([CODE, OTHER_CODE])  # one index row per code

    async def test_row_rebuilds_the_exact_document(
        self, engine: AsyncEngine, writer: AuditWriter
    ) -> None:
        record = make_record(
            1,
            client_id=None,
            agency_id=None,
            purpose=None,
            case_ref="（2026）锡环罚字第 12 号",
            variables={"filter": {"name": "太湖", "min": 0.1, "ids": [1, None]}},
            denied=("Enterprise.riskLevel",),
        )

        await writer.append(record)

        async with engine.connect() as conn:
            rows = [r async for chunk in stream_entries(conn, first=1) for r in chunk]
        expected = record_document(record) | {"seq": 1, "prev_hash": GENESIS_HASH}
        assert rows == [(expected, document_hash(expected))]

    async def test_same_record_twice_is_two_entries(
        self, engine: AsyncEngine, writer: AuditWriter
    ) -> None:
        record = make_record(1)

        seqs = [await writer.append(record), await writer.append(record)]

        async with engine.connect() as conn:
            rows = [r async for chunk in stream_entries(conn, first=1) for r in chunk]
        assert seqs == [1, 2]
        assert rows[1][0]["prev_hash"] == rows[0][1]
        assert rows[0][1] != rows[1][1]

    async def test_unstorable_record_is_refused_alone(
        self, engine: AsyncEngine, writer: AuditWriter
    ) -> None:
        results = await asyncio.gather(
            writer.append(make_record(1)),
            writer.append(make_record(2, request_id="r" * 65)),
            writer.append(make_record(3)),
            return_exceptions=True,
        )

        assert isinstance(results[1], AuditRecordInvalid)
        assert isinstance(results[1], AuditUnavailable)  # what the middleware catches
        assert sorted([results[0], results[2]]) == [1, 2]  # type: ignore[type-var]

    async def test_missing_head_is_recreated(
        self, engine: AsyncEngine, writer: AuditWriter
    ) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_head"))

        assert await writer.append(make_record(1)) == 1
        assert await head_seq(engine) == 1


class TestGroupCommit:
    async def test_concurrent_appends_share_transactions(
        self, engine: AsyncEngine, writer: AuditWriter, settings: Settings
    ) -> None:
        # when: 200 requests finish at once
        seqs = await asyncio.gather(
            *(writer.append(make_record(n)) for n in range(200))
        )
        # then: 200 committed entries from far fewer transactions
        stats = writer.stats
        assert sorted(seqs) == list(range(1, 201))
        assert stats.entries_written == 200
        assert stats.batches_written < 20
        assert stats.max_batch_size > 1
        assert writer.queue_depth == 0
        assert (await verify_with(engine, audit_settings(settings))).ok

    async def test_batch_size_is_capped(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        writer = AuditWriter(engine, audit_settings(settings, audit_batch_max=16))

        await asyncio.gather(*(writer.append(make_record(n)) for n in range(100)))
        await writer.aclose()

        assert writer.stats.max_batch_size == 16
        assert writer.stats.batches_written >= 7

    async def test_aclose_writes_what_is_queued(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        writer = AuditWriter(engine, audit_settings(settings))
        tasks = [asyncio.create_task(writer.append(make_record(n))) for n in range(20)]
        await asyncio.sleep(0)

        await writer.aclose()

        assert sorted(t.result() for t in tasks) == list(range(1, 21))
        with pytest.raises(AuditUnavailable):
            await writer.append(make_record(21))


class TestFailure:
    async def test_a_refused_batch_leaves_nothing(
        self,
        engine: AsyncEngine,
        writer: AuditWriter,
        settings: Settings,
        refusing: Callable[[], Awaitable[None]],
    ) -> None:
        # given: ten requests, one of which the database refuses mid-batch
        records = [
            make_record(n, request_id="poison" if n == 5 else f"req-{n}")
            for n in range(10)
        ]
        # when
        results = await asyncio.gather(
            *(writer.append(r) for r in records), return_exceptions=True
        )
        # then: all ten hear it, nothing of the batch is stored
        assert [type(r) for r in results] == [AuditUnavailable] * 10
        assert str(results[0]) == "The audit log cannot be written right now."
        assert writer.stats.batches_failed == 1
        assert await count(engine, AuditEntry) == 0
        assert await head_seq(engine) == 0
        # and after the repair the same writer goes on
        await refusing()
        assert await writer.append(make_record(11)) == 1
        assert (await verify_with(engine, audit_settings(settings))).ok

    async def test_an_append_that_waits_too_long_is_refused(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        # given: another transaction holds the chain's head, so the batch waits
        writer = AuditWriter(engine, audit_settings(settings, audit_append_timeout=0.3))
        await writer.start()
        async with engine.connect() as holder:
            await lock_head(holder)
            # when
            started = time.monotonic()
            with pytest.raises(AuditUnavailable):
                await writer.append(make_record(1))
            waited = time.monotonic() - started
            await holder.rollback()
        # then: refused after the timeout, not when the database gave up (5 s);
        # the entry still commits once the head is free (in doubt: refused,
        # yet written), and the writer goes on
        assert 0.3 <= waited < 3
        assert await writer.append(make_record(2)) == 2
        await writer.aclose()
        assert await count(engine, AuditEntry) == 2

    async def test_unmigrated_database(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        empty = create_engine(
            Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
        )
        writer = AuditWriter(empty, settings)

        with pytest.raises(AuditUnavailable):
            await writer.append(make_record(1))

        await writer.aclose()
        await empty.dispose()

    async def test_unreachable_server(self, settings: Settings) -> None:
        url = "postgresql+asyncpg://postgres@127.0.0.1:9/none"
        down = create_engine(Settings(database_url=url))
        writer = AuditWriter(down, settings)

        with pytest.raises(AuditUnavailable):
            await writer.append(make_record(1))

        await writer.aclose()
        await down.dispose()


class TestConcurrentWriters:
    """Several hub workers, each with its own engine and writer, on one database."""

    async def test_three_engines_keep_one_chain(
        self, engine: AsyncEngine, database_url: str, settings: Settings
    ) -> None:
        # given: three writers on three engines (their own pools and connections),
        # batches of at most 20 so that their transactions interleave
        configured = audit_settings(settings, audit_batch_max=20)
        engines = [
            create_engine(Settings(database_url=database_url)) for _ in range(WRITERS)
        ]
        writers = [AuditWriter(e, configured) for e in engines]

        async def requests(w: AuditWriter, k: int) -> list[int]:
            return await asyncio.gather(
                *(w.append(make_record(k * APPENDS + n)) for n in range(APPENDS))
            )

        # when
        try:
            results = await asyncio.gather(
                *(requests(w, k) for k, w in enumerate(writers))
            )
        finally:
            for w, e in zip(writers, engines, strict=True):
                await w.aclose()
                await e.dispose()
        # then: seq 1..600 without gaps or forks, and every hash links
        assert sorted(s for r in results for s in r) == list(
            range(1, WRITERS * APPENDS + 1)
        )
        if engine.dialect.name == "postgresql":
            # Waiters on the head's row lock queue; SQLite's busy handler does
            # not, so there one writer may win every batch (seen once in CI).
            assert interleaved(results)
        report = await verify_with(engine, configured)
        assert report.ok, report.finding
        assert (report.entries, report.last_seq) == (600, 600)
        async with engine.connect() as conn:
            distinct = await conn.scalar(
                select(func.count(func.distinct(AuditEntry.prev_hash)))
            )
        assert distinct == 600

    async def test_three_processes_keep_one_chain(
        self, engine: AsyncEngine, database_url: str, settings: Settings
    ) -> None:
        """As `hub serve --workers 3` runs: SQLite's file lock or PostgreSQL's row lock."""
        configured = audit_settings(settings)
        loop = asyncio.get_running_loop()
        start_at = time.time() + 5  # all three start appending at once
        context = multiprocessing.get_context("spawn")

        with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
            results = await asyncio.gather(
                *(
                    loop.run_in_executor(
                        pool,
                        append_in_process,
                        database_url,
                        configured.audit_keys_dir,
                        configured.audit_checkpoint_file,
                        k,
                        start_at,
                    )
                    for k in range(WRITERS)
                )
            )

        assert sorted(s for r in results for s in r) == list(
            range(1, WRITERS * APPENDS + 1)
        )
        if engine.dialect.name == "postgresql":
            # Waiters on the head's row lock queue; SQLite's busy handler does
            # not, so there one writer may win every batch (seen once in CI).
            assert interleaved(results)
        report = await verify_with(engine, configured)
        assert report.ok, report.finding
        assert report.entries == 600


def interleaved(results: list[list[int]]) -> bool:
    """True when some writer's seqs are not one block: their batches alternated."""
    return any(sorted(r) != list(range(min(r), min(r) + len(r))) for r in results)


def append_in_process(
    url: str, keys: Path, checkpoints: Path, k: int, start_at: float
) -> list[int]:
    """One worker process: its own engine and writer, APPENDS concurrent appends."""
    settings = Settings(
        database_url=url,
        audit_keys_dir=keys,
        audit_checkpoint_file=checkpoints,
        audit_checkpoint_every=10,
        audit_checkpoint_seconds=0,
        audit_batch_max=20,
    )

    async def run() -> list[int]:
        engine = create_engine(settings)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        writer = AuditWriter(engine, settings)
        seqs: list[int] = []
        try:
            # In waves with pauses, as requests arrive: SQLite's file lock is
            # not fair, and one process firing all at once could keep it.
            for wave in range(0, APPENDS, WAVE):
                seqs += await asyncio.gather(
                    *(
                        writer.append(make_record(k * APPENDS + n))
                        for n in range(wave, wave + WAVE)
                    )
                )
                await asyncio.sleep(0.05)
            return seqs
        finally:
            await writer.aclose()
            await engine.dispose()

    return asyncio.run(run())


class TestCheckpoints:
    async def test_every_n_entries(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        configured = audit_settings(settings)  # every 10 entries, never by time

        await write_sequentially(
            engine, configured, [make_record(n) for n in range(25)]
        )

        async with engine.connect() as conn:
            stored = (await conn.scalars(select(AuditCheckpoint.seq))).all()
            head = await read_head(conn)
        filed = external_checkpoints(configured)
        keys = public_keys(configured.audit_keys_dir)
        assert sorted(stored) == [10, 20]
        assert [cp.seq for cp in filed] == [10, 20]
        assert [checkpoint_error(cp, keys) for cp in filed] == [None, None]
        assert head is not None
        assert head.checkpoint_seq == 20

    async def test_by_time(self, engine: AsyncEngine, settings: Settings) -> None:
        now = [NOW]
        configured = audit_settings(
            settings, audit_checkpoint_every=0, audit_checkpoint_seconds=60
        )
        writer = AuditWriter(engine, configured, clock=lambda: now[0])

        await writer.append(make_record(1))  # the first ever: due at once
        now[0] += timedelta(seconds=30)
        await writer.append(make_record(2))
        now[0] += timedelta(seconds=31)
        await writer.append(make_record(3))
        await writer.aclose()

        filed = external_checkpoints(configured)
        assert [(cp.seq, cp.at) for cp in filed] == [
            (1, NOW),
            (3, NOW + timedelta(seconds=61)),
        ]

    async def test_unwritable_file_does_not_stop_the_log(
        self, engine: AsyncEngine, settings: Settings, tmp_path: Path
    ) -> None:
        (tmp_path / "a-directory").mkdir()
        configured = audit_settings(
            settings, audit_checkpoint_file=tmp_path / "a-directory"
        )

        seqs = await write_sequentially(
            engine, configured, [make_record(n) for n in range(12)]
        )

        assert seqs == list(range(1, 13))
        assert (
            await count(engine, AuditCheckpoint) == 1
        )  # stored; only the file copy failed

    async def test_on_demand_for_a_quiet_log(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        configured = audit_settings(settings)  # every 10: five entries get none
        await write_sequentially(engine, configured, [make_record(n) for n in range(5)])
        writer = AuditWriter(engine, configured)

        made = await writer.checkpoint()
        again = await writer.checkpoint()
        await writer.aclose()

        assert made is not None
        assert (made.seq, again) == (5, None)
        assert [cp.seq for cp in external_checkpoints(configured)] == [5]
        assert (await verify_with(engine, configured)).signed_through == 5
