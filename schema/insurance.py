"""Pollution-liability insurance enrollment by year (环责险投保)."""

import strawberry

from auth.scopes import Scope
from resolvers import insurance as resolve
from resolvers.views import EnrollmentView
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.selection import descend
from schema.types import Info, InsuranceEnrollment
from schema.wanted import connection_nodes, enterprise_datasets


@strawberry.input(
    description="Filter for `insuranceEnrollment`; all conditions must hold."
)
class EnrollmentFilter:
    district: str | None = strawberry.field(
        default=None, description="6-digit division code."
    )
    compulsory: bool | None = strawberry.field(
        default=None, description="On the compulsory list, or not."
    )
    insured: bool | None = strawberry.field(
        default=None, description="Held a policy in the year, or not."
    )


@strawberry.type
class InsuranceQuery:
    @strawberry.field(
        graphql_type=Connection[InsuranceEnrollment] | None,
        directives=requires(Scope.insurance_read),
        description=(
            "Enterprises on `year`'s compulsory-insurance list or insured during it, "
            "with their policies; `compulsory: true, insured: false` lists the gaps. "
            + PAGE_SIZE_NOTE
        ),
    )
    async def insurance_enrollment(
        self,
        info: Info,
        year: int,
        filter: EnrollmentFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[EnrollmentView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        wanted = enterprise_datasets(
            descend(connection_nodes(info.selected_fields), "enterprise")
        )
        result = await resolve.list_enrollment(
            info.context,
            year,
            filter or EnrollmentFilter(),
            page,
            enterprise_wanted=wanted,
        )
        return Connection.from_page(result)
