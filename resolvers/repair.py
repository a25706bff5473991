"""Credit repair (信用修复): apply, district opinion, city decision, notice, new grade."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from hub.enums import Grade, RatingBasis, RatingStatus, RepairStatus, Scheme
from hub.models import CreditRating, Enterprise, RepairApplication
from resolvers.access import AnySelect, enterprise_rule
from resolvers.context import Context, serialized, writing
from resolvers.enterprise import require_credit_code
from resolvers.errors import BadUserInput, NotFound
from resolvers.repair_rules import (
    Refusal,
    RepairRule,
    first_refusal,
    raised_grade,
    rating_in_force,
    recheck,
)
from resolvers.transitions import Actor, transition

# A refusal, by a rule or by a bureau, is a result: the application is kept as
# REFUSED with its rule and reason. Errors (BAD_USER_INPUT, NOT_FOUND) answer
# requests that cannot be acted on, and write nothing.
MAX_TEXT = 5000
_Result = aliased(CreditRating)


@dataclass(frozen=True, slots=True)
class RepairView:
    id: int
    enterprise_code: str
    enterprise_name: str
    district_code: str
    scheme: Scheme
    rating_id: int
    grade: Grade
    status: RepairStatus
    applied_at: datetime
    applicant: str
    evidence: str
    district_opinion: str | None
    decided_by: str | None
    decision_reason: str | None
    notice_until: date | None
    refusal_rule: RepairRule | None
    refusal_reason: str | None
    result_rating_id: int | None
    result_grade: Grade | None


def _select_views(ctx: Context) -> AnySelect:
    a = RepairApplication
    return (
        select(
            a.id,
            Enterprise.code.label("enterprise_code"),
            Enterprise.name.label("enterprise_name"),
            Enterprise.district_code,
            CreditRating.scheme,
            a.rating_id,
            CreditRating.grade,
            a.status,
            a.applied_at,
            a.applicant,
            a.evidence,
            a.district_opinion,
            a.decided_by,
            a.decision_reason,
            a.notice_until,
            a.refusal_rule,
            a.refusal_reason,
            a.result_rating_id,
            _Result.grade.label("result_grade"),
        )
        .join(Enterprise, Enterprise.id == a.enterprise_id)
        .join(CreditRating, CreditRating.id == a.rating_id)
        .outerjoin(_Result, _Result.id == a.result_rating_id)
        .where(enterprise_rule(ctx.caller))
    )


def _view(row: Any) -> RepairView:
    values = dict(row._mapping)
    rule = values["refusal_rule"]
    values["refusal_rule"] = RepairRule(rule) if rule else None
    return RepairView(**values)


@serialized
async def list_repair_applications(
    ctx: Context, *, code: str | None, status: RepairStatus | None
) -> list[RepairView]:
    """Applications the caller may see (an enterprise: its own), newest first."""
    stmt = _select_views(ctx)
    if code is not None:
        stmt = stmt.where(Enterprise.code == require_credit_code(code, field="code"))
    if status is not None:
        stmt = stmt.where(RepairApplication.status == status)
    rows = await ctx.db.execute(
        stmt.order_by(RepairApplication.applied_at.desc(), RepairApplication.id.desc())
    )
    views = [_view(r) for r in rows]
    ctx.returned_codes.update(v.enterprise_code for v in views)
    return views


@writing
async def apply_for_repair(
    ctx: Context, *, code: str, evidence: str, scheme: Scheme | None
) -> RepairView:
    """Apply for repair of the grade in force today; the rules are checked at once."""
    canonical = require_credit_code(code, field="code")
    evidence = _required_text(evidence, field="evidence")
    enterprise = await ctx.db.scalar(
        select(Enterprise)
        .where(Enterprise.code == canonical, enterprise_rule(ctx.caller))
        .with_for_update()  # one open application per enterprise (PostgreSQL)
    )
    if enterprise is None:
        raise NotFound(
            f"No enterprise with credit code {canonical}.", reason="UNKNOWN_ENTERPRISE"
        )
    scheme = scheme or ctx.settings.official_scheme
    rating = await rating_in_force(
        ctx.db, enterprise_id=enterprise.id, scheme=scheme, on=ctx.today
    )
    if rating is None:
        raise BadUserInput(
            f"{canonical} has no published {scheme.value} grade in force today; "
            "there is nothing to repair.",
            reason=RepairRule.NOT_REPAIRABLE_GRADE.value,
            field="code",
        )
    application = RepairApplication(
        enterprise_id=enterprise.id,
        rating_id=rating.id,
        applied_at=ctx.now,
        applicant=_actor(ctx).name,
        evidence=evidence,
        status=RepairStatus.APPLIED,
    )
    refusal = await first_refusal(
        ctx.db, rating, today=ctx.today, settings=ctx.settings
    )
    if refusal is not None:
        _refuse(application, refusal)
    ctx.db.add(application)
    await ctx.db.flush()
    return await _reread(ctx, application.id)


@writing
async def give_repair_opinion(
    ctx: Context, *, id: str, agree: bool, opinion: str
) -> RepairView:
    """The district bureau's opinion (区县意见) on an application."""
    opinion = _required_text(opinion, field="opinion")
    application = await _open(ctx, id, RepairStatus.APPLIED)
    application.district_opinion = opinion
    if agree:
        application.status = RepairStatus.DISTRICT_AGREED
    else:
        _refuse(application, Refusal(RepairRule.DISTRICT_DISAGREED, opinion))
    await ctx.db.flush()
    return await _reread(ctx, application.id)


