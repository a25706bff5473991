"""Re-grading and its record: objections (异议), adjustments, the transition history.

Anyone may object to a grade in public notice; the city bureau rejects the
objection, or upholds it and the grade is re-scored and noticed again. Before
publication a bureau may adjust a grade by hand, saying why. Every such change
is a transition, which `list_transitions` shows within the row rules.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from hub.enums import Grade, ObjectionStatus, RatingStatus as S
from hub.models import Agency, CreditRating, Objection, RatingTransition
from resolvers.access import PUBLIC_RATING_STATUSES
from resolvers.context import Context, serialized, writing
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.publication import Problem, lock_ratings, parse_id, rating_rows, refused
from resolvers.transitions import Actor, transition

MAX_TEXT = 2_000
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class ObjectionView:
    id: int
    rating_id: int
    filed_at: datetime
    filer_name: str
    contact: str | None
    text: str
    status: ObjectionStatus
    resolution: str | None
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, o: Objection) -> "ObjectionView":
        return cls(
            o.id,
            o.rating_id,
            o.filed_at,
            o.filer_name,
            o.filer_contact,
            o.text,
            o.status,
            o.resolution,
            o.resolved_at,
            o.resolved_by,
        )


@dataclass(frozen=True, slots=True)
class TransitionView:
    id: int
    rating_id: int
    from_status: S | None
    to_status: S
    from_grade: Grade | None
    to_grade: Grade
    at: datetime
    actor: str
    agency_name: str | None
    request_id: str | None
    reason: str | None


@writing
async def file_objection(
    ctx: Context, rating_id: str, *, filer_name: str, contact: str, text: str
) -> ObjectionView:
    """异议: anyone, with a token or not, objects to a grade in public notice."""
    name = require_text(filer_name, field="filerName", max_length=MAX_NAME)
    reach = require_text(contact, field="contact", max_length=MAX_NAME)
    body = require_text(text, field="text", max_length=MAX_TEXT)
    rating = await get_rating(ctx, rating_id, field="ratingId")
    notice_until = rating.notice_until
    if (
        rating.status is not S.IN_PUBLIC_NOTICE
        or notice_until is None
        or ctx.today > notice_until
    ):
        raise BadUserInput(
            f"Rating {rating.id} is not in public notice; objections are taken "
            "only while it is.",
            reason="NOT_IN_NOTICE",
            field="ratingId",
        )
    objection = Objection(
        rating_id=rating.id,
        filed_at=ctx.now,
        filer_name=name,
        filer_contact=reach,
        filer_client_id=ctx.caller.client_id,
        text=body,
        status=ObjectionStatus.OPEN,
    )
    ctx.db.add(objection)
    await ctx.db.flush()
    ctx.returned_ids.add(rating.enterprise_id)
    return ObjectionView.of(objection)


@writing
async def resolve_objection(
    ctx: Context, objection_id: str, *, upheld: bool, reason: str, grade: Grade | None
) -> ObjectionView:
    """The bureau's answer: rejected, or upheld with the grade re-scored to
    `grade` and noticed again for the configured number of days."""
    why = require_text(reason, field="reason", max_length=MAX_TEXT)
    if upheld is (grade is None):
        raise BadUserInput(
            "Give the new grade when, and only when, the objection is upheld.",
            reason="GRADE_REQUIRED" if upheld else "GRADE_NOT_EXPECTED",
            field="grade",
        )
    oid = parse_id(objection_id, field="id")
    objection = await ctx.db.scalar(
        select(Objection).where(Objection.id == oid).with_for_update()
    )
    visible = (
        await lock_ratings(ctx, CreditRating.id == objection.rating_id)
        if objection is not None
        else []
    )
    if objection is None or not visible:
        raise NotFound(f"No objection {oid}.", reason="OBJECTION_NOT_FOUND", field="id")
    if objection.status is not ObjectionStatus.OPEN:
        raise BadUserInput(
            f"Objection {oid} is already {objection.status.name}.",
            reason="ALREADY_RESOLVED",
            field="id",
        )
    actor = Actor.of(ctx.caller, ctx.request_id)
    if grade is not None:
        rating = visible[0]
        if rating.status is not S.IN_PUBLIC_NOTICE:
            message = (
                f"rating {rating.id} is {rating.status.name}, not IN_PUBLIC_NOTICE"
            )
            raise refused([Problem(rating.id, "WRONG_STATUS", message)], field="id")
        transition(
            ctx.db,
            rating,
            to_status=S.IN_PUBLIC_NOTICE,
            to_grade=grade,
            actor=actor,
            now=ctx.now,
            reason=f"objection {oid} upheld: {why}",
        )
        rating.notice_until = ctx.today + timedelta(days=ctx.settings.notice_days)
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
    objection.resolution, objection.resolved_at = why, ctx.now
    objection.resolved_by = actor.name
    await ctx.db.flush()
    return ObjectionView.of(objection)


@serialized
async def list_objections(
    ctx: Context, rating_id: str, *, status: ObjectionStatus | None
) -> list[ObjectionView]:
    """Objections to one rating, oldest first; none for a rating not seen."""
    rating = await visible_rating(ctx, rating_id)
    if rating is None:
        return []
    stmt = select(Objection).where(Objection.rating_id == rating.id)
    if status is not None:
        stmt = stmt.where(Objection.status == status)
    found = await ctx.db.scalars(stmt.order_by(Objection.filed_at, Objection.id))
    return [ObjectionView.of(o) for o in found]


@writing
async def adjust_rating(
    ctx: Context, rating_id: str, *, grade: Grade, reason: str
) -> TransitionView:
    """调整: a bureau changes a grade before publication, saying why.

    A county bureau adjusts preliminary grades of its district (the row rules
    hide the others); a reviewed grade only the city bureau may adjust.
    """
    why = require_text(reason, field="reason", max_length=MAX_TEXT)
    rating = await get_rating(ctx, rating_id, field="id")
    if rating.status not in (S.PRELIMINARY, S.REVIEWED):
        message = (
            f"rating {rating.id} is {rating.status.name}, not PRELIMINARY or REVIEWED"
        )
        raise refused([Problem(rating.id, "WRONG_STATUS", message)], field="id")
    if rating.status is S.REVIEWED and ctx.caller.districts is not None:
        raise Forbidden(
            f"Rating {rating.id} is REVIEWED: only the city bureau adjusts it now.",
            reason="CITY_BUREAU_ONLY",
        )
    if grade is rating.grade:
        raise BadUserInput(
            f"Rating {rating.id} is already {grade.name}.",
            reason="SAME_GRADE",
            field="grade",
        )
    actor = Actor.of(ctx.caller, ctx.request_id)
    transition(
        ctx.db,
        rating,
        to_status=rating.status,
        to_grade=grade,
        actor=actor,
        now=ctx.now,
        reason=why,
    )
    await ctx.db.flush()
    ctx.returned_ids.add(rating.enterprise_id)
    return (await transitions_of(ctx, rating.id, public_only=False))[-1]


@serialized
async def list_transitions(ctx: Context, rating_id: str) -> list[TransitionView]:
    """The recorded changes of a rating the caller may see, oldest first.

    None for a rating it may not see, as for one that does not exist. Callers
    outside the bureau see only the steps into public states (notice, final,
    repaired), not the bureau's work before the notice.
    """
    rating = await visible_rating(ctx, rating_id)
    if rating is None:
        return []
    ctx.returned_ids.add(rating.enterprise_id)
    return await transitions_of(ctx, rating.id, public_only=ctx.caller.published_only)


async def transitions_of(
    ctx: Context, rating_id: int, *, public_only: bool
) -> list[TransitionView]:
    t = RatingTransition
    stmt = (
        select(
            t.id,
            t.rating_id,
            t.from_status,
            t.to_status,
            t.from_grade,
            t.to_grade,
            t.at,
            t.actor,
            Agency.name,
            t.request_id,
            t.reason,
        )
        .outerjoin(Agency, Agency.id == t.agency_id)
        .where(t.rating_id == rating_id)
    )
    if public_only:
        stmt = stmt.where(t.to_status.in_(PUBLIC_RATING_STATUSES))
    rows = await ctx.db.execute(stmt.order_by(t.at, t.id))
    return [TransitionView(*row) for row in rows]


async def get_rating(ctx: Context, rating_id: str, *, field: str) -> CreditRating:
    """One rating to change, locked; a hidden one is answered like a missing one."""
    rid = parse_id(rating_id, field=field)
    found = await lock_ratings(ctx, CreditRating.id == rid)
    if not found:
        raise NotFound(f"No rating {rid}.", reason="RATING_NOT_FOUND", field=field)
    return found[0]


async def visible_rating(ctx: Context, rating_id: str) -> CreditRating | None:
    rid = parse_id(rating_id, field="ratingId")
    return await ctx.db.scalar(rating_rows(ctx).where(CreditRating.id == rid))


def require_text(raw: str, *, field: str, max_length: int) -> str:
    """Text a person wrote: trimmed, not empty, not too long, without NUL."""
    text = raw.strip()
    if not text:
        raise BadUserInput(f"{field} is required.", reason="REQUIRED", field=field)
    if len(text) > max_length:
        raise BadUserInput(
            f"{field} has {len(text)} characters; at most {max_length}",
            reason="TOO_LONG",
            field=field,
        )
    if "\x00" in text:
        raise BadUserInput(
            f"{field} contains a NUL character", reason="INVALID_CHARACTER", field=field
        )
    return text
