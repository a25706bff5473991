"""Statistics (统计): the dashboard's figures as aggregates, for regulators' own dashboards."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from auth.scopes import Scope
from hub.enums import Grade, PenaltyCategory, Scheme
from resolvers import statistics as resolve, statistics_records as records
from schema.directives import list_size, requires, requires_any
from schema.types import District, Info

MONTHS_NOTE = (
    "`from` and `to` are dates (both included): `to` defaults to today, `from` "
    "to the first day of the month eleven months before `to`'s; at most 120 "
    "months (RANGE_TOO_LONG)."
)
FINE_NOTE = "Fines in yuan (罚款金额, 元)."


@strawberry.type(description="How many enterprises hold a grade.")
class GradeCount:
    grade: Grade
    count: int


@strawberry.type(description="The grades of one district's enterprises.")
class DistrictGrades:
    district: District = strawberry.field(
        description="The current district (abolished codes count in their successor)."
    )
    total: int
    grades: list[GradeCount] = strawberry.field(
        description="Every grade of the scheme, best first, zeros included.",
        directives=list_size(5),
    )


@strawberry.type(
    description="Published grades (FINAL, REPAIRED) in force on a day, by district and grade (等级分布)."
)
class GradeDistribution:
    scheme: Scheme
    year: int
    as_of: date = strawberry.field(
        description="31 December of `year`, or today in the current year."
    )
    total: int = strawberry.field(description="Enterprises with a grade in force.")
    grades: list[GradeCount] = strawberry.field(
        description="Totals over the districts, best first.", directives=list_size(5)
    )
    districts: list[DistrictGrades] = strawberry.field(
        description="Districts with at least one grade, by code.",
        directives=list_size(8),
    )


@strawberry.type(description="Downgrades and repairs that took effect in one month.")
class MonthChanges:
    month: str = strawberry.field(description="YYYY-MM.")
    downgrades: int = strawberry.field(description="Dynamic downgrades (动态降级).")
    repairs: int = strawberry.field(description="Grades raised by repair (信用修复).")


@strawberry.type(
    description="Published downgrade and repair decisions per month in which they took effect."
)
class RatingChanges:
    scheme: Scheme
    start: date = strawberry.field(name="from")
    end: date = strawberry.field(name="to")
    downgrades: int
    repairs: int
    months: list[MonthChanges] = strawberry.field(
        description="Every month of the range, oldest first, zeros included.",
        directives=list_size(resolve.MAX_MONTHS),
    )


@strawberry.type(description="Penalty decisions of one category (处罚类别).")
class PenaltyCategoryCount:
    category: PenaltyCategory
    count: int
    fine_total: Decimal | None = strawberry.field(
        description=FINE_NOTE, directives=requires(Scope.penalties_detail)
    )


@strawberry.type(description="Penalty decisions dated in one month.")
class PenaltyMonth:
    month: str = strawberry.field(description="YYYY-MM.")
    count: int
    fine_total: Decimal | None = strawberry.field(
        description=FINE_NOTE, directives=requires(Scope.penalties_detail)
    )
    categories: list[PenaltyCategoryCount] = strawberry.field(
        description="Categories with at least one decision; a decision of two "
        "categories counts in both.",
        directives=list_size(len(PenaltyCategory)),
    )


@strawberry.type(
    description="Penalty decisions the caller may see (the public: inside their "
    "publication window, not revoked) by month of decision and category."
)
class PenaltyStatistics:
    start: date = strawberry.field(name="from")
    end: date = strawberry.field(name="to")
    count: int
    fine_total: Decimal | None = strawberry.field(
        description=FINE_NOTE, directives=requires(Scope.penalties_detail)
    )
    categories: list[PenaltyCategoryCount] = strawberry.field(
        description="Totals over the range, in the order of the law (art. 9).",
        directives=list_size(len(PenaltyCategory)),
    )
    months: list[PenaltyMonth] = strawberry.field(
        description="Every month of the range, oldest first, zeros included.",
        directives=list_size(resolve.MAX_MONTHS),
    )


@strawberry.type(description="A compulsory enterprise without cover in the year.")
class UninsuredEnterprise:
    code: str = strawberry.field(description="统一社会信用代码.")
    name: str = strawberry.field(description="企业名称.")
    district: District


@strawberry.type(description="Insurance coverage of one district's compulsory list.")
class DistrictCoverage:
    district: District
    compulsory: int = strawberry.field(description="On the compulsory list.")
    insured: int = strawberry.field(description="Of those, insured in the year.")


@strawberry.type(
    description="Coverage of the compulsory-insurance list (应投保名单) of a year: "
    "insured means a policy, not surrendered, covering some of the year."
)
class InsuranceCoverage:
    year: int
    compulsory: int = strawberry.field(description="On the compulsory list.")
    insured: int = strawberry.field(description="Of those, insured in the year.")
    districts: list[DistrictCoverage] = strawberry.field(
        description="Districts with compulsory enterprises, by code.",
        directives=list_size(8),
    )

    @strawberry.field(
        graphql_type=list[UninsuredEnterprise] | None,
        description="The first `first` (0 to 1,000) compulsory enterprises without "
        "cover, by district and credit code. The whole list, paged: "
        "insuranceEnrollment(year, filter: {compulsory: true, insured: false}).",
        directives=requires(Scope.insurance_read),
    )
    @staticmethod
    async def uninsured(
        parent: strawberry.Parent[records.InsuranceCoverage],
        info: Info,
        first: int = 100,
    ) -> list[records.UninsuredEnterprise]:
        return await records.list_uninsured(info.context, parent, first=first)


@strawberry.type(
    description="Figures over the caller's enterprises (a county bureau: its "
    "district), optionally of one district; each figure is one aggregate query."
)
class Statistics:
    @strawberry.field(
        graphql_type=GradeDistribution | None,
        description="Published grades under `scheme` (the official one by default) "
        "in force on 31 December of `year`, or today for the current year (the "
        "default); of overlapping decisions the one that took effect last counts.",
        directives=requires(Scope.ratings_read),
    )
    @staticmethod
    async def grade_distribution(
        parent: strawberry.Parent[resolve.StatisticsScope],
        info: Info,
        year: int | None = None,
        scheme: Scheme | None = None,
    ) -> resolve.GradeDistribution:
        return await resolve.grade_distribution(
            info.context, parent, year=year, scheme=scheme
        )

    @strawberry.field(
        graphql_type=RatingChanges | None,
        description="Downgrades and repairs under `scheme` (the official one by "
        "default) by the month they took effect. " + MONTHS_NOTE,
        directives=requires(Scope.ratings_history),
    )
    @staticmethod
    async def rating_changes(
        parent: strawberry.Parent[resolve.StatisticsScope],
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        scheme: Scheme | None = None,
    ) -> resolve.RatingChanges:
        return await resolve.rating_changes(
            info.context, parent, start=from_, end=to, scheme=scheme
        )

    @strawberry.field(
        graphql_type=PenaltyStatistics | None,
        description="Penalty decisions by month of decision and category; fine "
        "totals need penalties:detail. " + MONTHS_NOTE,
        directives=requires(Scope.penalties_read),
    )
    @staticmethod
    async def penalties(
        parent: strawberry.Parent[resolve.StatisticsScope],
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> records.PenaltyStatistics:
        return await records.penalty_statistics(
            info.context, parent, start=from_, end=to
        )

    @strawberry.field(
        graphql_type=InsuranceCoverage | None,
        description="The compulsory list of `year` (the current year by default) "
        "and how much of it is insured: counts are public, the enterprises "
        "without cover need insurance:read.",
    )
    @staticmethod
    async def insurance_coverage(
        parent: strawberry.Parent[resolve.StatisticsScope],
        info: Info,
        year: int | None = None,
    ) -> records.InsuranceCoverage:
        return await records.insurance_coverage(info.context, parent, year=year)


@strawberry.type
class StatisticsQuery:
    @strawberry.field(
        graphql_type=Statistics | None,
        description="Aggregates of grades, downgrades and repairs, penalties and "
        "insurance coverage, of one district (6-digit code) or all the caller sees.",
        directives=requires_any(
            Scope.ratings_read,
            Scope.ratings_history,
            Scope.penalties_read,
            Scope.insurance_read,
        ),
    )
    def statistics(self, district: str | None = None) -> resolve.StatisticsScope:
        return resolve.statistics_scope(district)
