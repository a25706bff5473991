"""Evaluation runs (评价): every listed enterprise scored under one scheme version.

Set-based: the list is computed once, the facts are loaded with one query
per dataset, each enterprise is scored in memory, and the preliminary grades
are inserted in bulk. A new run for the same scheme and year replaces the
earlier run's grades that are not yet in public notice.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import EnterpriseStatus, RatingBasis, RatingStatus, Scheme
from hub.evaluate.policy import Kind, PolicyError, SchemePolicy, policy_for
from hub.evaluate.scoring import Outcome, evaluate
from hub.models import CreditRating, EvaluationRun, RatingTransition
from resolvers.errors import BadUserInput
from resolvers.facts import load_facts
from resolvers.selection import evaluation_list
from resolvers.transitions import Actor

CHUNK = 5000
NOT_RATED = {
    EnterpriseStatus.CLOSED: "关闭 closed",
    EnterpriseStatus.SUSPENDED: "停产 suspended",
}
# Grades of an earlier run that a new run replaces.
REPLACEABLE = (RatingStatus.PRELIMINARY, RatingStatus.REVIEWED)


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: int
    scheme: Scheme
    policy_version: str
    year: int
    as_of: date
    listed: int
    rated: int
    not_rated: int
    replaced: int
    grades: dict[str, int]


def check_year(year: int, today: date) -> None:
    """A year that can be evaluated: recorded data exists for it (2000 on)."""
    if not 2000 <= year <= today.year:
        raise BadUserInput(
            f"year must be between 2000 and {today.year}, got {year}",
            reason="INVALID_YEAR",
            field="year",
        )


def period_of(year: int, today: date) -> tuple[date, date]:
    """The rated year for annual schemes; a dynamic score as of the year's end
    (or today, for the current year)."""
    end = min(date(year, 12, 31), today)
    return date(year, 1, 1), end


def facts_since(policy: SchemePolicy, start: date, end: date) -> date:
    """The oldest fact a scheme can count for the period."""
    if policy.kind is Kind.DYNAMIC_SCORE:
        reach = policy.longest_valid_months * 31 + policy.validity_starts_after_days
        return min(start, end - timedelta(days=reach + 1))
    return start


async def run_evaluation(
    session: AsyncSession,
    *,
    policies: Mapping[Scheme, Sequence[SchemePolicy]],
    scheme: Scheme,
    year: int,
    share: float,
    caller: Caller,
    actor: Actor,
    decided_by: str,
    now: datetime,
    today: date,
) -> RunSummary:
    """Evaluate `year` under `scheme`: PRELIMINARY grades for every listed
    enterprise in the caller's jurisdiction, with their explanations."""
    check_year(year, today)
    start, end = period_of(year, today)
    try:
        policy = policy_for(policies, scheme, end)
    except PolicyError:
        first = min(p.effective_from for p in policies[scheme])
        raise BadUserInput(
            f"no version of {scheme.value} was in effect on {end}; its first "
            f"takes effect on {first}",
            reason="NO_POLICY_VERSION",
            field="year",
        ) from None
    listed = await evaluation_list(session, year=year, share=share, caller=caller)
    ids = [item.enterprise_id for item in listed]
    replaced = await _replace_earlier(session, scheme, year, ids, actor, now)
    facts = await load_facts(session, ids, since=facts_since(policy, start, end))
    run = EvaluationRun(
        scheme=scheme,
        policy_version=policy.version,
        year=year,
        as_of=end,
        at=now,
        actor=actor.name,
        agency_id=actor.agency_id,
        listed=len(listed),
        rated=0,
        not_rated=0,
        skipped={},
    )
    session.add(run)
    await session.flush()
    rows: list[dict[str, Any]] = []
    grades: Counter[str] = Counter()
    skipped: dict[str, str] = {}
    for item in listed:
        if item.status in NOT_RATED:
            skipped[item.code] = NOT_RATED[item.status]
            continue
        outcome = evaluate(
            policy, facts[item.enterprise_id], period_start=start, period_end=end
        )
        grades[outcome.grade.value] += 1
        rows.append(_rating_row(run, item.enterprise_id, outcome, decided_by, now))
    for chunk in range(0, len(rows), CHUNK):
        await session.execute(insert(CreditRating), rows[chunk : chunk + CHUNK])
    run.rated, run.not_rated, run.skipped = len(rows), len(skipped), skipped
    await session.flush()
    return RunSummary(
        run.id,
        scheme,
        policy.version,
        year,
        end,
        len(listed),
        run.rated,
        run.not_rated,
        replaced,
        dict(grades),
    )


