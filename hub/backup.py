"""Backup and restore: SQLite's online backup API, or pg_dump and pg_restore.

A backup file is what the database's own tool makes: an SQLite database
file, or a pg_dump custom-format archive; `restore` tells them apart by
their first bytes. Files are written beside their destination, fsynced and
renamed into place, so a cut-short run never leaves a half file under the
final name. The PostgreSQL password travels only in PGPASSWORD, never on a
command line, and is scrubbed from whatever a tool prints.
"""

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from enum import StrEnum
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.models import Base

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
# What marks a database as the hub's: tables every migrated database has.
MARKERS = frozenset({"alembic_version", "audit_head", "change_head"})
HUB_TABLES = frozenset(Base.metadata.tables) | MARKERS
Tick = Callable[[int, int], None]  # (done, total) in pages or bytes; total 0: unknown


class BackupError(Exception):
    """A refusal or failure, as one line for the operator (no secrets)."""


class TargetNotEmpty(BackupError):
    pass


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def backend_of(database_url: str) -> Backend:
    return Backend(make_url(database_url).get_backend_name())


def describe(database_url: str) -> str:
    """The database for messages: its file, or its name and server; no password."""
    url = make_url(database_url)
    if backend_of(database_url) is Backend.SQLITE:
        return f"SQLite database {url.database}"
    return f"PostgreSQL database {url.database} on {url.host or 'localhost'}:{url.port or 5432}"


def backup_kind(path: Path) -> Backend:
    """Which database a backup file is for, from its first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except OSError as e:
        raise BackupError(f"{path}: {e.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return Backend.SQLITE
    if head.startswith(PG_MAGIC):
        return Backend.POSTGRESQL
    raise BackupError(
        f"{path} is not a hub backup (neither an SQLite database nor a pg_dump "
        "custom-format archive)"
    )


def sqlite_file(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(name)


def sqlite_tables(path: Path) -> set[str]:
    """The tables of an SQLite file; none when it is absent or zero bytes."""
    if not path.exists() or path.stat().st_size == 0:
        return set()
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {name for (name,) in rows}
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not an SQLite database ({e})") from None


def backup_sqlite(source: Path, output: Path) -> int:
    """Copy a live database with the online backup API; the size written.

    One step: the copy is one read snapshot, and under WAL the hub's writers
    go on meanwhile (a copy in several steps restarts whenever they write).
    """
    if not sqlite_tables(source) >= MARKERS:
        raise BackupError(
            f"{source} is not a migrated hub database: nothing to back up"
        )
    with _partial(output) as partial:
        with (
            closing(sqlite3.connect(source)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        _fsync(partial)
        os.replace(partial, output)
    _fsync_dir(output.parent)
    return output.stat().st_size


def check_sqlite_restore(backup: Path, target: Path, *, force: bool) -> None:
    """Refuse a target that holds tables (unless `force`) or a bad backup."""
    existing = sqlite_tables(target)
    if existing and not force:
        raise TargetNotEmpty(
            f"{target} already holds a database ({len(existing)} tables): restore "
            "into an empty one, or pass --force to replace it"
        )
    _check_sqlite_backup(backup)


def restore_sqlite(backup: Path, target: Path, *, progress: Tick | None = None) -> None:
    """Put a backup in place of `target` (check_sqlite_restore first).

    Stop the hub first: its open connections would keep the replaced file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with _partial(target) as partial:
        source = f"file:{backup.resolve()}?mode=ro&immutable=1"
        with (
            closing(sqlite3.connect(source, uri=True)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(
                dst,
                pages=4096,
                progress=(lambda _, left, total: progress(total - left, total))
                if progress
                else None,
            )
        _fsync(partial)
        # The old file's journal would be replayed onto the new one.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(partial, target)
    _fsync_dir(target.parent)


def _check_sqlite_backup(backup: Path) -> None:
    source = f"file:{backup.resolve()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(source, uri=True)) as conn:
            tables = {
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if not tables >= MARKERS:
                raise BackupError(f"{backup} is an SQLite database, not a hub backup")
            (result,) = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{backup} is damaged ({e})") from None
    if result != "ok":
        raise BackupError(f"{backup} is damaged (quick_check: {result})")


async def hub_tables(engine: AsyncEngine) -> set[str]:
    """The hub's tables that already exist in the configured database."""
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) & HUB_TABLES


def find_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if installed:
        return max(
            installed, key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0)
        )
    raise BackupError(
        f"{name} not found on PATH or under /usr/lib/postgresql/*/bin: install "
        "the PostgreSQL client programs (Debian: postgresql-client)"
    )


def dump_postgresql(database_url: str, output: Path, *, tick: Tick) -> int:
    """`pg_dump --format=custom` of the configured database; the size written."""
    args, env = _connection(make_url(database_url))
    with _partial(output) as partial:
        _run(
            [find_tool("pg_dump"), "--format=custom", f"--file={partial}", *args],
            env,
            secret=make_url(database_url).password,
            tick=lambda: tick(partial.stat().st_size if partial.exists() else 0, 0),
        )
        _fsync(partial)
        os.replace(partial, output)
    _fsync_dir(output.parent)
    return output.stat().st_size


def check_postgresql_backup(backup: Path) -> None:
    """`pg_restore --list`: the archive reads, and it holds the hub's tables."""
    listed = subprocess.run(
        [find_tool("pg_restore"), "--list", str(backup)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise BackupError(f"{backup} is damaged ({_last_line(listed.stderr)})")
    tables = set(re.findall(r" TABLE \S+ (\w+) ", listed.stdout))
    if not tables >= MARKERS:
        raise BackupError(f"{backup} is a pg_dump archive, not a hub backup")


def restore_postgresql(
    database_url: str, backup: Path, *, replace: bool, tick: Tick
) -> None:
    """`pg_restore` in one transaction: a failed restore leaves nothing behind.

    `replace` (--force) drops the objects of the archive first (--clean).
    """
    url = make_url(database_url)
    args, env = _connection(url)
    clean = ["--clean", "--if-exists"] if replace else []
    started = time.monotonic()
    _run(
        [
            find_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            *clean,
            *args,
            str(backup),
        ],
        env,
        secret=url.password,
        tick=lambda: tick(int(time.monotonic() - started), 0),
    )


def _connection(url: URL) -> tuple[list[str], dict[str, str]]:
    """Options for the pg_* programs, and their environment with PGPASSWORD."""
    args = ["--no-password"]  # fail rather than wait for a prompt
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    args.append(f"--dbname={url.database or url.username or 'postgres'}")
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    if url.password:
        env["PGPASSWORD"] = url.password
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return args, env


def _run(
    command: list[str],
    env: dict[str, str],
    *,
    secret: str | None,
    tick: Callable[[], None],
) -> None:
    # stderr to a file: a pipe nobody reads while waiting could fill and block.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors
        )
        while process.poll() is None:
            tick()
            time.sleep(0.2)
        errors.seek(0)
        output = errors.read().decode(errors="replace")
    if process.returncode != 0:
        message = _last_line(output)
        if secret:
            message = message.replace(secret, "***")
        name = Path(command[0]).name
        raise BackupError(f"{name} failed (exit {process.returncode}): {message}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


@contextmanager
def _partial(final: Path) -> Iterator[Path]:
    """A temporary file beside `final`, removed unless renamed into place."""
    if not final.parent.is_dir():
        raise BackupError(f"{final.parent}: no such directory")
    path = final.parent / f".{final.name}.partial"
    path.unlink(missing_ok=True)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable."""
    _fsync(path)
