"""`hub export DATASET`: the bureau's staff write a dataset to a CSV, XLSX or JSON Lines file."""

import asyncio
import getpass
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

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

from hub.audit.record import EntryKind
from hub.audit.staff import record_staff_action
from hub.cli_import import STAFF
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import Scheme
from hub.export_files import FileFormat, encode
from resolvers.context import cst_date
from resolvers.errors import HubError
from resolvers.export_specs import ExportSpec, Selection
from resolvers.exports import (
    check_scheme,
    export_rows,
    get_spec,
    parse_as_of,
    summarize,
)

console = Console(stderr=True)
out = Console()
# One command; hub/cli.py mounts export_command as `hub export`.
export_app = typer.Typer()


def export_command(
    dataset: Annotated[
        str, typer.Argument(help="ratings, penalties, risk or insurance.")
    ],
    output: Annotated[
        Path, typer.Option(dir_okay=False, help="The file to write (replaced).")
    ],
    fmt: Annotated[
        FileFormat | None,
        typer.Option(
            "--format", help="csv, xlsx or jsonl (default: the output's suffix)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="The day, YYYY-MM-DD (default: today, China time)."),
    ] = None,
    scheme: Annotated[
        Scheme | None,
        typer.Option(help="ratings only: one scheme (default: every scheme)."),
    ] = None,
) -> None:
    """Export a dataset as of a day, with the national templates' column titles.

    ratings: the published grades in force (per enterprise and scheme);
    penalties: the decisions made by then; risk: the latest assessment per
    enterprise; insurance: the policies covering the day. The whole city,
    every column; text is never written as a live formula.
    """
    settings = Settings.from_env()
    try:
        spec = get_spec(dataset.lower())
        day = parse_as_of(as_of, today=cst_date(settings.clock()), field="--as-of")
        check_scheme(spec, scheme)
    except HubError as e:
        console.print(f"[red]{escape(e.message)}[/red]")
        raise typer.Exit(2) from None
    chosen = fmt or _format_of(output)
    selection = Selection(STAFF, day, cst_date(settings.clock()), scheme)
    rows = asyncio.run(_write(settings, spec, selection, chosen, output))
    out.print(
        f"{rows} rows of {spec.name} as of {day.isoformat()} written to "
        f"{escape(str(output))} ({chosen.value})"
    )


def _format_of(output: Path) -> FileFormat:
    suffix = output.suffix.lower().lstrip(".")
    if suffix not in FileFormat.__members__.values():
        console.print(
            f"[red]{escape(output.name)}: give --format csv, xlsx or jsonl, "
            "or name the file .csv, .xlsx or .jsonl[/red]"
        )
        raise typer.Exit(2)
    return FileFormat(suffix)


async def _write(
    settings: Settings, spec: ExportSpec, s: Selection, fmt: FileFormat, output: Path
) -> int:
    """Write to a temporary file beside `output`, then put it in place."""
    partial = output.with_name(output.name + ".part")
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            total = (await summarize(session, spec, s)).rows
            with (
                Progress(
                    TextColumn(f"exporting {spec.name}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as bar,
                partial.open("wb") as file,
            ):
                task = bar.add_task(spec.name, total=total)
                written = 0

                def advance(rows: int) -> None:
                    nonlocal written
                    written += rows
                    bar.advance(task, rows)

                export = export_rows(session, spec, s)
                chunks = _counted(export.chunks, advance)
                async for part in encode(
                    fmt, export.columns, chunks, sheet_title=spec.label
                ):
                    file.write(part)
        # Audited before the file is put in place: no unaudited export is left.
        if not await record_staff_action(
            engine,
            settings,
            kind=EntryKind.EXPORT,
            at=settings.clock(),
            actor=f"cli:{getpass.getuser()}",
            operation=f"export {spec.name}",
            variables={
                "dataset": spec.name,
                "format": fmt.value,
                "asOf": s.as_of.isoformat(),
                "scheme": s.scheme.value if s.scheme else None,
                "rows": written,
                "file": output.name,
            },
        ):
            console.print(
                "[red]the audit log cannot be written: nothing exported[/red]"
            )
            raise typer.Exit(1)
        os.replace(partial, output)
        return written
    finally:
        partial.unlink(missing_ok=True)
        await engine.dispose()


async def _counted(
    chunks: AsyncIterator[list[Any]], advance: Callable[[int], None]
) -> AsyncIterator[list[Any]]:
    async for chunk in chunks:
        advance(len(chunk))
        yield chunk


export_app.command()(export_command)
