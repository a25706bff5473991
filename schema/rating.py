"""The ratings list (信用评价结果)."""

import strawberry

from auth.scopes import Scope
from hub.enums import Grade, RatingStatus, Scheme
from resolvers import rating as resolve
from resolvers.views import RatingView
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.types import Info, Rating
from schema.wanted import connection_nodes, owner_datasets


@strawberry.input(description="Filter for `ratings`; all conditions must hold.")
class RatingFilter:
    enterprise_code: str | None = strawberry.field(
        default=None, description="Credit code of the enterprise."
    )
    district: str | None = strawberry.field(
        default=None, description="6-digit division code."
    )
    scheme: Scheme | None = None
    grade: Grade | None = None
    year: int | None = strawberry.field(
        default=None, description="Rated year (annual schemes)."
    )
    status: RatingStatus | None = None


@strawberry.type
class RatingQuery:
    @strawberry.field(
        graphql_type=Connection[Rating] | None,
        directives=requires(Scope.ratings_history),
        description="Grade decisions the caller may see, oldest first. "
        + PAGE_SIZE_NOTE,
    )
    async def ratings(
        self,
        info: Info,
        filter: RatingFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[RatingView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        owners = owner_datasets(connection_nodes(info.selected_fields))
        result = await resolve.list_ratings(
            info.context, filter or RatingFilter(), page, enterprise_wanted=owners
        )
        return Connection.from_page(result)
