"""`hub audit verify|export|prune`, and bundles and pruning on both databases.

The CLI tests run on the `cli` fixture's SQLite file, as an operator would;
the bundle and prune functions they call are also run on every backend.
"""

import asyncio
import dataclasses
import json
import shutil
import sqlite3
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import Result

from auth.keys import create_key
from hub.audit.bundle import export_bundle, verify_bundle
from hub.audit.chain import read_head
from hub.audit.checkpoint import audit_jwks, public_keys
from hub.audit.prune import PruneRefused, prune
from hub.audit.verify import Problem
from hub.audit.writer import AuditWriter
from hub.config import Settings
from hub.db import create_engine
from hub.models import AuditEnterprise
from tests.audit_helpers import (
    CODE,
    audit_settings,
    external_checkpoints,
    make_record,
    verify_with,
)
from tests.conftest import NOW
from tests.helpers import hub

HOURS = 60  # one entry an hour from 2026-06-15 12:00 CST; checkpoints every 10
BUNDLE_DAY = "2026-06-16"  # CST: entries 12..35 (seq 13..36), widened to 10..40


async def write_hourly(engine: AsyncEngine, settings: Settings, n: int = HOURS) -> None:
    """Entry i at NOW + i hours; the writer's clock follows, so checkpoints do too."""
    moment = [NOW]
    settings = dataclasses.replace(audit_settings(settings), clock=lambda: moment[0])
    writer = AuditWriter(engine, settings)
    try:
        for i in range(n):
            moment[0] = NOW + timedelta(hours=i)
            await writer.append(make_record(i, at=moment[0], enterprises=(CODE,)))
    finally:
        await writer.aclose()


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]


@pytest.fixture
def logged(cli: Path) -> Path:
    """The `cli` database with 60 hourly entries and its checkpoint file."""

    async def run() -> None:
        settings = Settings.from_env()
        engine = create_engine(settings)
        try:
            await write_hourly(engine, settings)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return cli


def sql(cli: Path, *statements: str) -> None:
    with sqlite3.connect(cli / "hub.db") as conn:
        for statement in statements:
            conn.execute(statement)


class TestVerify:
    def test_clean_log(self, logged: Path) -> None:
        result = hub("audit", "verify")

        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "OK (database): 60 entries (seq 1..60), 6 signed checkpoints matching\n"
        )

    def test_names_the_first_problem(self, logged: Path) -> None:
        sql(logged, "UPDATE audit_entry SET agency_name = '别的银行' WHERE seq = 17")

        result = hub("audit", "verify")

        assert result.exit_code == 1
        assert result.stdout.startswith("FAILED (database): seq 17: HASH_MISMATCH")

    def test_cut_tail_shows_only_with_the_checkpoint_file(self, logged: Path) -> None:
        sql(
            logged,
            "DELETE FROM audit_enterprise WHERE seq > 35",
            "DELETE FROM audit_entry WHERE seq > 35",
            "UPDATE audit_head SET seq = 35, "
            "hash = (SELECT hash FROM audit_entry WHERE seq = 35)",
            "DELETE FROM audit_checkpoint WHERE seq > 35",
        )

        anchored = hub("audit", "verify")
        (logged / "var" / "audit-checkpoints.jsonl").rename(logged / "elsewhere.jsonl")
        bare = hub("audit", "verify")
        pointed = hub("audit", "verify", "--checkpoints", "elsewhere.jsonl")

        assert anchored.stdout.startswith("FAILED (database): seq 36: TAIL_TRUNCATED")
        assert bare.exit_code == 0
        assert "cannot be detected from the database alone" in bare.stderr
        assert pointed.stdout.startswith("FAILED (database): seq 36: TAIL_TRUNCATED")

    def test_errors_are_one_line(self, logged: Path) -> None:
        (logged / "not-keys.json").write_text("{}")

        assert_refused(hub("audit", "verify", "--bundle", "nope.tar"), "nope.tar")
        assert_refused(hub("audit", "verify", "--public-keys", "not-keys.json"), "keys")
        assert_refused(
            hub("audit", "verify", "--checkpoints", "missing.jsonl"), "missing.jsonl"
        )
        (logged / "hub.db").unlink()
        assert_refused(hub("audit", "verify"), "is it migrated?")


