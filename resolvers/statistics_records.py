"""Statistics (统计) of records: penalties per month and category, and the
insurance coverage of the compulsory list; one GROUP BY statement each, through
the same row rules as resolvers/statistics.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    cast,
    exists,
    func,
    not_,
    select,
)

from hub.enums import PenaltyCategory
from hub.models import (
    CompulsoryInsurance,
    Enterprise,
    InsurancePolicy,
    PenaltyDecision,
)
from resolvers.access import AnySelect, penalty_rule
from resolvers.context import Context, serialized
from resolvers.errors import BadUserInput
from resolvers.insurance import covers_year
from resolvers.rating import check_year
from resolvers.statistics import (
    CURRENT,
    CURRENT_COLUMNS,
    MAX_UNINSURED,
    ZERO,
    StatisticsScope,
    by_current_district,
    district_of,
    month_of,
    month_range,
    months_between,
    visible,
)
from resolvers.views import DistrictView


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category: PenaltyCategory
    count: int
    fine_total: Decimal


@dataclass(frozen=True, slots=True)
class PenaltyMonth:
    month: str
    count: int
    fine_total: Decimal
    categories: list[CategoryCount]


@dataclass(frozen=True, slots=True)
class PenaltyStatistics:
    start: date
    end: date
    months: list[PenaltyMonth]

    @property
    def count(self) -> int:
        return sum(m.count for m in self.months)

    @property
    def fine_total(self) -> Decimal:
        return sum((m.fine_total for m in self.months), ZERO)

    @property
    def categories(self) -> list[CategoryCount]:
        """Each category's decisions over the whole range, in the law's order."""
        counts = dict.fromkeys(PenaltyCategory, 0)
        fines = dict.fromkeys(PenaltyCategory, ZERO)
        for m in self.months:
            for c in m.categories:
                counts[c.category] += c.count
                fines[c.category] += c.fine_total
        return [CategoryCount(c, counts[c], fines[c]) for c in counts if counts[c]]


@dataclass(frozen=True, slots=True)
class DistrictCoverage:
    district: DistrictView
    compulsory: int
    insured: int


@dataclass(frozen=True, slots=True)
class InsuranceCoverage:
    year: int
    districts: list[DistrictCoverage]
    scope: StatisticsScope = field(default_factory=StatisticsScope)

    @property
    def compulsory(self) -> int:
        return sum(d.compulsory for d in self.districts)

    @property
    def insured(self) -> int:
        return sum(d.insured for d in self.districts)


@dataclass(frozen=True, slots=True)
class UninsuredEnterprise:
    code: str
    name: str
    district: DistrictView


@serialized
async def penalty_statistics(
    ctx: Context, scope: StatisticsScope, *, start: date | None, end: date | None
) -> PenaltyStatistics:
    """Penalty decisions per month of decision: count and fines, in total and
    per category (a decision of two categories counts in both)."""
    start, end = month_range(start, end, today=ctx.today)
    p = PenaltyDecision
    month = month_of(ctx, p.decision_date).label("month")
    # categories is a JSON array of names; its text form is the same on both
    # databases (as the penaltyDecisions filter reads it).
    text = cast(p.categories, String)
    per_category = []
    for category in PenaltyCategory:
        has = text.like(f'%"{category.name}"%')
        per_category += [
            func.count(case((has, p.id))),
            func.sum(case((has, p.fine_amount))),
        ]
    stmt = (
        select(month, func.count(), func.sum(p.fine_amount), *per_category)
        .select_from(p)
        .join(Enterprise, Enterprise.id == p.enterprise_id)
        .where(
            penalty_rule(ctx.caller, ctx.today),
            p.decision_date >= start,
            p.decision_date <= end,
            *visible(ctx, scope),
        )
        .group_by(month)
    )
    found = {row[0]: _penalty_month(row) for row in await ctx.db.execute(stmt)}
    return PenaltyStatistics(
        start,
        end,
        [
            found.get(m) or PenaltyMonth(m, 0, ZERO, [])
            for m in months_between(start, end)
        ],
    )


def _penalty_month(row: Sequence[Any]) -> PenaltyMonth:
    categories = [
        CategoryCount(c, row[3 + 2 * i], _yuan(row[4 + 2 * i]))
        for i, c in enumerate(PenaltyCategory)
        if row[3 + 2 * i]
    ]
    return PenaltyMonth(row[0], row[1], _yuan(row[2]), categories)


def _yuan(total: Decimal | None) -> Decimal:
    """A sum of fines to the fen (0.00, not 0E-2)."""
    return ZERO if total is None else total.quantize(ZERO)


def _insured(year: int) -> ColumnElement[bool]:
    """A policy not surrendered covers some of the year (as insuranceEnrollment)."""
    return exists().where(
        InsurancePolicy.enterprise_id == CompulsoryInsurance.enterprise_id,
        covers_year(year),
    )


def _compulsory(ctx: Context, scope: StatisticsScope, year: int) -> AnySelect:
    """FROM the year's compulsory list, its enterprises and their districts."""
    return by_current_district(
        select()
        .select_from(CompulsoryInsurance)
        .join(Enterprise, Enterprise.id == CompulsoryInsurance.enterprise_id)
    ).where(CompulsoryInsurance.year == year, *visible(ctx, scope))


@serialized
async def insurance_coverage(
    ctx: Context, scope: StatisticsScope, *, year: int | None
) -> InsuranceCoverage:
    """Enterprises on the year's compulsory list and those insured, per district."""
    year = ctx.today.year if year is None else year
    check_year(year, field="year")
    stmt = (
        _compulsory(ctx, scope, year)
        .add_columns(
            *CURRENT_COLUMNS,
            func.count(),
            func.count(case((_insured(year), CompulsoryInsurance.enterprise_id))),
        )
        .group_by(*CURRENT_COLUMNS)
        .order_by(CURRENT.code)
    )
    rows = await ctx.db.execute(stmt)
    districts = [DistrictCoverage(district_of(row), row[3], row[4]) for row in rows]
    return InsuranceCoverage(year, districts, scope)


@serialized
async def list_uninsured(
    ctx: Context, coverage: InsuranceCoverage, *, first: int
) -> list[UninsuredEnterprise]:
    """The first `first` compulsory enterprises without cover, by district and code."""
    if not 0 <= first <= MAX_UNINSURED:
        raise BadUserInput(
            f"first must be between 0 and {MAX_UNINSURED}, got {first}",
            reason="PAGE_SIZE_EXCEEDED" if first > 0 else "INVALID_PAGE_SIZE",
            field="first",
        )
    stmt = (
        _compulsory(ctx, coverage.scope, coverage.year)
        .add_columns(*CURRENT_COLUMNS, Enterprise.code, Enterprise.name)
        .where(not_(_insured(coverage.year)))
        .order_by(CURRENT.code, Enterprise.code)
        .limit(first)
    )
    found = [
        UninsuredEnterprise(row[3], row[4], district_of(row))
        for row in await ctx.db.execute(stmt)
    ]
    ctx.returned_codes.update(e.code for e in found)
    return found
