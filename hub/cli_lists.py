"""`hub lists red-black`: the half-yearly red and black lists as CSV or XLSX files."""

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from hub.audit.record import EntryKind
from hub.audit.staff import record_staff_action
from hub.cli_import import STAFF
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import GRADE_ZH, Scheme
from hub.ingest.export import write_csv, write_xlsx
from hub.ingest.table import Cell
from resolvers.red_black import RedBlackList, fetch_red_black

lists_app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
out = Console()

HEADER = ("统一社会信用代码", "企业名称", "行政区划", "信用等级", "生效日期")
SHEET_TITLE = "红黑名单"


@lists_app.callback()
def lists() -> None:
    """Lists for other authorities (名单)."""


@lists_app.command("red-black")
def red_black(
    year: Annotated[int, typer.Option(min=1990, max=2100, help="Calendar year.")],
    half: Annotated[
        int, typer.Option(min=1, max=2, help="1: as of 30 June; 2: as of 31 December.")
    ],
    output: Annotated[
        Path, typer.Option(dir_okay=False, help="FILE.csv or FILE.xlsx to write.")
    ],
    scheme: Annotated[
        Scheme | None,
        typer.Option(help="Rating scheme (default: HUB_OFFICIAL_SCHEME)."),
    ] = None,
) -> None:
    """Write the RED and BLACK enterprises in force on the half-year's last day.

    The query of GraphQL's redBlackList, run as the bureau's staff (the whole
    city); the files never carry a live formula.
    """
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        console.print(f"[red]{escape(output.name)}: the file must end in .csv or .xlsx")
        raise typer.Exit(2)
    settings = Settings.from_env()
    found = asyncio.run(
        _fetch(settings, year, half, scheme or settings.official_scheme)
    )
    output.write_bytes(
        write_csv(HEADER, rows_of(found))
        if suffix == ".csv"
        else write_xlsx(HEADER, rows_of(found), sheet_title=SHEET_TITLE)
    )
    out.print(
        f"{found.count} enterprises on the red/black list of {year} H{half} "
        f"({found.scheme.value}, as of {found.as_of.isoformat()}) written to "
        f"{escape(str(output))}"
    )


def rows_of(found: RedBlackList) -> list[list[Cell]]:
    return [
        [e.code, e.name, e.district.code, GRADE_ZH[e.grade], e.valid_from]
        for e in found.entries
    ]


async def _fetch(
    settings: Settings, year: int, half: int, scheme: Scheme
) -> RedBlackList:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await fetch_red_black(
                session, STAFF, year=year, half=half, scheme=scheme
            )
        # Audited before the file is written: no unaudited list is left.
        if not await record_staff_action(
            engine,
            settings,
            kind=EntryKind.EXPORT,
            at=settings.clock(),
            actor=f"cli:{getpass.getuser()}",
            operation="lists red-black",
            variables={
                "year": year,
                "half": half,
                "scheme": scheme.value,
                "rows": found.count,
            },
        ):
            console.print("[red]the audit log cannot be written: nothing written[/red]")
            raise typer.Exit(1)
        return found
    finally:
        await engine.dispose()
