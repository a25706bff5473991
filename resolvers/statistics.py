"""Statistics (统计): grades by district, downgrades and repairs, penalties and
insurance coverage, each figure one GROUP BY statement through the row rules.

Every figure counts in SQL and reads back only its groups: a county bureau's
figures cover its district (resolvers/access.py enterprise_rule), and the
penalty figures see the penalties the caller may see (the public: inside their
publication window, not revoked). Grade figures count published decisions only
(FINAL, REPAIRED), for every caller: a grade in public notice is not yet a
grade. Districts are the current ones: an enterprise still recorded under an
abolished code (320202) counts in the district it merged into (320213).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import QueryableAttribute, aliased

from hub.enums import Grade, RatingBasis, Scheme, scheme_grades
from hub.models import (
    CreditRating,
    District,
    Enterprise,
)
from resolvers.access import (
    PUBLISHED_RATING_STATUSES,
    AnySelect,
    enterprise_rule,
    in_districts,
)
from resolvers.context import Context, serialized
from resolvers.enterprise import require_district
from resolvers.errors import BadUserInput
from resolvers.in_force import latest_in_force
from resolvers.one_trip import is_postgresql
from resolvers.rating import check_year
from resolvers.views import DistrictView

MAX_MONTHS = 120  # ten years of months: the longest range a figure covers
DEFAULT_MONTHS = 12  # the range when `from` is left out: a year up to `to`
MAX_UNINSURED = 1000
FIRST_YEAR, LAST_YEAR = 1990, 2100  # as resolvers.rating.check_year
ZERO = Decimal("0.00")
CHANGE_BASES = (RatingBasis.DOWNGRADE, RatingBasis.REPAIR)

# The enterprise's recorded division, and the current one it counts under.
_OWN = aliased(District, name="own_district")
CURRENT = aliased(District, name="current_district")
CURRENT_COLUMNS = (CURRENT.code, CURRENT.name, CURRENT.name_en)


@dataclass(frozen=True, slots=True)
class StatisticsScope:
    """What every figure of one `statistics(district)` is restricted to."""

    district: str | None = None


@dataclass(frozen=True, slots=True)
class GradeCount:
    grade: Grade
    count: int


@dataclass(frozen=True, slots=True)
class DistrictGrades:
    district: DistrictView
    grades: list[GradeCount]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.grades)


@dataclass(frozen=True, slots=True)
class GradeDistribution:
    scheme: Scheme
    year: int
    as_of: date
    districts: list[DistrictGrades]

    @property
    def grades(self) -> list[GradeCount]:
        """The whole city's (or district's) count of each grade."""
        known = (
            [g.grade for g in self.districts[0].grades]
            if self.districts
            else list(scheme_grades(self.scheme))
        )
        totals = dict.fromkeys(known, 0)
        for d in self.districts:
            for g in d.grades:
                totals[g.grade] += g.count
        return [GradeCount(g, n) for g, n in totals.items()]

    @property
    def total(self) -> int:
        return sum(d.total for d in self.districts)


@dataclass(frozen=True, slots=True)
class MonthChanges:
    month: str
    downgrades: int
    repairs: int


@dataclass(frozen=True, slots=True)
class RatingChanges:
    scheme: Scheme
    start: date
    end: date
    months: list[MonthChanges]

    @property
    def downgrades(self) -> int:
        return sum(m.downgrades for m in self.months)

    @property
    def repairs(self) -> int:
        return sum(m.repairs for m in self.months)


def statistics_scope(district: str | None) -> StatisticsScope:
    if district is None:
        return StatisticsScope()
    return StatisticsScope(require_district(district, field="district"))


def month_of(ctx: Context, day: QueryableAttribute[date]) -> ColumnElement[str]:
    """The month of a date column as YYYY-MM, on either database.

    The formats are inline literals, not parameters: PostgreSQL matches a
    GROUP BY expression to the select list by its text, and two parameters
    ($1, $2) would not match.
    """
    if is_postgresql(ctx):
        return func.to_char(day, literal_column("'YYYY-MM'"), type_=String)
    return func.strftime(literal_column("'%Y-%m'"), day, type_=String)


def check_date(day: date, *, field: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadUserInput(
            f"{field} must be a date in the years {FIRST_YEAR} to {LAST_YEAR}, got {day}",
            reason="INVALID_DATE",
            field=field,
        )


def month_range(
    start: date | None, end: date | None, *, today: date
) -> tuple[date, date]:
    """[from, to]: to defaults to today, from to the first day of the month a
    year before; at most MAX_MONTHS calendar months."""
    if start is not None:
        check_date(start, field="from")
    if end is not None:
        check_date(end, field="to")
    end = end or today
    if start is None:
        first = _add_months(end.year, end.month, 1 - DEFAULT_MONTHS)
        start = max(first, date(FIRST_YEAR, 1, 1))
    if end < start:
        raise BadUserInput(
            f"to ({end}) is before from ({start})",
            reason="INVALID_DATE_RANGE",
            field="to",
        )
    if len(months_between(start, end)) > MAX_MONTHS:
        raise BadUserInput(
            f"from {start} to {end} spans more than {MAX_MONTHS} months (ten years); "
            "ask for a shorter range",
            reason="RANGE_TOO_LONG",
            field="to",
            maxMonths=MAX_MONTHS,
        )
    return start, end


def months_between(start: date, end: date) -> list[str]:
    """Every month from start's to end's, as YYYY-MM."""
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    return [
        f"{d.year:04d}-{d.month:02d}"
        for d in (_add_months(start.year, start.month, i) for i in range(count))
    ]


def _add_months(year: int, month: int, months: int) -> date:
    index = year * 12 + month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _grades_of(scheme: Scheme, seen: Sequence[Grade]) -> list[Grade]:
    """The scheme's grades, and any other grade found, best first."""
    return [g for g in Grade if g in scheme_grades(scheme) or g in seen]


