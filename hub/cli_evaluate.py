"""`hub evaluate list|run`: the year's list and evaluation runs from the shell."""

import asyncio
import getpass
import time

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from auth.caller import Caller
from hub.config import Settings
from hub.db import commit, create_engine, create_sessionmaker
from hub.enums import Scheme
from hub.evaluate.loading import Policies, active_policies
from hub.evaluate.policy import PolicyError
from resolvers.context import cst_date
from resolvers.dynamic import recompute
from resolvers.errors import HubError
from resolvers.evaluation import RunSummary, run_evaluation
from resolvers.selection import Listed, evaluation_list
from resolvers.transitions import Actor

evaluate_app = typer.Typer(help="Evaluation (评价).", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

STAFF = Caller.staff()


def policies_or_exit(settings: Settings) -> Policies:
    """The active schemes' policies; a broken file ends the command, named."""
    try:
        return active_policies(settings)
    except PolicyError as e:
        console.print(f"[red]policy refused:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None


@evaluate_app.command("list")
def list_command(
    year: int = typer.Option(..., help="The rated year."),
    district: str | None = typer.Option(None, help="Only this district (6 digits)."),
) -> None:
    """Who is evaluated for YEAR, and why each enterprise is on the list."""
    settings = Settings.from_env()
    caller = (
        STAFF
        if district is None
        else Caller(
            scopes=STAFF.scopes, published_only=False, districts=frozenset({district})
        )
    )

    async def run() -> list[Listed]:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                return await evaluation_list(
                    session, year=year, share=settings.selection_share, caller=caller
                )
        finally:
            await engine.dispose()

    listed = asyncio.run(run())
    table = Table("credit code", "name", "district", "why listed")
    for item in listed:
        table.add_row(
            item.code,
            escape(item.name),
            item.district_code,
            escape("; ".join(item.reasons)),
        )
    out.print(table)
    console.print(f"{len(listed)} enterprises listed for {year}")


@evaluate_app.command("run")
def run_command(
    scheme: Scheme = typer.Option(..., case_sensitive=False, help="The scheme."),
    year: int = typer.Option(..., help="The rated year."),
) -> None:
    """Evaluate YEAR under SCHEME: PRELIMINARY grades for review."""
    settings = Settings.from_env()
    policies = policies_or_exit(settings)
    if scheme not in policies:
        console.print(
            f"[red]{scheme.value} is not an active scheme (HUB_ACTIVE_SCHEMES)[/red]"
        )
        raise typer.Exit(1)
    started = time.monotonic()

    async def run() -> RunSummary:
        engine = create_engine(settings)
        now = settings.clock()
        try:
            async with create_sessionmaker(engine)() as session:
                summary = await run_evaluation(
                    session,
                    policies=policies,
                    scheme=scheme,
                    year=year,
                    share=settings.selection_share,
                    caller=STAFF,
                    actor=Actor(f"cli:{getpass.getuser()}"),
                    decided_by="无锡市生态环境局",
                    now=now,
                    today=cst_date(now),
                )
                await commit(session)
                return summary
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run())
    except HubError as e:
        console.print(f"[red]refused:[/red] {escape(e.message)}")
        raise typer.Exit(1) from None
    grades = ", ".join(f"{g} {n}" for g, n in sorted(summary.grades.items()))
    out.print(
        f"run {summary.id}: {scheme.value} {summary.policy_version} for {year} "
        f"(as of {summary.as_of}) in {time.monotonic() - started:.1f} s: "
        f"{summary.listed} listed, {summary.rated} rated ({grades}), "
        f"{summary.not_rated} not rated, {summary.replaced} earlier grades replaced"
    )


@evaluate_app.command("dynamic")
def dynamic_command() -> None:
    """Recompute every dynamic-scheme grade as of today (run daily): grades
    follow the score as deductions expire."""
    settings = Settings.from_env()
    policies = policies_or_exit(settings)

    async def run() -> int:
        engine = create_engine(settings)
        now = settings.clock()
        try:
            async with create_sessionmaker(engine)() as session:
                changes = await recompute(
                    session,
                    policies=policies,
                    actor=Actor(f"cli:{getpass.getuser()}"),
                    now=now,
                    today=cst_date(now),
                )
                await commit(session)
                return len(changes)
        finally:
            await engine.dispose()

    out.print(f"{asyncio.run(run())} dynamic grade(s) changed")
