"""Subsidy benchmark checks (信用基准评价): one applicant, or a list of them."""

from datetime import date

import strawberry

from auth.scopes import Purpose, Scope
from hub.enums import Eligibility
from hub.review.applications import Application
from resolvers import review as resolve, subsidy as resolve_subsidy
from schema.directives import list_size, requires
from schema.review import (
    REVIEW_NOTE,
    Measure,
    ReviewedEnterprise,
    ReviewReason,
    SubsidyProgramme,
    programme_of,
)
from schema.types import Info


@strawberry.type(
    description="The credit benchmark check (信用基准评价) of one enterprise for a "
    "subsidy programme."
)
class SubsidyCheck:
    enterprise: ReviewedEnterprise
    as_of: date
    programme: SubsidyProgramme
    outcome: Eligibility
    reasons: list[ReviewReason] = strawberry.field(directives=list_size(6))
    measures: list[Measure] = strawberry.field(directives=list_size(6))
    policy_version: str

    @classmethod
    def of(cls, result: resolve.ReviewResult) -> "SubsidyCheck":
        r = result.review
        assert r.subsidy is not None
        assert r.programme is not None
        return cls(
            enterprise=ReviewedEnterprise.of(result.enterprise),
            as_of=r.facts.as_of,
            programme=programme_of(r.programme),
            outcome=r.subsidy.outcome,
            reasons=[ReviewReason.of(x) for x in r.subsidy.reasons],
            measures=[Measure.of(m) for m in r.measures],
            policy_version=r.policy_version,
        )


@strawberry.input(description="One line of a subsidy application list.")
class SubsidyApplicationInput:
    code: str = strawberry.field(description="统一社会信用代码 of the applicant.")
    programme: str | None = strawberry.field(
        default=None, description="Programme code; the policy's default if omitted."
    )


@strawberry.type(description="Why a line of the list could not be checked.")
class RowError:
    reason: str
    message: str


@strawberry.type(description="One checked line of a subsidy application list.")
class SubsidyCheckRow:
    row: int = strawberry.field(description="1-based position in the list.")
    code: str = strawberry.field(description="The code as given.")
    enterprise: ReviewedEnterprise | None
    programme: str | None
    outcome: Eligibility | None = strawberry.field(description="Null on an error.")
    reasons: list[ReviewReason] = strawberry.field(directives=list_size(6))
    error: RowError | None

    @classmethod
    def of(cls, r: resolve_subsidy.EligibilityRow) -> "SubsidyCheckRow":
        return cls(
            row=r.application.row,
            code=r.application.code,
            enterprise=ReviewedEnterprise.of(r.enterprise) if r.enterprise else None,
            programme=r.programme,
            outcome=r.outcome,
            reasons=[ReviewReason.of(x) for x in r.reasons],
            error=RowError(reason=r.error_reason, message=r.error_message or "")
            if r.error_reason
            else None,
        )


@strawberry.type
class SubsidyQuery:
    @strawberry.field(
        description="Subsidy programmes in effect on asOf (today by default); the "
        "first is the default."
    )
    def subsidy_programmes(
        self, info: Info, as_of: date | None = None
    ) -> list[SubsidyProgramme]:
        found = resolve_subsidy.list_programmes(info.context, as_of=as_of)
        return [programme_of(p) for p in found]

    @strawberry.field(
        directives=requires(Scope.credit_review),
        description="The credit benchmark check (信用基准评价) of one enterprise for "
        "a subsidy programme (the default one if omitted), or null if the code is "
        "unknown or hidden." + REVIEW_NOTE,
    )
    async def subsidy_eligibility(
        self,
        info: Info,
        code: str,
        programme: str | None = None,
        as_of: date | None = None,
    ) -> SubsidyCheck | None:
        found = await resolve.get_credit_reviews(
            info.context,
            [code],
            purpose=Purpose.SUBSIDY_REVIEW,
            as_of=as_of,
            programme=programme,
            field="code",
        )
        return SubsidyCheck.of(found[0]) if found[0] else None

    @strawberry.field(
        directives=[
            *requires(Scope.credit_review),
            *list_size(slicing=("applications",)),
        ],
        description="The credit benchmark check (信用基准评价) of up to 1,000 "
        "subsidy applications: each line PASS, CONDITIONAL or FAIL with its "
        "reasons, or the error that kept it from being checked." + REVIEW_NOTE,
    )
    async def subsidy_eligibility_batch(
        self,
        info: Info,
        applications: list[SubsidyApplicationInput],
        as_of: date | None = None,
    ) -> list[SubsidyCheckRow] | None:
        rows = [
            Application(i + 1, a.code, a.programme) for i, a in enumerate(applications)
        ]
        found = await resolve_subsidy.check_applications(
            info.context, rows, as_of=as_of
        )
        return [SubsidyCheckRow.of(r) for r in found]
