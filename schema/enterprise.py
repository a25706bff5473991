"""Enterprise lookups: one code, a batch of codes, a filtered list."""

import strawberry

from hub.enums import Grade, Scheme, SupervisionCategory
from resolvers import enterprise as resolve
from resolvers.views import EnterpriseView
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.types import Enterprise, Info
from schema.wanted import selected_datasets


@strawberry.input(description="Filter for `enterprises`; all conditions must hold.")
class EnterpriseFilter:
    district: str | None = strawberry.field(
        default=None,
        description="6-digit division code; a current district includes the abolished codes merged into it.",
    )
    grade: Grade | None = strawberry.field(
        default=None,
        description="Has this published grade: in `ratingYear` if given, else in force today.",
    )
    scheme: Scheme | None = strawberry.field(
        default=None, description="Grade decided under this scheme."
    )
    supervision_category: SupervisionCategory | None = None
    name_contains: str | None = strawberry.field(
        default=None,
        description="Substring of the name (trimmed; ASCII letters in any case; at "
        "most 100 characters, TEXT_TOO_LONG beyond), served by a trigram index.",
    )
    rating_year: int | None = strawberry.field(
        default=None, description="Has a published grade for this year."
    )


@strawberry.type
class EnterpriseQuery:
    @strawberry.field(
        graphql_type=Enterprise | None,
        description=(
            "The enterprise with this credit code (trimmed, case-insensitive), or null. "
            "A malformed code is BAD_USER_INPUT / INVALID_CREDIT_CODE."
        ),
    )
    async def enterprise(self, info: Info, code: str) -> EnterpriseView | None:
        wanted = selected_datasets(info)
        return await resolve.get_enterprise(info.context, code, wanted=wanted)

    @strawberry.field(
        graphql_type=list[Enterprise | None],
        description=(
            "Up to 1,000 enterprises by credit code, answered in input order with null "
            "for unknown codes (TOO_MANY_CODES beyond)."
        ),
    )
    async def enterprises_by_codes(
        self, info: Info, codes: list[str]
    ) -> list[EnterpriseView | None]:
        wanted = selected_datasets(info)
        return await resolve.get_enterprises_by_codes(
            info.context, codes, wanted=wanted
        )

    @strawberry.field(
        graphql_type=Connection[Enterprise],
        description="Enterprises matching the filter, in registration order. "
        + PAGE_SIZE_NOTE,
    )
    async def enterprises(
        self,
        info: Info,
        filter: EnterpriseFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[EnterpriseView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        wanted = selected_datasets(info, page=True)
        result = await resolve.list_enterprises(
            info.context, filter or EnterpriseFilter(), page, wanted=wanted
        )
        return Connection.from_page(result)
