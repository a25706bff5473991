"""The risk assessments list (HJ 941-2018)."""

from datetime import date

import strawberry

from auth.scopes import Scope
from hub.enums import RiskLevel
from resolvers import risk as resolve
from resolvers.views import RiskView
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.types import Info, RiskAssessment
from schema.wanted import connection_nodes, owner_datasets


@strawberry.input(description="Filter for `riskAssessments`; all conditions must hold.")
class RiskFilter:
    enterprise_code: str | None = strawberry.field(
        default=None, description="Credit code of the enterprise."
    )
    district: str | None = strawberry.field(
        default=None, description="6-digit division code."
    )
    level: RiskLevel | None = strawberry.field(
        default=None, description="Overall level."
    )
    assessed_from: date | None = strawberry.field(
        default=None, description="Assessed on or after."
    )
    assessed_to: date | None = strawberry.field(
        default=None, description="Assessed on or before."
    )


@strawberry.type
class RiskQuery:
    @strawberry.field(
        graphql_type=Connection[RiskAssessment] | None,
        directives=requires(Scope.risk_read),
        description="Risk assessments the caller may see, oldest first. "
        + PAGE_SIZE_NOTE,
    )
    async def risk_assessments(
        self,
        info: Info,
        filter: RiskFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[RiskView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        owners = owner_datasets(connection_nodes(info.selected_fields))
        result = await resolve.list_risks(
            info.context, filter or RiskFilter(), page, enterprise_wanted=owners
        )
        return Connection.from_page(result)
