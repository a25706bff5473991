"""Subsidy benchmark checks (信用基准评价) of application lists.

Each line is checked on its own: a malformed code, an enterprise the caller
cannot see or an unknown programme is that line's error, never the list's.
Lists are decided 1,000 lines at a time, with progress for the caller.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from auth.scopes import Purpose
from hub.enums import Eligibility
from hub.review.applications import Application, ReportLine
from hub.review.decide import ReviewError, review
from hub.review.rulebook import Programme
from hub.review.tables import Reason
from resolvers.context import Context, serialized
from resolvers.enterprise import require_credit_code
from resolvers.errors import BadUserInput
from resolvers.review import Reviewer, rulebook_of, stated_purpose_header
from resolvers.views import EnterpriseView

# A list is decided this many applications at a time.
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class EligibilityRow:
    """A checked application, or why it could not be checked."""

    application: Application
    code: str | None = None  # canonical
    enterprise: EnterpriseView | None = None
    programme: str | None = None
    outcome: Eligibility | None = None
    reasons: tuple[Reason[Eligibility], ...] = ()
    error_reason: str | None = None
    error_message: str | None = None


async def check_eligibility(
    reviewer: Reviewer,
    applications: Sequence[Application],
    *,
    as_of: date | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[EligibilityRow]:
    """Check every application; a bad line gets its error, never stops the list."""
    day = reviewer.as_of(as_of)
    rows: list[EligibilityRow] = []
    total = len(applications)
    for start in range(0, total, CHUNK):
        rows += await _chunk(reviewer, applications[start : start + CHUNK], day)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    return rows


async def _chunk(
    reviewer: Reviewer, applications: Sequence[Application], day: date
) -> list[EligibilityRow]:
    canonical: dict[int, str] = {}
    rows: dict[int, EligibilityRow] = {}
    for index, a in enumerate(applications):
        try:
            canonical[index] = require_credit_code(a.code, field="code")
        except BadUserInput as e:
            rows[index] = EligibilityRow(
                a, error_reason=e.reason, error_message=e.message
            )
    found = await reviewer.facts(sorted(set(canonical.values())), day)
    for index, code in canonical.items():
        a = applications[index]
        reviewed = found.get(code)
        if reviewed is None:
            rows[index] = EligibilityRow(
                a,
                code,
                error_reason="ENTERPRISE_NOT_FOUND",
                error_message=f"no enterprise with credit code {code} is visible to this client",
            )
            continue
        try:
            decided = review(
                reviewer.rulebook,
                reviewed.facts,
                purpose=Purpose.SUBSIDY_REVIEW,
                programme=a.programme,
                agency=reviewer.caller.kind,
            )
        except ReviewError as e:
            rows[index] = EligibilityRow(
                a,
                code,
                reviewed.enterprise,
                error_reason=e.reason,
                error_message=e.message,
            )
            continue
        assert decided.subsidy is not None
        assert decided.programme is not None
        rows[index] = EligibilityRow(
            a,
            code,
            reviewed.enterprise,
            decided.programme.code,
            decided.subsidy.outcome,
            decided.subsidy.reasons,
        )
    return [rows[i] for i in range(len(applications))]


def report_line(row: EligibilityRow) -> ReportLine:
    """What the report file says of a checked application."""
    return ReportLine(
        row.application,
        row.enterprise.name if row.enterprise else None,
        row.programme,
        row.outcome,
        row.reasons,
        f"{row.error_reason}: {row.error_message}" if row.error_reason else None,
    )


def list_programmes(ctx: Context, *, as_of: date | None) -> list[Programme]:
    """Subsidy programmes in effect on `as_of` (today), the default first."""
    policy = rulebook_of(ctx).subsidy_on(as_of or ctx.today)
    if policy is None:
        return []
    default = policy.programmes[policy.default_programme]
    return [default, *(p for p in policy.programmes.values() if p is not default)]


@serialized
async def check_applications(
    ctx: Context, applications: Sequence[Application], *, as_of: date | None
) -> list[EligibilityRow]:
    reviewer = Reviewer.of(ctx)
    reviewer.check_purpose(Purpose.SUBSIDY_REVIEW, stated_purpose_header(ctx))
    limit = ctx.settings.max_batch_codes
    if len(applications) > limit:
        raise BadUserInput(
            f"applications holds {len(applications)} lines; at most {limit} per request",
            reason="TOO_MANY_CODES",
            field="applications",
            maxCodes=limit,
        )
    rows = await check_eligibility(reviewer, applications, as_of=as_of)
    ctx.returned_codes.update(r.code for r in rows if r.enterprise and r.code)
    return rows