def _rating_row(
    run: EvaluationRun,
    enterprise_id: int,
    outcome: Outcome,
    decided_by: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "enterprise_id": enterprise_id,
        "scheme": run.scheme,
        "year": run.year,
        "grade": outcome.grade,
        "score": outcome.score,
        "status": RatingStatus.PRELIMINARY,
        "reason": f"评价 run {run.id}, {run.scheme.value} {run.policy_version}",
        "decided_by": decided_by,
        "decided_at": now,
        "valid_from": run.as_of,
        "valid_to": None,
        "basis": RatingBasis.EVALUATION,
        "run_id": run.id,
        "explanation": explanation(outcome),
        "veto": outcome.veto,
    }


def explanation(outcome: Outcome) -> list[dict[str, object]]:
    """The explanation as stored: each line that a record moved, with its
    records; the lines no record touched (indicators at their default score)
    are summed into one, so the points still add up to the score."""
    lines: list[dict[str, object]] = []
    quiet = [line for line in outcome.lines if not line.records]
    for line in outcome.lines:
        if line.records:
            lines.append(
                {
                    "rule": line.rule,
                    "label": line.label,
                    "points": str(line.points),
                    "records": [list(record) for record in line.records],
                    "note": line.note,
                }
            )
    if len(quiet) == 1:
        only = quiet[0]
        lines.append(
            {
                "rule": only.rule,
                "label": only.label,
                "points": str(only.points),
                "records": [],
                "note": only.note,
            }
        )
    elif quiet:
        lines.append(
            {
                "rule": "OTHERS",
                "label": "其余项目（无相关记录）",
                "points": str(sum((line.points for line in quiet), Decimal(0))),
                "records": [],
                "note": ", ".join(line.rule for line in quiet),
            }
        )
    return lines


async def _replace_earlier(
    session: AsyncSession,
    scheme: Scheme,
    year: int,
    ids: list[int],
    actor: Actor,
    now: datetime,
) -> int:
    """Revoke the earlier runs' grades of these enterprises; refuse when one is
    already in public notice (its objections may be running)."""
    earlier = select(
        CreditRating.id,
        CreditRating.enterprise_id,
        CreditRating.status,
        CreditRating.grade,
    ).where(
        CreditRating.scheme == scheme,
        CreditRating.year == year,
        CreditRating.run_id.isnot(None),
        CreditRating.status.in_((*REPLACEABLE, RatingStatus.IN_PUBLIC_NOTICE)),
    )
    wanted = set(ids)
    found = [
        row
        for row in (await session.execute(earlier)).all()
        if row.enterprise_id in wanted
    ]
    noticed = [row.id for row in found if row.status is RatingStatus.IN_PUBLIC_NOTICE]
    if noticed:
        raise BadUserInput(
            f"{len(noticed)} grade(s) of an earlier {scheme.value} {year} run are in "
            "public notice; finish or revoke them first",
            reason="NOTICE_RUNNING",
            field="year",
        )
    if not found:
        return 0
    revoked = [row.id for row in found]
    for chunk in range(0, len(revoked), CHUNK):
        part = revoked[chunk : chunk + CHUNK]
        await session.execute(
            update(CreditRating)
            .where(CreditRating.id.in_(part))
            .values(status=RatingStatus.REVOKED)
        )
    await session.execute(
        insert(RatingTransition),
        [
            {
                "rating_id": row.id,
                "from_status": row.status,
                "to_status": RatingStatus.REVOKED,
                "from_grade": row.grade,
                "to_grade": row.grade,
                "at": now,
                "actor": actor.name,
                "agency_id": actor.agency_id,
                "request_id": actor.request_id,
                "reason": "replaced by a new evaluation run",
            }
            for row in found
        ],
    )
    return len(revoked)
