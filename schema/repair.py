"""Credit repair (信用修复): applications, the bureau's steps, and their list."""

from datetime import date, datetime
from typing import Annotated

import strawberry

from auth.scopes import Scope
from hub.enums import Grade, RepairStatus, Scheme
from resolvers import repair as resolve
from resolvers.repair_rules import RepairRule
from schema.directives import requires
from schema.types import Info

# Registered here: the two enums exist only for repair.
strawberry.enum(
    RepairStatus,
    description=(
        "Where a repair application stands: APPLIED 已申请, DISTRICT_AGREED 区县同意, "
        "IN_PUBLIC_NOTICE 公示中, DONE 已修复, REFUSED 不予修复."
    ),
)
strawberry.enum(
    RepairRule,
    description=(
        "Why a repair was refused: NOT_REPAIRABLE_GRADE (only YELLOW, RED, BLACK), "
        "RATING_CHANGED (the grade applied for is no longer in force), "
        "ALREADY_APPLIED (another application is open), PENALTY_STILL_PUBLISHED "
        "(a penalty is inside its publication period), FALSIFIED_DATA (faked "
        "monitoring data within HUB_REPAIR_FALSIFICATION_DAYS), REPEAT_VIOLATION "
        "(a penalty or violation after the grade was decided), DISTRICT_DISAGREED, "
        "CITY_REFUSED."
    ),
)

ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Application id.")]


@strawberry.type(description="A credit repair application (信用修复申请).")
class RepairApplication:
    id: strawberry.ID
    enterprise_code: str = strawberry.field(description="统一社会信用代码.")
    enterprise_name: str
    district_code: str = strawberry.field(description="The enterprise's district.")
    scheme: Scheme
    rating_id: strawberry.ID = strawberry.field(description="The decision to repair.")
    grade: Grade = strawberry.field(description="Its grade.")
    status: RepairStatus
    applied_at: datetime = strawberry.field(description="When (UTC).")
    applicant: str = strawberry.field(description="The applying client.")
    evidence: str = strawberry.field(description="Rectification evidence (整改材料).")
    district_opinion: str | None = strawberry.field(description="区县意见.")
    decided_by: str | None = strawberry.field(description="The city's deciding client.")
    decision_reason: str | None = strawberry.field(
        description="The city's reason for approving or refusing."
    )
    notice_until: date | None = strawberry.field(
        description="Last day of the public notice (公示截止)."
    )
    refusal_rule: RepairRule | None
    refusal_reason: str | None
    result_rating_id: strawberry.ID | None = strawberry.field(
        description="The raised decision, once DONE."
    )
    result_grade: Grade | None


REPAIR = RepairApplication | None


@strawberry.type
class RepairQuery:
    @strawberry.field(
        graphql_type=list[RepairApplication] | None,
        directives=requires(Scope.repair_apply),
        description="Repair applications the caller may see (an enterprise: its own), "
        "newest first.",
    )
    async def repair_applications(
        self, info: Info, code: str | None = None, status: RepairStatus | None = None
    ) -> list[resolve.RepairView]:
        return await resolve.list_repair_applications(
            info.context, code=code, status=status
        )


@strawberry.type
class RepairMutation:
    @strawberry.mutation(
        graphql_type=REPAIR,
        directives=requires(Scope.repair_apply),
        description="Apply for repair of the grade in force today (scheme: the official "
        "one by default). The rules are checked at once; a refusal is kept and "
        "answered as status REFUSED with its rule.",
    )
    async def apply_for_repair(
        self, info: Info, code: str, evidence: str, scheme: Scheme | None = None
    ) -> resolve.RepairView:
        return await resolve.apply_for_repair(
            info.context, code=code, evidence=evidence, scheme=scheme
        )

    @strawberry.mutation(
        graphql_type=REPAIR,
        directives=requires(Scope.ratings_evaluate),
        description="The district's opinion on an APPLIED application: agreed, or "
        "refused (DISTRICT_DISAGREED).",
    )
    async def give_repair_opinion(
        self, info: Info, id: ID_ARG, agree: bool, opinion: str
    ) -> resolve.RepairView:
        return await resolve.give_repair_opinion(
            info.context, id=id, agree=agree, opinion=opinion
        )

    @strawberry.mutation(
        graphql_type=REPAIR,
        directives=requires(Scope.ratings_publish),
        description="The city's decision on a DISTRICT_AGREED application: public "
        "notice (HUB_REPAIR_NOTICE_DAYS), or refused (CITY_REFUSED). The rules "
        "are checked again first.",
    )
    async def decide_repair(
        self, info: Info, id: ID_ARG, approve: bool, reason: str
    ) -> resolve.RepairView:
        return await resolve.decide_repair(
            info.context, id=id, approve=approve, reason=reason
        )

    @strawberry.mutation(
        graphql_type=REPAIR,
        directives=requires(Scope.ratings_publish),
        description="After the notice: the rules again, then a new FINAL decision "
        "(basis REPAIR) raised HUB_REPAIR_LEVELS grades from today; the old one "
        "becomes REPAIRED, ending yesterday.",
    )
    async def complete_repair(self, info: Info, id: ID_ARG) -> resolve.RepairView:
        return await resolve.complete_repair(info.context, id=id)
