"""Half-yearly red and black lists (红黑名单) for differential electricity and water prices."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import Grade, Scheme
from hub.models import CreditRating, District, Enterprise
from resolvers.access import enterprise_rule
from resolvers.context import Context, serialized
from resolvers.errors import BadUserInput
from resolvers.in_force import latest_in_force
from resolvers.rating import check_year
from resolvers.views import DistrictView

# Jiangsu takes the lists from the grades in force on the last day of each
# half-year and sends them to the price authority and the grid company early
# in January and July (shared/domain.md §5.2).
LISTED_GRADES = (Grade.RED, Grade.BLACK)


@dataclass(frozen=True, slots=True)
class RedBlackEntry:
    rating_id: int
    code: str
    name: str
    district: DistrictView
    grade: Grade
    valid_from: date


@dataclass(frozen=True, slots=True)
class RedBlackList:
    year: int
    half: int
    as_of: date
    scheme: Scheme
    entries: list[RedBlackEntry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.entries)


def half_year_end(year: int, half: int) -> date:
    """30 June (half 1) or 31 December (half 2) of `year`; BAD_USER_INPUT otherwise."""
    check_year(year, field="year")
    if half not in (1, 2):
        raise BadUserInput(
            f"half must be 1 (January-June) or 2 (July-December), got {half}",
            reason="INVALID_HALF",
            field="half",
        )
    return date(year, 6, 30) if half == 1 else date(year, 12, 31)


async def fetch_red_black(
    db: AsyncSession, caller: Caller, *, year: int, half: int, scheme: Scheme
) -> RedBlackList:
    """RED and BLACK enterprises on the half-year's last day, by district then code.

    One statement: the RED and BLACK published decisions covering the day
    that no later overlapping decision supersedes (the one that took effect
    last wins, as in rating_in_force).
    """
    as_of = half_year_end(year, half)
    r = CreditRating
    stmt = (
        select(
            r.id,
            Enterprise.code,
            Enterprise.name,
            District.code,
            District.name,
            District.name_en,
            r.grade,
            r.valid_from,
        )
        .join(Enterprise, Enterprise.id == r.enterprise_id)
        .join(District, District.code == Enterprise.district_code)
        .where(
            r.grade.in_(LISTED_GRADES),
            *latest_in_force(r, scheme=scheme, as_of=as_of),
            enterprise_rule(caller),
        )
        .order_by(Enterprise.district_code, Enterprise.code)
    )
    entries = [
        RedBlackEntry(
            rating_id=row[0],
            code=row[1],
            name=row[2],
            district=DistrictView(row[3], row[4], row[5]),
            grade=row[6],
            valid_from=row[7],
        )
        for row in await db.execute(stmt)
    ]
    return RedBlackList(year, half, as_of, scheme, entries)


@serialized
async def get_red_black_list(
    ctx: Context, *, year: int, half: int, scheme: Scheme | None
) -> RedBlackList:
    """The list under `scheme` (the official scheme by default), within the caller's view."""
    found = await fetch_red_black(
        ctx.db,
        ctx.caller,
        year=year,
        half=half,
        scheme=scheme or ctx.settings.official_scheme,
    )
    ctx.returned_codes.update(e.code for e in found.entries)
    return found
