"""The half-yearly red and black lists (红黑名单), public like the grades."""

from datetime import date

import strawberry

from auth.scopes import Scope
from hub.enums import Grade, Scheme
from resolvers import red_black as resolve
from schema.directives import requires
from schema.types import District, Info


@strawberry.type(description="An enterprise on the red or black list.")
class RedBlackEntry:
    rating_id: strawberry.ID = strawberry.field(
        description="The decision in force on the list's day."
    )
    code: str = strawberry.field(description="统一社会信用代码.")
    name: str = strawberry.field(description="企业名称.")
    district: District
    grade: Grade = strawberry.field(description="RED or BLACK.")
    valid_from: date = strawberry.field(description="生效日期 of the decision.")


@strawberry.type(
    description="RED and BLACK enterprises on a half-year's last day (差别电价、水价)."
)
class RedBlackList:
    year: int
    half: int = strawberry.field(description="1: January-June, 2: July-December.")
    as_of: date = strawberry.field(description="30 June or 31 December.")
    scheme: Scheme
    count: int
    entries: list[RedBlackEntry] = strawberry.field(
        description="By district code, then credit code."
    )


@strawberry.type
class RedBlackQuery:
    @strawberry.field(
        graphql_type=RedBlackList | None,
        directives=requires(Scope.ratings_read),
        description="The enterprises whose published grade under `scheme` (the "
        "official one by default) in force on 30 June (half 1) or 31 December "
        "(half 2) is RED or BLACK; of overlapping decisions the one that took "
        "effect last counts.",
    )
    async def red_black_list(
        self, info: Info, year: int, half: int, scheme: Scheme | None = None
    ) -> resolve.RedBlackList:
        return await resolve.get_red_black_list(
            info.context, year=year, half=half, scheme=scheme
        )
