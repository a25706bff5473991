"""The penalty decisions list (行政处罚, 双公示)."""

from datetime import date

import strawberry

from auth.scopes import Scope
from hub.enums import PenaltyCategory, PenaltyStatus
from resolvers import penalty as resolve
from resolvers.views import PenaltyView
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.types import Info, PenaltyDecision
from schema.wanted import connection_nodes, owner_datasets


@strawberry.input(
    description="Filter for `penaltyDecisions`; all conditions must hold."
)
class PenaltyFilter:
    enterprise_code: str | None = strawberry.field(
        default=None, description="Credit code of the enterprise."
    )
    district: str | None = strawberry.field(
        default=None, description="6-digit division code."
    )
    authority_code: str | None = strawberry.field(
        default=None, description="Credit code of the authority."
    )
    status: PenaltyStatus | None = None
    category: PenaltyCategory | None = None
    decided_from: date | None = strawberry.field(
        default=None, description="Decided on or after."
    )
    decided_to: date | None = strawberry.field(
        default=None, description="Decided on or before."
    )


@strawberry.type
class PenaltyQuery:
    @strawberry.field(
        graphql_type=Connection[PenaltyDecision] | None,
        directives=requires(Scope.penalties_read),
        description="Penalty decisions the caller may see, oldest first. "
        + PAGE_SIZE_NOTE,
    )
    async def penalty_decisions(
        self,
        info: Info,
        filter: PenaltyFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[PenaltyView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        owners = owner_datasets(connection_nodes(info.selected_fields))
        result = await resolve.list_penalties(
            info.context, filter or PenaltyFilter(), page, enterprise_wanted=owners
        )
        return Connection.from_page(result)
