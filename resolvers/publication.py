"""Publication (发布): review, public notice and finalisation of grades, in batches.

PRELIMINARY → REVIEWED → IN_PUBLIC_NOTICE → FINAL, each step by the city
bureau for listed ratings or a whole evaluation run. A batch moves whole or not
at all, every problem listed in `extensions.problems`; every change goes
through resolvers.transitions, so each is recorded with who, when and why.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import defer

from hub.enums import ObjectionStatus, RatingStatus as S, Scheme
from hub.models import CreditRating, EvaluationRun, Objection
from resolvers.access import (
    PUBLISHED_RATING_STATUSES,
    AnySelect,
    rating_rule,
    readable_datasets,
)
from resolvers.context import Context, writing
from resolvers.errors import BadUserInput, NotFound
from resolvers.transitions import Actor, transition

MAX_IDS = 1_000  # ratings named in one request
MAX_RUN = 100_000  # ratings of one run moved in one request
MAX_NOTICE_DAYS = 90
MAX_LISTED_PROBLEMS = 500
CHUNK = 1_000  # values per IN (...), well under SQLite's and asyncpg's limits
# The way to publication; with runId, ratings further along are left alone.
PIPELINE = (S.DRAFT, S.PRELIMINARY, S.REVIEWED, S.IN_PUBLIC_NOTICE, S.FINAL)

T = TypeVar("T")
Key = tuple[int, Scheme]  # an enterprise's grades under one scheme


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one rating of a batch cannot move."""

    rating_id: int
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    status: S  # where the ratings moved to
    changed: int
    notice_until: date | None = None
    superseded: int = 0  # earlier official grades whose validity was ended


@writing
async def review_ratings(
    ctx: Context, *, ids: Sequence[str] | None, run_id: int | None
) -> BatchOutcome:
    """复核: the city bureau confirms preliminary grades."""
    ratings = await select_batch(ctx, S.PRELIMINARY, ids=ids, run_id=run_id)
    actor = Actor.of(ctx.caller, ctx.request_id)
    for r in ratings:
        transition(
            ctx.db, r, to_status=S.REVIEWED, actor=actor, now=ctx.now, reason=None
        )
    await ctx.db.flush()
    return BatchOutcome(S.REVIEWED, len(ratings))


@writing
async def start_public_notice(
    ctx: Context, *, ids: Sequence[str] | None, run_id: int | None, days: int | None
) -> BatchOutcome:
    """公示: reviewed grades are shown to the public for `days` days from today."""
    days = ctx.settings.notice_days if days is None else days
    if not 1 <= days <= MAX_NOTICE_DAYS:
        raise BadUserInput(
            f"days must be 1 to {MAX_NOTICE_DAYS}, got {days}",
            reason="INVALID_NOTICE_DAYS",
            field="days",
        )
    ratings = await select_batch(ctx, S.REVIEWED, ids=ids, run_id=run_id)
    until = ctx.today + timedelta(days=days)
    actor = Actor.of(ctx.caller, ctx.request_id)
    why = f"public notice until {until}"
    for r in ratings:
        transition(
            ctx.db,
            r,
            to_status=S.IN_PUBLIC_NOTICE,
            actor=actor,
            now=ctx.now,
            reason=why,
        )
        r.notice_until = until
    await ctx.db.flush()
    return BatchOutcome(S.IN_PUBLIC_NOTICE, len(ratings), notice_until=until)


