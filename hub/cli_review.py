"""`hub review` and `hub subsidy check`: credit reviews for the bureau's staff."""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from auth.caller import Caller
from auth.scopes import Purpose
from hub.audit.record import EntryKind
from hub.audit.staff import record_staff_action
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import GRADE_ZH
from hub.evaluate.loading import active_policies
from hub.evaluate.policy import PolicyError
from hub.ingest.table import FileRejected
from hub.review.applications import (
    OUTCOME_ZH,
    read_applications,
    write_report,
)
from hub.review.rulebook import load_rulebook
from resolvers.context import cst_date
from resolvers.errors import HubError
from resolvers.review import Reviewer, ReviewResult
from resolvers.subsidy import EligibilityRow, check_eligibility, report_line

subsidy_app = typer.Typer(
    help="Subsidy benchmark checks (信用基准评价).", no_args_is_help=True
)
console = Console(stderr=True)
out = Console()

STAFF = Caller.staff()
T = TypeVar("T")


def review_command(
    code: Annotated[str, typer.Argument(help="统一社会信用代码.")],
    purpose: Annotated[
        Purpose, typer.Option(help="LOAN_APPROVAL, SUPERVISION, SUBSIDY_REVIEW, ...")
    ],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Review date (today)."),
    ] = None,
    programme: Annotated[
        str | None, typer.Option(help="Subsidy programme (SUBSIDY_REVIEW only).")
    ] = None,
) -> None:
    """Print the credit review of one enterprise: decision, facts, reasons, measures."""
    settings = Settings.from_env()

    async def work(reviewer: Reviewer) -> ReviewResult | None:
        found = await reviewer.reviews(
            [code],
            purpose=purpose,
            as_of=as_of.date() if as_of else None,
            programme=programme,
            field="code",
            max_codes=1,
        )
        return found[0]

    variables: dict[str, object] = {
        "code": code,
        "purpose": purpose.value,
        "asOf": as_of.date().isoformat() if as_of else None,
        "programme": programme,
    }
    result = _run(
        settings,
        work,
        operation="review",
        variables=variables,
        codes=lambda r: (r.enterprise.code,) if r else (),
    )
    if result is None:
        console.print(f"[red]no enterprise with credit code {escape(code)}[/red]")
        raise typer.Exit(1)
    _print_review(result)


@subsidy_app.command("check")
def check_command(
    applications: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="The list, .csv or .xlsx."),
    ],
    output: Annotated[
        Path,
        typer.Option(dir_okay=False, help="Report to write: FILE.csv or FILE.xlsx."),
    ],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Review date (today)."),
    ] = None,
) -> None:
    """Check a subsidy application list and write the report, with progress."""
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        console.print(
            f"[red]{escape(output.name)}: the report must end in .csv or .xlsx"
        )
        raise typer.Exit(2)
    try:
        listed = read_applications(applications.read_bytes(), applications.name)
    except FileRejected as e:
        where = f"row {e.row}: " if e.row and f"row {e.row}" not in e.message else ""
        console.print(
            f"[red]{escape(applications.name)}: {where}{escape(e.message)}[/red]"
        )
        raise typer.Exit(1) from None
    settings = Settings.from_env()

    async def work(reviewer: Reviewer) -> list[EligibilityRow]:
        with Progress(
            TextColumn("checking"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("check", total=len(listed))
            return await check_eligibility(
                reviewer,
                listed,
                as_of=as_of.date() if as_of else None,
                progress=lambda done, _total: bar.update(task, completed=done),
            )

    rows = _run(
        settings,
        work,
        operation="subsidy check",
        variables={"file": applications.name, "rows": len(listed)},
        codes=lambda found: tuple(r.code for r in found if r.code and r.enterprise),
    )
    output.write_bytes(write_report(map(report_line, rows), xlsx=suffix == ".xlsx"))
    counts = {o: sum(r.outcome is o for r in rows) for o in OUTCOME_ZH}
    errors = sum(r.error_reason is not None for r in rows)
    summary = ", ".join(f"{o.value} {n}" for o, n in counts.items())
    out.print(
        f"{len(rows)} applications checked ({summary}, errors {errors}); "
        f"report written to {escape(str(output))}"
    )


def _run(
    settings: Settings,
    work: Callable[[Reviewer], Awaitable[T]],
    *,
    operation: str,
    variables: dict[str, object],
    codes: Callable[[T], tuple[str, ...]],
) -> T:
    """Run `work` as the bureau's staff; audited before anything is shown."""
    try:
        policies = active_policies(settings)
        rulebook = load_rulebook(settings.review_policy_dir)
    except PolicyError as e:
        console.print(f"[red]policy refused:[/red] {escape(str(e))}")
        raise typer.Exit(1) from None

    async def go() -> T:
        engine = create_engine(settings)
        at = settings.clock()
        try:
            async with create_sessionmaker(engine)() as session:
                reviewer = Reviewer(
                    session,
                    STAFF,
                    cst_date(at),
                    settings.official_scheme,
                    rulebook,
                    policies,
                )
                result = await work(reviewer)
            if not await record_staff_action(
                engine,
                settings,
                kind=EntryKind.EXPORT,
                at=at,
                actor=f"cli:{getpass.getuser()}",
                operation=operation,
                variables=variables,
                enterprises=codes(result),
            ):
                console.print(
                    "[red]the audit log cannot be written: nothing shown[/red]"
                )
                raise typer.Exit(1)
            return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except HubError as e:
        console.print(f"[red]{escape(e.message)}[/red] ({e.reason})")
        raise typer.Exit(2) from None


def _print_review(result: ReviewResult) -> None:
    r = result.review
    facts = r.facts
    e = result.enterprise
    out.print(f"[bold]{escape(e.name)}[/bold]  {e.code}  {escape(e.district.name)}")
    out.print(
        f"审查日期 {facts.as_of.isoformat()}  目的 {r.purpose.value}  规则版本 {r.policy_version}"
    )
    grade = facts.grade
    out.print(
        f"信用等级: {GRADE_ZH[grade.grade]} {grade.grade.value} ({grade.scheme.value}, "
        f"rating {grade.rating_id}, from {grade.valid_from.isoformat()})"
        if grade
        else "信用等级: 无 (no published grade in force)"
    )
    label = f" {r.programme.code} {escape(r.programme.name)}" if r.programme else ""
    out.print(f"[bold]结论{label}: {r.decision.outcome.value}[/bold]")
    reasons = Table("rule", "理由", "asks for", "records", title="理由 (reasons)")
    for reason in r.decision.reasons:
        cited = ", ".join(f"{c.type.value} {c.id}" for c in reason.citations)
        reasons.add_row(reason.code, escape(reason.label), reason.outcome.value, cited)
    out.print(reasons)
    if r.measures:
        measures = Table("measure", "措施", "source", title="适用措施 (measures)")
        for m in r.measures:
            measures.add_row(m.code, escape(m.zh), escape(m.legal_source))
        out.print(measures)