class TestCheckpoint:
    def test_signs_only_when_the_head_moved(self, logged: Path) -> None:
        sql(
            logged,
            "DELETE FROM audit_checkpoint WHERE seq = 60",
            "UPDATE audit_head SET checkpoint_seq = 50",
        )

        first = hub("audit", "checkpoint")
        second = hub("audit", "checkpoint")

        assert first.stdout.startswith("signed checkpoint at seq 60 (key ")
        assert second.stdout == "no new entries since the last checkpoint\n"


class TestExport:
    def test_bundle_verifies_offline(
        self, logged: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given
        exported = hub(
            "audit",
            "export",
            "--from",
            BUNDLE_DAY,
            "--to",
            BUNDLE_DAY,
            "--output",
            "out/june16.tar.gz",
        )
        keys = hub("audit", "public-keys", "--output", "audit-jwks.json")
        # when: no database and no key directory any more
        monkeypatch.setenv(
            "HUB_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/x"
        )
        shutil.rmtree(logged / "var")
        own = hub("audit", "verify", "--bundle", "out/june16.tar.gz")
        pinned = hub(
            "audit",
            "verify",
            "--bundle",
            "out/june16.tar.gz",
            "--public-keys",
            "audit-jwks.json",
        )
        # then
        assert exported.stdout == (
            "wrote out/june16.tar.gz: 31 entries (seq 10..40), 4 checkpoints\n"
        )
        assert keys.exit_code == 0, keys.output
        expected = (
            "OK (bundle out/june16.tar.gz): 31 entries (seq 10..40), "
            "4 signed checkpoints matching\n"
        )
        assert own.stdout == expected
        assert pinned.stdout == expected
        with tarfile.open(logged / "out" / "june16.tar.gz") as tar:
            assert tar.getnames() == [
                "manifest.json",
                "entries.jsonl",
                "checkpoints.jsonl",
                "jwks.json",
            ]

    def test_tampered_bundle_fails(self, logged: Path) -> None:
        hub(
            "audit",
            "export",
            "--from",
            BUNDLE_DAY,
            "--to",
            BUNDLE_DAY,
            "--output",
            "b.tar",
        )
        with tarfile.open(logged / "b.tar") as tar:
            tar.extractall(logged / "b", filter="data")
        entries = logged / "b" / "entries.jsonl"
        lines = entries.read_text(encoding="utf-8").splitlines(keepends=True)
        edited = lines.copy()
        edited[10] = edited[10].replace("江苏银行无锡分行", "别的银行")  # seq 20

        entries.write_text("".join(edited), encoding="utf-8")
        edit = hub("audit", "verify", "--bundle", "b")
        entries.write_text("".join(lines[:15] + lines[16:]), encoding="utf-8")  # seq 25
        removal = hub("audit", "verify", "--bundle", "b")
        entries.write_text("".join(lines[:22]), encoding="utf-8")  # cut after seq 31
        cut = hub("audit", "verify", "--bundle", "b")

        assert edit.stdout.startswith("FAILED (bundle b): seq 20: HASH_MISMATCH")
        assert removal.stdout.startswith("FAILED (bundle b): seq 25: GAP")
        assert cut.stdout.startswith("FAILED (bundle b): seq 32: TAIL_TRUNCATED")

    def test_keys_of_another_hub_fail(self, logged: Path) -> None:
        hub(
            "audit",
            "export",
            "--from",
            BUNDLE_DAY,
            "--to",
            BUNDLE_DAY,
            "--output",
            "b.tar",
        )
        stranger = create_key(logged / "stranger", NOW)
        (logged / "stranger.json").write_text(
            json.dumps({"keys": [stranger.public_jwk()]})
        )

        result = hub(
            "audit", "verify", "--bundle", "b.tar", "--public-keys", "stranger.json"
        )

        assert result.stdout.startswith(
            "FAILED (bundle b.tar): seq 10: CHECKPOINT_INVALID"
        )

    def test_empty_range_and_bad_dates(self, logged: Path) -> None:
        assert_refused(
            hub(
                "audit",
                "export",
                "--from",
                "2020-01-01",
                "--to",
                "2020-01-02",
                "--output",
                "x.tar",
            ),
            "no audit entries in that range",
        )
        assert_refused(
            hub(
                "audit",
                "export",
                "--from",
                "2026-13-01",
                "--to",
                "2026-06-16",
                "--output",
                "x.tar",
            ),
            "--from must be a date",
        )
        assert_refused(
            hub(
                "audit",
                "export",
                "--from",
                "2026-06-16",
                "--to",
                "2026-06-15",
                "--output",
                "x.tar",
            ),
            "--to is before --from",
        )


class TestPrune:
    def test_log_still_verifies(self, logged: Path) -> None:
        # when: entries before 2026-06-16 00:00 CST (2026-06-15 16:00Z) go; the
        # newest checkpoint signed before then is seq 10 (13:00Z)
        pruned = hub("audit", "prune", "--before", "2026-06-16")
        again = hub("audit", "prune", "--before", "2026-06-16")
        verified = hub("audit", "verify")
        exported = hub(
            "audit",
            "export",
            "--from",
            "2026-06-15",
            "--to",
            "2026-06-15",
            "--output",
            "b.tar",
        )
        bundle = hub("audit", "verify", "--bundle", "b.tar")
        # then
        assert pruned.stdout == (
            "pruned 9 entries; the log now starts at the checkpoint at seq 10\n"
        )
        assert again.stdout.startswith("nothing to prune")
        assert verified.stdout == (
            "OK (database): 51 entries (seq 10..60), 6 signed checkpoints matching\n"
        )
        assert exported.stdout.startswith("wrote b.tar: 11 entries (seq 10..20)")
        assert bundle.exit_code == 0, bundle.output
        with sqlite3.connect(logged / "hub.db") as conn:
            assert conn.execute("SELECT pruned_before FROM audit_head").fetchall() == [
                (10,)
            ]
            assert conn.execute("SELECT count(*) FROM audit_enterprise").fetchall() == [
                (51,)
            ]

    def test_retention_by_default(
        self, logged: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HUB_AUDIT_RETENTION_DAYS", "1")  # the entries are older

        result = hub("audit", "prune")

        assert result.stdout.startswith("pruned 59 entries")
        assert hub("audit", "verify").exit_code == 0

    def test_refuses_a_log_that_does_not_verify(self, logged: Path) -> None:
        sql(logged, "UPDATE audit_entry SET latency_ms = 0 WHERE seq = 3")

        result = hub("audit", "prune", "--before", "2026-06-20")

        assert_refused(
            result, "does not verify, so nothing was pruned: seq 3: HASH_MISMATCH"
        )
        with sqlite3.connect(logged / "hub.db") as conn:
            assert conn.execute("SELECT count(*) FROM audit_entry").fetchall() == [
                (60,)
            ]


@pytest.mark.anyio
class TestOnBothDatabases:
    async def test_bundle_round_trip(
        self, engine: AsyncEngine, settings: Settings, tmp_path: Path
    ) -> None:
        await write_hourly(engine, settings)
        since = datetime(2026, 6, 15, 16, tzinfo=UTC)
        output = tmp_path / "b.tar.gz"

        manifest = await export_bundle(
            engine,
            output,
            since=since,
            until=since + timedelta(days=1),
            jwks=audit_jwks(settings.audit_keys_dir),
        )
        _, report = verify_bundle(output)

        assert (manifest.first_seq, manifest.last_seq, manifest.entries) == (10, 40, 31)
        assert report.ok, report.finding
        assert (report.entries, report.checkpoints) == (31, 4)

    async def test_prune_then_verify(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        await write_hourly(engine, settings)
        filed = external_checkpoints(audit_settings(settings))

        pruned = await prune(
            engine,
            before=datetime(2026, 6, 16, 2, tzinfo=UTC),  # checkpoint 20 is 23:00Z
            keys=public_keys(settings.audit_keys_dir),
            checkpoints=filed,
        )

        assert pruned is not None
        assert (pruned.first_kept, pruned.deleted) == (20, 19)
        report = await verify_with(engine, audit_settings(settings))
        assert report.ok, report.finding
        assert (report.first_seq, report.entries) == (20, 41)
        async with engine.connect() as conn:
            head = await read_head(conn)
            index = await conn.scalar(select(func.count()).select_from(AuditEnterprise))
        assert head is not None
        assert head.pruned_before == 20
        assert index == 41

    async def test_prune_refuses_a_broken_log(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        await write_hourly(engine, settings)
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE audit_entry SET reason = 'x' WHERE seq = 5")
            )

        with pytest.raises(PruneRefused) as refused:
            await prune(
                engine,
                before=NOW + timedelta(days=9),
                keys=public_keys(settings.audit_keys_dir),
            )

        assert refused.value.finding.problem is Problem.HASH_MISMATCH
