"""`hub backup` and `hub restore`, as an operator runs them.

A database with demo data, audited requests and change events is backed up
and restored into an empty database; the restore verifies the audit chain
and the change feed, and `hub audit verify` agrees. On PostgreSQL (when
HUB_TEST_DATABASE_URL is set) the same runs in two databases of its own,
created and dropped here: never the shared test database itself.
"""

import asyncio
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.config import Settings
from hub.db import create_engine
from hub.migrate import upgrade
from seeds import builders as b
from tests.conftest import PG_URL
from tests.helpers import hub
from tests.test_audit_cli import write_hourly
from tests.test_import import csv_bytes, penalty_row

CODES = [b.credit_code(880_000 + i) for i in range(3)]
PASSWORD = "S3cret-never-shown"


def fill(workdir: Path) -> None:
    """Demo data, 60 audited requests (signed every 10), three imports'
    entries and three change events, in the configured database."""

    async def requests() -> None:
        settings = Settings.from_env()
        engine = create_engine(settings)
        try:
            await write_hourly(engine, settings)
        finally:
            await engine.dispose()

    assert hub("seed", "--enterprises", "20", "--seed", "7").exit_code == 0
    asyncio.run(requests())
    enterprises = workdir / "企业.csv"
    lines = ["统一社会信用代码,企业名称,所属区县,注册地址,行业代码,监管类别"]
    lines += [
        f"{c},无锡第{i}精细化工有限公司,锡山区,无锡市锡山区东港镇{i}号,C2614,市重点监控"
        for i, c in enumerate(CODES, 1)
    ]
    enterprises.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    penalties = workdir / "处罚.csv"
    penalties.write_bytes(
        csv_bytes([penalty_row(c, i) for i, c in enumerate(CODES, 1)], "gb18030")
    )
    for dataset, path in (("enterprises", enterprises), ("penalties", penalties)):
        done = hub("import", dataset, str(path))
        assert done.exit_code == 0, done.output


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", url)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql))


def last_operation(path: Path) -> tuple[object, ...]:
    (row,) = rows(
        path,
        "SELECT kind, operation_name, outcome FROM audit_entry "
        "ORDER BY seq DESC LIMIT 1",
    )
    return row


@pytest.fixture
def source(cli: Path) -> Path:
    """The `cli` database, filled."""
    fill(cli)
    return cli


