"""Evaluation through GraphQL: the list, a run, and a grade's explanation."""

from dataclasses import dataclass

from sqlalchemy import select

from hub.enums import Scheme
from hub.models import CreditRating
from resolvers.access import rating_rule, readable_datasets
from resolvers.context import Context, serialized, writing
from resolvers.errors import BadUserInput
from resolvers.evaluation import RunSummary, check_year, run_evaluation
from resolvers.selection import Listed, evaluation_list
from resolvers.transitions import Actor

# Larger lists are for `hub evaluate list`, or a district at a time.
MAX_LISTED = 5000


@dataclass(frozen=True, slots=True)
class ExplanationLine:
    rule: str
    label: str
    points: str
    records: list[tuple[str, int]]
    note: str


@serialized
async def list_for_year(ctx: Context, *, year: int) -> list[Listed]:
    """Who is evaluated for `year` in the caller's jurisdiction, and why."""
    check_year(year, ctx.today)
    listed = await evaluation_list(
        ctx.db, year=year, share=ctx.settings.selection_share, caller=ctx.caller
    )
    if len(listed) > MAX_LISTED:
        raise BadUserInput(
            f"{len(listed)} enterprises are listed, more than {MAX_LISTED} in one "
            "answer; use `hub evaluate list --year` for the whole city",
            reason="TOO_MANY_RESULTS",
            field="year",
        )
    ctx.returned_ids.update(item.enterprise_id for item in listed)
    return listed


@writing
async def evaluate_year(ctx: Context, *, scheme: Scheme, year: int) -> RunSummary:
    """Run an evaluation; the grades are PRELIMINARY until reviewed and noticed."""
    if scheme not in ctx.policies:
        raise BadUserInput(
            f"{scheme.value} is not an active scheme here (HUB_ACTIVE_SCHEMES)",
            reason="SCHEME_NOT_ACTIVE",
            field="scheme",
        )
    return await run_evaluation(
        ctx.db,
        policies=ctx.policies,
        scheme=scheme,
        year=year,
        share=ctx.settings.selection_share,
        caller=ctx.caller,
        actor=Actor.of(ctx.caller, ctx.request_id),
        decided_by=ctx.caller.agency_name or "无锡市生态环境局",
        now=ctx.now,
        today=ctx.today,
    )


@serialized
async def explain(ctx: Context, *, rating_id: int) -> list[ExplanationLine] | None:
    """The scoring explanation of a grade the caller may see; None otherwise."""
    stmt = readable_datasets(
        select(CreditRating.explanation, CreditRating.enterprise_id).where(
            CreditRating.id == rating_id
        ),
        ctx.caller,
        rule=rating_rule(ctx.caller),
        enterprise_id=CreditRating.enterprise_id,
    )
    row = (await ctx.db.execute(stmt)).first()
    if row is None or row.explanation is None:
        return None
    ctx.returned_ids.add(row.enterprise_id)
    return [
        ExplanationLine(
            str(line["rule"]),
            str(line["label"]),
            str(line["points"]),
            [(str(kind), int(id_)) for kind, id_ in line["records"]],
            str(line.get("note", "")),
        )
        for line in row.explanation
    ]
