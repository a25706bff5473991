"""`hub import DATASET FILE`: the bureau's staff import a CSV or XLSX file.

The file is read and checked whole, then stored in one transaction or not at
all; the result (or every problem, by row and column) is printed, and the
import is recorded in the audit log.
"""

import asyncio
import getpass
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.caller import Caller
from hub.audit.record import EntryKind, Outcome
from hub.audit.staff import record_staff_action
from hub.cli_evaluate import policies_or_exit
from hub.config import Settings
from hub.db import commit, create_engine, create_sessionmaker
from hub.enums import BatchSource
from hub.evaluate.loading import Policies
from hub.ingest.datasets import BY_NAME, DatasetSpec
from hub.ingest.export import write_csv
from hub.ingest.problems import Problem, Rejected
from hub.ingest.rows import parse_table
from hub.ingest.table import FileRejected, TableLimits, read_table
from resolvers.context import cst_date
from resolvers.dynamic import after_batch
from resolvers.store import Mode, Stored, Writer, store
from resolvers.transitions import Actor

console = Console(stderr=True)
out = Console()
SHOWN_PROBLEMS = 50

# The bureau's own staff at the server: the whole city, every dataset.
STAFF = Caller.staff()


@dataclass(slots=True)
class Attempt:
    spec: DatasetSpec
    path: Path
    actor: str
    at: datetime
    sha256: str | None = None
    policies: Policies = field(default_factory=dict)
    stored: Stored | None = None
    problems: list[Problem] | None = None