@writing
async def decide_repair(
    ctx: Context, *, id: str, approve: bool, reason: str
) -> RepairView:
    """The city's decision: public notice (公示) of the repair, or refusal.

    The rules are checked again first: a penalty recorded since the
    application refuses it here rather than after the notice.
    """
    reason = _required_text(reason, field="reason")
    application = await _open(ctx, id, RepairStatus.DISTRICT_AGREED)
    application.decided_by = _actor(ctx).name
    application.decision_reason = reason
    refusal = (
        await recheck(ctx.db, application, today=ctx.today, settings=ctx.settings)
        if approve
        else Refusal(RepairRule.CITY_REFUSED, reason)
    )
    if refusal is not None:
        _refuse(application, refusal)
    else:
        application.status = RepairStatus.IN_PUBLIC_NOTICE
        application.notice_until = ctx.today + timedelta(
            days=ctx.settings.repair_notice_days
        )
    await ctx.db.flush()
    return await _reread(ctx, application.id)


@writing
async def complete_repair(ctx: Context, *, id: str) -> RepairView:
    """After the notice: the grade rises; the old decision becomes REPAIRED."""
    application = await _open(ctx, id, RepairStatus.IN_PUBLIC_NOTICE)
    assert application.notice_until is not None
    if ctx.today <= application.notice_until:
        raise BadUserInput(
            f"The public notice runs until {application.notice_until.isoformat()}; "
            "complete the repair after that day.",
            reason="NOTICE_NOT_OVER",
            field="id",
            noticeUntil=application.notice_until.isoformat(),
        )
    refusal = await recheck(ctx.db, application, today=ctx.today, settings=ctx.settings)
    if refusal is not None:
        _refuse(application, refusal)
    else:
        old = await ctx.db.get_one(CreditRating, application.rating_id)
        application.result_rating_id = await _raise(ctx, application, old)
        application.status = RepairStatus.DONE
    await ctx.db.flush()
    return await _reread(ctx, application.id)


async def _raise(
    ctx: Context, application: RepairApplication, old: CreditRating
) -> int:
    """The new, raised decision; the old one ends yesterday as REPAIRED."""
    actor = _actor(ctx)
    grade = raised_grade(
        old.grade, scheme=old.scheme, levels=ctx.settings.repair_levels
    )
    cited = f"信用修复 (credit repair) application {application.id}"
    new = CreditRating(
        enterprise_id=old.enterprise_id,
        scheme=old.scheme,
        year=old.year,
        grade=grade,
        score=None,
        status=RatingStatus.FINAL,
        reason=f"{cited}: {old.grade.value} → {grade.value}, replacing decision {old.id}",
        decided_by=(ctx.caller.agency_name or actor.name)[:100],
        decided_at=ctx.now,
        published_at=ctx.now,
        valid_from=ctx.today,
        valid_to=old.valid_to,
        basis=RatingBasis.REPAIR,
        supersedes_id=old.id,
    )
    ctx.db.add(new)
    await ctx.db.flush()
    transition(
        ctx.db,
        new,
        to_status=RatingStatus.FINAL,
        actor=actor,
        now=ctx.now,
        reason=new.reason,
        initial=True,
    )
    old.valid_to = ctx.today - timedelta(days=1)
    transition(
        ctx.db,
        old,
        to_status=RatingStatus.REPAIRED,
        actor=actor,
        now=ctx.now,
        reason=f"{cited}: replaced by decision {new.id} from {ctx.today.isoformat()}",
    )
    return new.id


async def _open(ctx: Context, id: str, expected: RepairStatus) -> RepairApplication:
    """The application, if the caller's jurisdiction covers it, in `expected` state."""
    application = (
        await ctx.db.scalar(
            select(RepairApplication)
            .join(Enterprise, Enterprise.id == RepairApplication.enterprise_id)
            .where(RepairApplication.id == int(id), enterprise_rule(ctx.caller))
            .with_for_update(of=RepairApplication)
        )
        if id.isascii() and id.isdigit() and len(id) < 10
        else None
    )
    if application is None:
        raise NotFound(
            f"No repair application {id}.", reason="UNKNOWN_REPAIR_APPLICATION"
        )
    if application.status is not expected:
        raise BadUserInput(
            f"Repair application {id} is {application.status.value}; this step "
            f"needs it {expected.value}.",
            reason="WRONG_STATUS",
            field="id",
            status=application.status.value,
        )
    return application


async def _reread(ctx: Context, application_id: int) -> RepairView:
    row = (
        await ctx.db.execute(
            _select_views(ctx).where(RepairApplication.id == application_id)
        )
    ).one()
    view = _view(row)
    ctx.returned_codes.add(view.enterprise_code)
    return view


def _refuse(application: RepairApplication, refusal: Refusal) -> None:
    application.status = RepairStatus.REFUSED
    application.refusal_rule = refusal.rule.value
    application.refusal_reason = refusal.reason


def _required_text(value: str, *, field: str) -> str:
    value = value.strip()
    if not value:
        raise BadUserInput(f"{field} is required.", reason="REQUIRED", field=field)
    if len(value) > MAX_TEXT:
        raise BadUserInput(
            f"{field} is {len(value)} characters long; at most {MAX_TEXT} are allowed.",
            reason="TOO_LONG",
            field=field,
        )
    return value


def _actor(ctx: Context) -> Actor:
    return Actor.of(ctx.caller, ctx.request_id)