@writing
async def finalize_ratings(
    ctx: Context, *, ids: Sequence[str] | None, run_id: int | None
) -> BatchOutcome:
    """终评/发布: noticed grades become official from today.

    Only once the notice is over and no objection is open. The enterprise's
    official grade of the same scheme in force today or later ends yesterday,
    recorded as a transition too.
    """
    ratings = await select_batch(ctx, S.IN_PUBLIC_NOTICE, ids=ids, run_id=run_id)
    today = ctx.today
    previous = await previous_in_force(ctx, ratings)
    problems = [
        Problem(
            r.id,
            "NOTICE_NOT_OVER",
            f"rating {r.id} is in public notice until {r.notice_until}",
        )
        for r in ratings
        if r.notice_until is None or r.notice_until >= today
    ]
    problems += await objection_problems(ctx, ratings)
    problems += supersede_problems(ratings, previous, today)
    if problems:
        raise refused(problems, field="ids" if ids is not None else "runId")
    actor = Actor.of(ctx.caller, ctx.request_id)
    superseded = 0
    for r in ratings:
        for old in previous.get((r.enterprise_id, r.scheme), []):
            old.valid_to = today - timedelta(days=1)
            why = f"superseded by rating {r.id}"
            transition(
                ctx.db, old, to_status=old.status, actor=actor, now=ctx.now, reason=why
            )
            r.supersedes_id = old.id
            superseded += 1
        r.published_at, r.valid_from, r.valid_to = ctx.now, today, None
        transition(ctx.db, r, to_status=S.FINAL, actor=actor, now=ctx.now, reason=None)
    await ctx.db.flush()
    return BatchOutcome(S.FINAL, len(ratings), superseded=superseded)


async def select_batch(
    ctx: Context, source: S, *, ids: Sequence[str] | None, run_id: int | None
) -> list[CreditRating]:
    """The ratings a batch moves, locked; refused whole if any is not in `source`.

    `ids`: every listed rating must be in `source`. `runId`: the run's ratings
    in `source` move, those already past this step are left alone, and any not
    yet ready for it (earlier on the way) refuse the batch.
    """
    if (ids is None) == (run_id is None):
        raise BadUserInput(
            "Give either ids or runId.", reason="IDS_OR_RUN", field="ids"
        )
    if run_id is not None:
        return await _of_run(ctx, source, run_id)
    assert ids is not None
    if len(ids) > MAX_IDS:
        raise BadUserInput(
            f"{len(ids)} ids; one request moves at most {MAX_IDS} (or use runId)",
            reason="TOO_MANY_IDS",
            field="ids",
        )
    wanted = sorted({parse_id(i, field="ids") for i in ids})
    if not wanted:
        raise BadUserInput("Give at least one id.", reason="REQUIRED", field="ids")
    ratings = await lock_ratings(ctx, CreditRating.id.in_(wanted))
    missing = sorted(set(wanted) - {r.id for r in ratings})
    if missing:
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        raise NotFound(
            f"No rating {', '.join(map(str, missing[:10]))}{more}.",
            reason="RATING_NOT_FOUND",
            ids=[str(i) for i in missing],
        )
    _refuse_wrong_status(ratings, source, field="ids")
    return ratings


async def _of_run(ctx: Context, source: S, run_id: int) -> list[CreditRating]:
    if await ctx.db.get(EvaluationRun, run_id) is None:
        raise NotFound(f"No evaluation run {run_id}.", reason="RUN_NOT_FOUND")
    of_run = rating_rows(ctx).where(CreditRating.run_id == run_id)
    size = await ctx.db.scalar(select(func.count()).select_from(of_run.subquery()))
    if (size or 0) > MAX_RUN:
        raise BadUserInput(
            f"Run {run_id} has {size} ratings; one request moves at most {MAX_RUN}",
            reason="BATCH_TOO_LARGE",
            field="runId",
        )
    waiting = PIPELINE[: PIPELINE.index(source) + 1]
    ratings = await lock_ratings(
        ctx, CreditRating.run_id == run_id, CreditRating.status.in_(waiting)
    )
    _refuse_wrong_status(ratings, source, field="runId")
    return ratings


def _refuse_wrong_status(
    ratings: Sequence[CreditRating], source: S, *, field: str
) -> None:
    wrong = [
        Problem(
            r.id, "WRONG_STATUS", f"rating {r.id} is {r.status.name}, not {source.name}"
        )
        for r in ratings
        if r.status is not source
    ]
    if wrong:
        raise refused(wrong, field=field)


