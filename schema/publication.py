"""Publication (发布) and objections (异议): the grade workflow and its history."""

from datetime import date, datetime
from typing import Annotated

import strawberry

from auth.scopes import Scope
from hub import enums
from hub.enums import Grade, RatingStatus
from resolvers import objections as regrade, publication as publish
from resolvers.objections import ObjectionView, TransitionView
from resolvers.publication import BatchOutcome
from schema.directives import requires
from schema.types import Info

ObjectionStatus = strawberry.enum(
    enums.ObjectionStatus,
    description="State of an objection (异议): OPEN 待处理, UPHELD 成立 (the grade "
    "is re-scored and noticed again), REJECTED 不成立.",
)


@strawberry.type(
    description="One recorded change of a grade decision: status or grade, who, when, why."
)
class RatingTransition:
    rating_id: strawberry.ID
    from_status: RatingStatus | None = strawberry.field(
        description="Null for the decision's first state."
    )
    to_status: RatingStatus
    from_grade: Grade | None
    to_grade: Grade
    at: datetime = strawberry.field(description="When (UTC).")
    actor: str = strawberry.field(
        description="Who: client:<client id>, or cli:<user> for the bureau's staff."
    )
    agency_name: str | None = strawberry.field(description="The acting agency.")
    request_id: str | None = strawberry.field(
        description="The request that made the change (x-request-id, in the audit log)."
    )
    reason: str | None = strawberry.field(description="Why (原因).")


@strawberry.type(description="An objection (异议) to a grade in public notice.")
class Objection:
    id: strawberry.ID
    rating_id: strawberry.ID
    filed_at: datetime = strawberry.field(description="When it was filed (UTC).")
    filer_name: str = strawberry.field(description="Who objects. Personal data.")
    contact: str | None = strawberry.field(
        description="How to reach them. Personal data."
    )
    text: str
    status: enums.ObjectionStatus
    resolution: str | None = strawberry.field(
        description="The bureau's reasons (处理意见)."
    )
    resolved_at: datetime | None
    resolved_by: str | None


@strawberry.type(description="What a publication step did; nothing changes on error.")
class RatingBatchResult:
    status: RatingStatus = strawberry.field(description="Where the ratings moved.")
    changed: int = strawberry.field(description="Ratings moved.")
    notice_until: date | None = strawberry.field(
        description="Last day of the public notice (startPublicNotice)."
    )
    superseded: int = strawberry.field(
        description="Earlier official grades that ended yesterday (finalizeRatings)."
    )


IDS = "Ratings by id, at most 1,000; or give runId."
RUN_ID = (
    "Every rating of this evaluation run waiting for the step (at most 100,000); "
    "ratings already past it are left alone."
)
Ids = Annotated[list[strawberry.ID] | None, strawberry.argument(description=IDS)]
RunId = Annotated[int | None, strawberry.argument(description=RUN_ID)]
ALL_OR_NOTHING = (
    " All or nothing: a rating in another state refuses the batch "
    "(BAD_USER_INPUT / WRONG_STATUS, every one in extensions.problems)."
)


@strawberry.type
class PublicationMutation:
    @strawberry.mutation(
        graphql_type=RatingBatchResult | None,
        directives=requires(Scope.ratings_publish),
        description="复核: PRELIMINARY → REVIEWED." + ALL_OR_NOTHING,
    )
    async def review_ratings(
        self, info: Info, ids: Ids = None, run_id: RunId = None
    ) -> BatchOutcome:
        return await publish.review_ratings(info.context, ids=ids, run_id=run_id)

    @strawberry.mutation(
        graphql_type=RatingBatchResult | None,
        directives=requires(Scope.ratings_publish),
        description="公示: REVIEWED → IN_PUBLIC_NOTICE until today + `days` (the "
        "configured notice, 15 days, by default); the public sees them and may "
        "object." + ALL_OR_NOTHING,
    )
    async def start_public_notice(
        self, info: Info, ids: Ids = None, run_id: RunId = None, days: int | None = None
    ) -> BatchOutcome:
        ctx = info.context
        return await publish.start_public_notice(ctx, ids=ids, run_id=run_id, days=days)

    @strawberry.mutation(
        graphql_type=RatingBatchResult | None,
        directives=requires(Scope.ratings_publish),
        description="终评/发布: IN_PUBLIC_NOTICE → FINAL, in force from today, once the "
        "notice is over (NOTICE_NOT_OVER) and no objection is open (OPEN_OBJECTION); "
        "the enterprise's earlier official grade of the scheme ends yesterday."
        + ALL_OR_NOTHING,
    )
    async def finalize_ratings(
        self, info: Info, ids: Ids = None, run_id: RunId = None
    ) -> BatchOutcome:
        return await publish.finalize_ratings(info.context, ids=ids, run_id=run_id)

    @strawberry.mutation(
        graphql_type=RatingTransition | None,
        directives=requires(Scope.ratings_evaluate),
        description="Adjust a PRELIMINARY or REVIEWED grade by hand, saying why; kept "
        "as a transition. A county bureau adjusts preliminary grades of its district.",
    )
    async def adjust_rating(
        self, info: Info, id: strawberry.ID, grade: Grade, reason: str
    ) -> TransitionView:
        return await regrade.adjust_rating(info.context, id, grade=grade, reason=reason)

    @strawberry.mutation(
        graphql_type=Objection | None,
        description="异议: object to a grade while it is in public notice (no token "
        "needed; NOT_IN_NOTICE otherwise). Name and contact up to 200 characters, "
        "text up to 2,000.",
    )
    async def file_objection(
        self,
        info: Info,
        rating_id: strawberry.ID,
        filer_name: str,
        contact: str,
        text: str,
    ) -> ObjectionView:
        return await regrade.file_objection(
            info.context, rating_id, filer_name=filer_name, contact=contact, text=text
        )

    @strawberry.mutation(
        graphql_type=Objection | None,
        directives=requires(Scope.ratings_publish),
        description="Answer an open objection: rejected, or upheld with the new "
        "`grade` (required then), and the grade is noticed again.",
    )
    async def resolve_objection(
        self,
        info: Info,
        id: strawberry.ID,
        upheld: bool,
        reason: str,
        grade: Grade | None = None,
    ) -> ObjectionView:
        return await regrade.resolve_objection(
            info.context, id, upheld=upheld, reason=reason, grade=grade
        )


@strawberry.type
class PublicationQuery:
    @strawberry.field(
        graphql_type=list[RatingTransition] | None,
        directives=requires(Scope.ratings_history),
        description="The recorded changes of a rating, oldest first; empty for a "
        "rating the caller may not see. Outside the bureau only the steps into "
        "public states (notice, final, repaired).",
    )
    async def rating_transitions(
        self, info: Info, rating_id: strawberry.ID
    ) -> list[TransitionView]:
        return await regrade.list_transitions(info.context, rating_id)

    @strawberry.field(
        graphql_type=list[Objection] | None,
        directives=requires(Scope.ratings_publish),
        description="Objections to a rating, oldest first (empty for an unknown one).",
    )
    async def objections(
        self,
        info: Info,
        rating_id: strawberry.ID,
        status: enums.ObjectionStatus | None = None,
    ) -> list[ObjectionView]:
        return await regrade.list_objections(info.context, rating_id, status=status)
