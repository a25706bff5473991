"""`hub backup FILE` and `hub restore FILE [--force]`.

The logic lives in hub/backup.py and hub/backup_check.py; this module opens
the engine, shows progress on stderr and prints results on stdout. Refusals
are one line on stderr and exit 1. Both are audited as ADMIN staff actions:
the backup in the database it copied, the restore in the restored database
once it has been checked.
"""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit.record import EntryKind, Outcome
from hub.audit.staff import record_staff_action
from hub.audit.verify import Report
from hub.backup import (
    Backend,
    BackupError,
    backend_of,
    backup_kind,
    backup_sqlite,
    check_postgresql_backup,
    check_sqlite_restore,
    describe,
    dump_postgresql,
    hub_tables,
    restore_postgresql,
    restore_sqlite,
    sqlite_file,
)
from hub.backup_check import RestoreCheck, check_restored, set_aside_checkpoints
from hub.config import Settings
from hub.db import create_engine, is_unavailable

console = Console(stderr=True)
T = TypeVar("T")


def backup_command(
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, help="The backup to write (replaced)."),
    ],
) -> None:
    """Back up the database while the hub runs: SQLite's backup API, or pg_dump."""
    settings = Settings.from_env()
    url = settings.database_url
    started = settings.clock()
    with console.status(f"backing up {describe(url)}") as status:

        def tick(done: int, _: int) -> None:
            status.update(f"pg_dump: {_size(done)} written")

        size = _attempt(
            lambda: (
                backup_sqlite(sqlite_file(url), file)
                if backend_of(url) is Backend.SQLITE
                else dump_postgresql(url, file, tick=tick)
            )
        )
    recorded = _with_engine(
        settings,
        lambda engine: record_staff_action(
            engine,
            settings,
            kind=EntryKind.ADMIN,
            at=started,
            actor=f"cli:{getpass.getuser()}",
            operation="backup",
            variables={"file": file.name, "bytes": size},
        ),
    )
    if not recorded:
        file.unlink(missing_ok=True)
        _fail("the audit log cannot be written: backup removed")
    typer.echo(f"wrote {file} ({_size(size)}) from {describe(url)}")


def restore_command(
    file: Annotated[
        Path, typer.Argument(dir_okay=False, help="A file written by `hub backup`.")
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already holds tables."),
    ] = False,
) -> None:
    """Restore a backup into an empty database, then verify the audit chain
    and the change feed (stop the hub first)."""
    settings = Settings.from_env()
    url = settings.database_url
    started = settings.clock()
    kind = _attempt(lambda: backup_kind(file))
    target = backend_of(url)
    if kind is not target:
        _fail(f"{file} is a {kind} backup, but HUB_DATABASE_URL names {target}")
    if target is Backend.SQLITE:
        _restore_sqlite(file, sqlite_file(url), force=force)
    else:
        _restore_postgresql(settings, file, force=force)
    typer.echo(f"restored {file} into {describe(url)}")
    with console.status("verifying the audit chain and the change feed"):
        check = _with_engine(settings, lambda e: check_restored(e, settings))
    typer.echo(f"audit: {_audit_line(check.audit)}")
    typer.echo(f"change feed: {check.feed}")
    if check.lost:
        _report_lost(settings, check, started)
    recorded = _with_engine(
        settings,
        lambda engine: record_staff_action(
            engine,
            settings,
            kind=EntryKind.ADMIN,
            at=started,
            actor=f"cli:{getpass.getuser()}",
            operation="restore",
            variables={
                "file": file.name,
                "force": force,
                "audit": "OK" if check.audit.ok else str(check.audit.finding),
                "feed": "OK" if check.feed.ok else check.feed.problem,
                "lostEntries": _lost_entries(check),
            },
            outcome=Outcome.OK if check.ok else Outcome.ERROR,
            reason=None if check.ok else "VERIFY_FAILED",
        ),
    )
    if not recorded:
        _fail("the audit log of the restored database cannot be written")
    if not check.ok:
        raise typer.Exit(1)


def _restore_sqlite(file: Path, target: Path, *, force: bool) -> None:
    with console.status("checking the backup"):
        _attempt(lambda: check_sqlite_restore(file, target, force=force))
    with Progress(
        TextColumn("restoring"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("pages", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        _attempt(lambda: restore_sqlite(file, target, progress=progress))


def _restore_postgresql(settings: Settings, file: Path, *, force: bool) -> None:
    _attempt(lambda: check_postgresql_backup(file))
    existing = _with_engine(settings, hub_tables)
    if existing and not force:
        _fail(
            f"{describe(settings.database_url)} already holds {len(existing)} hub "
            "tables: restore into an empty database, or pass --force to replace them"
        )
    with console.status("pg_restore") as status:

        def tick(seconds: int, _: int) -> None:
            status.update(f"pg_restore: {seconds} s")

        _attempt(
            lambda: restore_postgresql(
                settings.database_url, file, replace=bool(existing), tick=tick
            )
        )


def _report_lost(settings: Settings, check: RestoreCheck, now: datetime) -> None:
    path = settings.audit_checkpoint_file
    newest = max(cp.seq for cp in check.lost)
    first = (check.audit.last_seq or 0) + 1
    typer.echo(
        f"note: {path} signs entries up to seq {newest}; this backup ends at seq "
        f"{first - 1}: entries {first}..{newest} were written after the backup "
        "was taken and are not in it",
        err=True,
    )
    if check.ok:
        aside = set_aside_checkpoints(path, check.kept, now)
        typer.echo(
            f"note: the checkpoint file was set aside as {aside} (keep it: it "
            f"proves what was lost); {path} now holds the checkpoints up to seq "
            f"{first - 1}",
            err=True,
        )


def _lost_entries(check: RestoreCheck) -> int:
    if not check.lost:
        return 0
    return max(cp.seq for cp in check.lost) - (check.audit.last_seq or 0)


def _audit_line(report: Report) -> str:
    if report.finding is not None:
        return f"FAILED (database): {report.finding}"
    span = f"seq {report.first_seq}..{report.last_seq}" if report.entries else "empty"
    return (
        f"OK (database): {report.entries} entries ({span}), "
        f"{report.checkpoints} signed checkpoints matching"
    )


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} kB"


def _attempt(work: Callable[[], T]) -> T:
    try:
        return work()
    except BackupError as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename or 'file'}: {e.strerror}")


def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except BackupError as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        if is_unavailable(e):
            _fail(
                f"the database cannot be reached ({type(e).__name__}); check "
                "HUB_DATABASE_URL and that the server is up"
            )
        _fail(f"database error ({type(e).__name__}); is it migrated?")
    except OSError as e:
        if e.filename:
            _fail(f"{e.filename}: {e.strerror}")
        _fail(
            f"the database cannot be reached ({type(e).__name__}); check "
            "HUB_DATABASE_URL and that the server is up"
        )


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