class TestSqlite:
    def test_round_trip_into_an_empty_database(
        self, source: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given
        backed = hub("backup", "nightly.db")
        restored_db = source / "restored" / "hub.db"
        use_database(monkeypatch, sqlite_url(restored_db))
        # when
        restored = hub("restore", "nightly.db")
        verified = hub("audit", "verify")
        # then
        assert backed.exit_code == 0, backed.output
        assert backed.stdout.startswith("wrote nightly.db (")
        assert restored.exit_code == 0, restored.output
        lines = restored.stdout.splitlines()
        assert lines[0] == f"restored nightly.db into SQLite database {restored_db}"
        assert lines[1].startswith("audit: OK (database): 62 entries (seq 1..62), ")
        assert lines[2] == "change feed: OK: 3 events (seq 1..3), change_head 3"
        assert verified.exit_code == 0, verified.output
        assert verified.stdout.startswith("OK (database): 63 entries (seq 1..63)")
        assert last_operation(source / "hub.db") == ("ADMIN", "backup", "OK")
        assert last_operation(restored_db) == ("ADMIN", "restore", "OK")
        count = "SELECT count(*) FROM enterprise"
        assert rows(restored_db, count) == rows(source / "hub.db", count) == [(23,)]

    def test_entries_signed_after_the_backup_are_named_and_kept(
        self, source: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given: the live log moves on and is signed past the backup
        assert hub("backup", "nightly.db").exit_code == 0
        signed = hub("audit", "checkpoint")
        assert signed.stdout.startswith("signed checkpoint at seq 63"), signed.output
        use_database(monkeypatch, sqlite_url(source / "restored.db"))
        # when
        restored = hub("restore", "nightly.db")
        verified = hub("audit", "verify")
        # then
        assert restored.exit_code == 0, restored.output
        assert "entries 63..63 were written after the backup" in restored.stderr
        (aside,) = (source / "var").glob("audit-checkpoints.jsonl.before-restore-*")
        assert aside.read_bytes().count(b"\n") == 8  # 6 hourly, import, seq 63
        assert verified.exit_code == 0, verified.output

    def test_refuses_a_database_with_tables(self, source: Path) -> None:
        # given
        assert hub("backup", "nightly.db").exit_code == 0
        before = rows(source / "hub.db", "SELECT count(*) FROM audit_entry")
        # when
        refused = hub("restore", "nightly.db")
        # then
        assert refused.exit_code == 1
        assert refused.stderr.startswith(
            f"error: {source / 'hub.db'} already holds a database ("
        )
        assert refused.stderr.endswith(
            " tables): restore into an empty one, or pass --force to replace it\n"
        )
        assert rows(source / "hub.db", "SELECT count(*) FROM audit_entry") == before

    def test_force_replaces_it(self, source: Path) -> None:
        assert hub("backup", "nightly.db").exit_code == 0

        forced = hub("restore", "nightly.db", "--force")

        assert forced.exit_code == 0, forced.output
        assert last_operation(source / "hub.db") == ("ADMIN", "restore", "OK")
        assert hub("audit", "verify").exit_code == 0

    def test_refuses_what_is_not_a_backup(
        self, source: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given
        assert hub("backup", "nightly.db").exit_code == 0
        (source / "notes.txt").write_text("not a backup\n")
        with sqlite3.connect(source / "other.db") as conn:
            conn.execute("CREATE TABLE t (x)")
        (source / "cut.db").write_bytes((source / "nightly.db").read_bytes()[:20_000])
        use_database(monkeypatch, sqlite_url(source / "empty.db"))
        # when
        refusals = {
            name: hub("restore", name)
            for name in ("missing.db", "notes.txt", "other.db", "cut.db")
        }
        # then
        assert {n: r.exit_code for n, r in refusals.items()} == dict.fromkeys(
            refusals, 1
        )
        assert refusals["missing.db"].stderr == "error: missing.db: no such file\n"
        assert refusals["notes.txt"].stderr == (
            "error: notes.txt is not a hub backup (neither an SQLite database nor a "
            "pg_dump custom-format archive)\n"
        )
        assert refusals["other.db"].stderr == (
            "error: other.db is an SQLite database, not a hub backup\n"
        )
        assert refusals["cut.db"].stderr.startswith("error: cut.db is damaged (")
        assert not (source / "empty.db").exists()

    def test_a_sqlite_backup_is_not_restored_into_postgresql(
        self, source: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert hub("backup", "nightly.db").exit_code == 0
        use_database(
            monkeypatch, f"postgresql+asyncpg://hub:{PASSWORD}@127.0.0.1:1/hub"
        )

        refused = hub("restore", "nightly.db")

        assert refused.exit_code == 1
        assert refused.stderr == (
            "error: nightly.db is a sqlite backup, but HUB_DATABASE_URL names "
            "postgresql\n"
        )


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="no pg_dump")
def test_the_password_is_never_printed(
    cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a server that is not there (port 1), so nothing shared is touched
    use_database(monkeypatch, f"postgresql+asyncpg://hub:{PASSWORD}@127.0.0.1:1/hub")
    # when
    failed = hub("backup", "hub.dump")
    # then
    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: pg_dump failed (exit 1): ")
    assert PASSWORD not in failed.output
    assert not (cli / "hub.dump").exists()


@pytest.fixture
def pg_databases() -> Iterator[tuple[str, str]]:
    """Two fresh databases on the test server (source, target), dropped after."""
    assert PG_URL is not None
    suffix = secrets.token_hex(4)
    names = [f"test_backup_{suffix}", f"test_restore_{suffix}"]
    server = make_url(PG_URL).set(database="postgres")

    async def run(statement: str) -> None:
        engine = create_engine(Settings(database_url=server.render_as_string(False)))
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                # DROP DATABASE waits for a checkpoint, which can take longer
                # than the hub's 5 s statement_timeout while other tests write.
                await conn.execute(text("SET statement_timeout = 0"))
                for name in names:
                    await conn.execute(text(statement.format(name)))
        finally:
            await engine.dispose()

    asyncio.run(run('CREATE DATABASE "{}"'))
    try:
        base = make_url(PG_URL)
        yield (
            base.set(database=names[0]).render_as_string(False),
            base.set(database=names[1]).render_as_string(False),
        )
    finally:
        asyncio.run(run('DROP DATABASE IF EXISTS "{}" WITH (FORCE)'))


@pytest.mark.skipif(PG_URL is None, reason="set HUB_TEST_DATABASE_URL")
def test_postgresql_round_trip(
    cli: Path, pg_databases: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    source_url, target_url = pg_databases

    async def migrate() -> None:
        engine = create_engine(Settings(database_url=source_url))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    use_database(monkeypatch, source_url)
    asyncio.run(migrate())
    fill(cli)
    backed = hub("backup", "nightly.dump")
    use_database(monkeypatch, target_url)
    # when
    restored = hub("restore", "nightly.dump")
    verified = hub("audit", "verify")
    again = hub("restore", "nightly.dump")
    # then
    assert backed.exit_code == 0, backed.output
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.splitlines()[2] == (
        "change feed: OK: 3 events (seq 1..3), change_head 3"
    )
    assert verified.exit_code == 0, verified.output
    assert again.exit_code == 1
    assert "hub tables: restore into an empty database" in again.stderr
    password = make_url(target_url).password
    for result in (backed, restored, verified, again):
        assert not password or password not in result.output