async def objection_problems(
    ctx: Context, ratings: Sequence[CreditRating]
) -> list[Problem]:
    """A grade with an open objection cannot become final."""
    open_counts: dict[int, int] = {}
    for chunk in chunked([r.id for r in ratings]):
        rows = await ctx.db.execute(
            select(Objection.rating_id, func.count())
            .where(
                Objection.rating_id.in_(chunk), Objection.status == ObjectionStatus.OPEN
            )
            .group_by(Objection.rating_id)
        )
        open_counts.update({rating_id: n for rating_id, n in rows})
    return [
        Problem(rid, "OPEN_OBJECTION", f"rating {rid} has {n} open objection(s)")
        for rid, n in sorted(open_counts.items())
    ]


async def previous_in_force(
    ctx: Context, ratings: Sequence[CreditRating]
) -> dict[Key, list[CreditRating]]:
    """Official grades of the batch's enterprises and schemes in force today or later.

    Not limited by the caller's row rules: finalising ends them all.
    """
    keys = {(r.enterprise_id, r.scheme) for r in ratings}
    found: dict[Key, list[CreditRating]] = {}
    for chunk in chunked(sorted({r.enterprise_id for r in ratings})):
        for old in await lock_ratings(
            ctx,
            CreditRating.enterprise_id.in_(chunk),
            CreditRating.status.in_(PUBLISHED_RATING_STATUSES),
            or_(CreditRating.valid_to.is_(None), CreditRating.valid_to >= ctx.today),
            readable=False,
        ):
            if (old.enterprise_id, old.scheme) in keys:
                found.setdefault((old.enterprise_id, old.scheme), []).append(old)
    return found


def supersede_problems(
    ratings: Sequence[CreditRating],
    previous: dict[Key, list[CreditRating]],
    today: date,
) -> list[Problem]:
    """Validity is by the day: a grade in force from today cannot end yesterday."""
    problems = []
    first_of: dict[Key, int] = {}
    for r in ratings:
        key = (r.enterprise_id, r.scheme)
        if key in first_of:
            why = f"ratings {first_of[key]} and {r.id} grade one enterprise under one scheme"
            problems.append(Problem(r.id, "SAME_ENTERPRISE_TWICE", why))
        first_of.setdefault(key, r.id)
        problems += [
            Problem(
                r.id,
                "PREVIOUS_GRADE_TOO_NEW",
                f"rating {old.id} of the same enterprise is in force from "
                f"{old.valid_from}; it can be superseded from the day after",
            )
            for old in previous.get(key, [])
            if old.valid_from >= today
        ]
    return problems


def refused(problems: Sequence[Problem], *, field: str) -> BadUserInput:
    """Nothing changes: the first problem's reason, every problem listed."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return BadUserInput(
        f"Nothing was changed: {first.message}{more}.",
        reason=first.reason,
        field=field,
        problems=[
            {"ratingId": str(p.rating_id), "reason": p.reason, "message": p.message}
            for p in problems[:MAX_LISTED_PROBLEMS]
        ],
        problemCount=len(problems),
    )


def parse_id(raw: str, *, field: str) -> int:
    """A record id as GraphQL sends it (an ID is a string), or INVALID_ID."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise BadUserInput(
            f"{field}: {raw[:40]!r} is not a record id",
            reason="INVALID_ID",
            field=field,
        )
    return int(raw)


def rating_rows(ctx: Context, *, readable: bool = True) -> AnySelect:
    """Ratings as ORM rows to change, through the caller's row rules if `readable`."""
    stmt: AnySelect = select(CreditRating).options(
        defer(CreditRating.explanation, raiseload=True)
    )
    if not readable:
        return stmt
    return readable_datasets(
        stmt,
        ctx.caller,
        rule=rating_rule(ctx.caller),
        enterprise_id=CreditRating.enterprise_id,
    )


async def lock_ratings(
    ctx: Context, *where: ColumnElement[bool], readable: bool = True
) -> list[CreditRating]:
    """Ratings to change, locked until the request commits (on PostgreSQL).

    The lock keeps two requests from moving one rating at once, e.g. a
    finalisation racing the resolution of an objection.
    """
    stmt = rating_rows(ctx, readable=readable).where(*where)
    return list(await ctx.db.scalars(stmt.order_by(CreditRating.id).with_for_update()))


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