def import_command(
    dataset: str = typer.Argument(
        ..., help="enterprises, penalties, risk, insurance, emissions or events."
    ),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    update: bool = typer.Option(
        False, "--update", help="Correct stored records whose values differ."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
    max_rows: int = typer.Option(1_000_000, min=1, help="Refuse longer files."),
    report: Path | None = typer.Option(
        None, help="Write every problem (row, column, reason, message) to this CSV."
    ),
) -> None:
    """Import a CSV (UTF-8 or GB18030) or XLSX file: every row lands, or none."""
    spec = BY_NAME.get(dataset.lower())
    if spec is None:
        console.print(
            f"[red]unknown dataset {escape(dataset)!r}[/red]; use one of: "
            + ", ".join(BY_NAME)
        )
        raise typer.Exit(2)
    settings = Settings.from_env()
    policies = policies_or_exit(settings)
    attempt = Attempt(
        spec, file, f"cli:{getpass.getuser()}", settings.clock(), policies=policies
    )
    mode = Mode.UPSERT if update else Mode.CREATE
    started = time.monotonic()
    ok = asyncio.run(_run(settings, attempt, mode, dry_run=dry_run, max_rows=max_rows))
    if report is not None:
        _write_report(report, attempt.problems or [])
    if not ok:
        raise typer.Exit(1)
    stored = attempt.stored
    assert stored is not None
    verb = "checked (dry run)" if dry_run else "imported"
    out.print(
        f"{verb} {stored.rows} rows of {spec.name} in {time.monotonic() - started:.1f} s: "
        f"{stored.created} created, {stored.updated} updated, "
        f"{stored.unchanged} unchanged"
        + (f"; batch {stored.batch_id}" if stored.batch_id else "")
        + (
            f"; {stored.grade_changes} grade(s) changed at once"
            if stored.grade_changes
            else ""
        )
    )


async def _run(
    settings: Settings, attempt: Attempt, mode: Mode, *, dry_run: bool, max_rows: int
) -> bool:
    engine = create_engine(settings)
    try:
        ok = await _import(engine, settings, attempt, mode, dry_run, max_rows)
        if not dry_run:
            await _audit(engine, settings, attempt, mode)
        return ok
    finally:
        await engine.dispose()


async def _import(
    engine: AsyncEngine,
    settings: Settings,
    attempt: Attempt,
    mode: Mode,
    dry_run: bool,
    max_rows: int,
) -> bool:
    spec, today = attempt.spec, cst_date(attempt.at)
    try:
        table = read_table(
            attempt.path.read_bytes(),
            attempt.path.name,
            limits=TableLimits(max_rows=max_rows),
        )
    except FileRejected as e:
        attempt.problems = [Problem(e.reason, e.message, e.row, e.column)]
        _print_problems(attempt.problems, rows=0)
        return False
    attempt.sha256 = table.sha256
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        checking = bar.add_task("checking", total=len(table.rows))
        parsed = parse_table(
            spec, table, today=today, progress=lambda n: bar.advance(checking, n)
        )
        if parsed.problems:
            attempt.problems = parsed.problems
        else:
            writing = bar.add_task("writing", total=len(parsed.records))
            attempt.problems = await _store(
                engine,
                attempt,
                parsed.records,
                mode,
                dry_run,
                lambda n: bar.advance(writing, n),
            )
    if parsed.ignored_columns:
        console.print(
            "columns left out (not collected): "
            + escape("、".join(parsed.ignored_columns))
        )
    if attempt.problems:
        _print_problems(attempt.problems, rows=len(table.rows))
        return False
    return True


async def _store(
    engine: AsyncEngine,
    attempt: Attempt,
    records: Any,
    mode: Mode,
    dry_run: bool,
    progress: Any,
) -> list[Problem]:
    writer = Writer(
        caller=STAFF,
        source=BatchSource.CLI,
        actor=attempt.actor,
        request_id=None,
        file_name=attempt.path.name,
        file_sha256=attempt.sha256,
    )
    async with create_sessionmaker(engine)() as session:
        try:
            attempt.stored = await store(
                session,
                attempt.spec,
                records,
                writer=writer,
                now=attempt.at,
                mode=mode,
                dry_run=dry_run,
                progress=progress,
            )
        except Rejected as e:
            return e.problems
        if not dry_run:
            stored = attempt.stored
            if stored.batch_id is not None:
                changes = await after_batch(
                    session,
                    dataset=attempt.spec.dataset,
                    batch_id=stored.batch_id,
                    policies=attempt.policies,
                    actor=Actor(attempt.actor),
                    now=attempt.at,
                    today=cst_date(attempt.at),
                )
                stored.grade_changes = len(changes)
            await commit(session)
    return []


async def _audit(
    engine: AsyncEngine, settings: Settings, attempt: Attempt, mode: Mode
) -> None:
    """One audit entry per import, accepted or refused (nothing is written
    when the audit log cannot be reached: the batch row still records it)."""
    stored, problems = attempt.stored, attempt.problems or []
    written = await record_staff_action(
        engine,
        settings,
        kind=EntryKind.IMPORT,
        at=attempt.at,
        actor=attempt.actor,
        operation=f"import {attempt.spec.name}",
        variables={
            "file": attempt.path.name,
            "sha256": attempt.sha256,
            "mode": mode.value,
            "rows": stored.rows if stored else None,
            "created": stored.created if stored else 0,
            "updated": stored.updated if stored else 0,
            "unchanged": stored.unchanged if stored else 0,
            "batchId": stored.batch_id if stored else None,
            "problems": len(problems),
        },
        outcome=Outcome.INVALID if problems else Outcome.OK,
        reason=problems[0].reason if problems else None,
    )
    if not written:
        console.print("[yellow]warning: the audit log could not be written[/yellow]")


def _print_problems(problems: list[Problem], *, rows: int) -> None:
    console.print(
        f"[red]nothing imported:[/red] {len(problems)} problem(s) in {rows} row(s)"
    )
    table = Table("row", "column", "reason", "message", show_lines=False)
    for p in problems[:SHOWN_PROBLEMS]:
        table.add_row(
            str(p.row or ""),
            escape(p.column or p.field or ""),
            p.reason,
            escape(p.message),
        )
    console.print(table)
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"... and {len(problems) - SHOWN_PROBLEMS} more")


def _write_report(path: Path, problems: list[Problem]) -> None:
    """The problems as CSV (UTF-8 with BOM for Excel); text is never a formula."""
    rows = [
        [p.row, p.column or "", p.field or "", p.reason, p.message] for p in problems
    ]
    path.write_bytes(
        write_csv(
            ["行号 row", "列 column", "字段 field", "原因 reason", "说明 message"], rows
        )
    )
    console.print(f"{len(problems)} problem(s) written to {escape(str(path))}")