def visible(ctx: Context, scope: StatisticsScope) -> list[ColumnElement[bool]]:
    """The caller's enterprises (a county bureau: its district), within `scope`."""
    rules = [enterprise_rule(ctx.caller)]
    if scope.district is not None:
        rules.append(
            in_districts(Enterprise.district_code, frozenset({scope.district}))
        )
    return rules


def by_current_district(stmt: AnySelect) -> AnySelect:
    """Join an enterprise's district and the current district it counts under."""
    return stmt.join(_OWN, _OWN.code == Enterprise.district_code).join(
        CURRENT, CURRENT.code == func.coalesce(_OWN.successor_code, _OWN.code)
    )


def district_of(row: Sequence[Any]) -> DistrictView:
    return DistrictView(row[0], row[1], row[2])


def grade_day(year: int | None, *, today: date) -> tuple[int, date]:
    """The year and the day whose grades count: 31 December, or today."""
    if year is None:
        return today.year, today
    check_year(year, field="year")
    if year > today.year:
        raise BadUserInput(
            f"year {year} has not begun: grades are known up to today ({today})",
            reason="INVALID_YEAR",
            field="year",
        )
    return year, today if year == today.year else date(year, 12, 31)


@serialized
async def grade_distribution(
    ctx: Context, scope: StatisticsScope, *, year: int | None, scheme: Scheme | None
) -> GradeDistribution:
    """Published grades in force on the day, per current district and grade.

    Of overlapping decisions the one that took effect last counts, as in
    rating_in_force and the red and black lists.
    """
    year, as_of = grade_day(year, today=ctx.today)
    scheme = scheme or ctx.settings.official_scheme
    r = CreditRating
    stmt = by_current_district(
        select(*CURRENT_COLUMNS, r.grade, func.count()).join(
            Enterprise, Enterprise.id == r.enterprise_id
        )
    )
    stmt = stmt.where(
        *latest_in_force(r, scheme=scheme, as_of=as_of), *visible(ctx, scope)
    ).group_by(*CURRENT_COLUMNS, r.grade)
    rows = (await ctx.db.execute(stmt)).all()
    grades = _grades_of(scheme, [row[3] for row in rows])
    counts: dict[str, dict[Grade, int]] = {}
    districts: dict[str, DistrictView] = {}
    for row in rows:
        districts.setdefault(row[0], district_of(row))
        counts.setdefault(row[0], {})[row[3]] = row[4]
    return GradeDistribution(
        scheme,
        year,
        as_of,
        [
            DistrictGrades(
                districts[code], [GradeCount(g, counts[code].get(g, 0)) for g in grades]
            )
            for code in sorted(districts)
        ],
    )


@serialized
async def rating_changes(
    ctx: Context,
    scope: StatisticsScope,
    *,
    start: date | None,
    end: date | None,
    scheme: Scheme | None,
) -> RatingChanges:
    """Published downgrades and repairs per month of taking effect (valid_from)."""
    start, end = month_range(start, end, today=ctx.today)
    scheme = scheme or ctx.settings.official_scheme
    r = CreditRating
    month = month_of(ctx, r.valid_from).label("month")
    stmt = (
        select(
            month,
            func.count(case((r.basis == RatingBasis.DOWNGRADE, r.id))),
            func.count(case((r.basis == RatingBasis.REPAIR, r.id))),
        )
        .select_from(r)
        .join(Enterprise, Enterprise.id == r.enterprise_id)
        .where(
            r.scheme == scheme,
            r.status.in_(PUBLISHED_RATING_STATUSES),
            r.basis.in_(CHANGE_BASES),
            r.valid_from >= start,
            r.valid_from <= end,
            *visible(ctx, scope),
        )
        .group_by(month)
    )
    found = {row[0]: (row[1], row[2]) for row in await ctx.db.execute(stmt)}
    return RatingChanges(
        scheme,
        start,
        end,
        [MonthChanges(m, *found.get(m, (0, 0))) for m in months_between(start, end)],
    )
