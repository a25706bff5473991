"""statistics(...): grades by district, downgrades and repairs, penalties and
insurance coverage, counted in SQL through the row rules (today is 2026-06-15)."""

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.enums import (
    AgencyKind,
    Grade,
    PenaltyStatus,
    PolicyStatus,
    RatingBasis,
    RatingStatus,
    Scheme,
)
from hub.models import CreditRating, Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql, without_cost
from tests.test_enterprises_by_codes import count_statements

pytestmark = pytest.mark.anyio

GRADES = """
query($year: Int, $scheme: Scheme, $district: String) {
  statistics(district: $district) {
    gradeDistribution(year: $year, scheme: $scheme) {
      scheme year asOf total
      grades { grade count }
      districts { district { code name } total grades { grade count } }
    }
  }
}
"""
CHANGES = """
query($from: Date, $to: Date) {
  statistics {
    ratingChanges(from: $from, to: $to) {
      scheme from to downgrades repairs months { month downgrades repairs }
    }
  }
}
"""
PENALTIES = """
query($from: Date, $to: Date) {
  statistics {
    penalties(from: $from, to: $to) {
      from to count
      categories { category count }
      months { month count categories { category count } }
    }
  }
}
"""
FINES = """
query($from: Date, $to: Date) {
  statistics {
    penalties(from: $from, to: $to) {
      count fineTotal
      categories { category fineTotal }
      months { month fineTotal }
    }
  }
}
"""
COVERAGE = """
query($year: Int) {
  statistics {
    insuranceCoverage(year: $year) {
      year compulsory insured
      districts { district { code name } compulsory insured }
    }
  }
}
"""
UNINSURED = """
query($year: Int, $first: Int!) {
  statistics {
    insuranceCoverage(year: $year) {
      compulsory insured uninsured(first: $first) { code name district { code } }
    }
  }
}
"""
EVERYTHING = """
{
  statistics {
    gradeDistribution { total }
    ratingChanges { downgrades }
    penalties { count months { month count } }
    insuranceCoverage { compulsory insured }
  }
}
"""
XISHAN = {"code": "320205", "name": "锡山区"}
HUISHAN = {"code": "320206", "name": "惠山区"}
LIANGXI = {"code": "320213", "name": "梁溪区"}


async def enterprise(db: AsyncSession, district: str = "320205") -> Enterprise:
    owner = b.enterprise(district_code=district)
    db.add(owner)
    await db.flush()
    return owner


def decision(
    owner: Enterprise,
    grade: Grade,
    valid_from: date,
    *,
    basis: RatingBasis | None = None,
    status: RatingStatus = RatingStatus.FINAL,
    **more: Any,
) -> CreditRating:
    made = b.rating(owner, grade=grade, valid_from=valid_from, status=status, **more)
    made.basis = basis
    return made


def denied(field: str, path: list[str], scope: str) -> dict[str, object]:
    """The error of a field under `statistics` the caller may not read."""
    return {
        "message": f"Not allowed to read {field}: needs scope {scope}",
        "path": ["statistics", *path],
        "extensions": {
            "code": "FORBIDDEN",
            "reason": "MISSING_SCOPE",
            "requiredScopes": [[scope]],
        },
    }


def counts(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [{"grade": g, "count": n} for g, n in pairs]


def dynamic_grades(
    green: int = 0, blue: int = 0, yellow: int = 0, red: int = 0, black: int = 0
) -> list[dict[str, object]]:
    return counts(
        ("GREEN", green),
        ("BLUE", blue),
        ("YELLOW", yellow),
        ("RED", red),
        ("BLACK", black),
    )


async def ask(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    figures: dict[str, Any] = data_of(
        await post_graphql(client, query, variables, headers=headers)
    )["statistics"]
    return figures


async def graded_city(db: AsyncSession) -> None:
    """Xishan: GREEN, BLUE, and grades not published; Huishan: a BLUE downgraded
    to YELLOW in April; Liangxi: a RED still recorded under abolished 320202."""
    green, blue, draft, noticed = [await enterprise(db) for _ in range(4)]
    downgraded = await enterprise(db, "320206")
    old_code = await enterprise(db, "320202")
    other_scheme = await enterprise(db)
    db.add_all(
        [
            decision(green, Grade.GREEN, date(2026, 1, 1)),
            decision(blue, Grade.BLUE, date(2025, 1, 1)),
            decision(draft, Grade.RED, date(2026, 1, 1), status=RatingStatus.DRAFT),
            decision(
                noticed,
                Grade.BLACK,
                date(2026, 1, 1),
                status=RatingStatus.IN_PUBLIC_NOTICE,
            ),
            decision(
                downgraded,
                Grade.BLUE,
                date(2025, 1, 1),
                valid_to=date(2026, 3, 31),
                status=RatingStatus.REPAIRED,
            ),
            decision(
                downgraded, Grade.YELLOW, date(2026, 4, 1), basis=RatingBasis.DOWNGRADE
            ),
            decision(old_code, Grade.RED, date(2025, 6, 1)),
            decision(
                other_scheme,
                Grade.GREEN,
                date(2026, 1, 1),
                scheme=Scheme.JS_ANNUAL_100,
                year=2025,
            ),
        ]
    )
    await db.commit()


class TestGradeDistribution:
    async def test_the_public_counts_published_grades_in_force_today(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await graded_city(db)
        # when
        figures = await ask(client, GRADES)
        # then
        assert figures == {
            "gradeDistribution": {
                "scheme": "JS_DYNAMIC_12",
                "year": 2026,
                "asOf": "2026-06-15",
                "total": 4,
                "grades": dynamic_grades(green=1, blue=1, yellow=1, red=1),
                "districts": [
                    {
                        "district": XISHAN,
                        "total": 2,
                        "grades": dynamic_grades(green=1, blue=1),
                    },
                    {
                        "district": HUISHAN,
                        "total": 1,
                        "grades": dynamic_grades(yellow=1),
                    },
                    {"district": LIANGXI, "total": 1, "grades": dynamic_grades(red=1)},
                ],
            }
        }

    async def test_a_past_year_counts_its_31_december(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await graded_city(db)
        # when
        figures = await ask(client, GRADES, {"year": 2025})
        # then: the green grade starts in 2026; Huishan was still BLUE
        assert figures["gradeDistribution"] == {
            "scheme": "JS_DYNAMIC_12",
            "year": 2025,
            "asOf": "2025-12-31",
            "total": 3,
            "grades": dynamic_grades(blue=2, red=1),
            "districts": [
                {"district": XISHAN, "total": 1, "grades": dynamic_grades(blue=1)},
                {"district": HUISHAN, "total": 1, "grades": dynamic_grades(blue=1)},
                {"district": LIANGXI, "total": 1, "grades": dynamic_grades(red=1)},
            ],
        }

    async def test_another_scheme_has_its_own_grades(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await graded_city(db)
        # when
        figures = await ask(client, GRADES, {"scheme": "JS_ANNUAL_100"})
        # then
        assert figures["gradeDistribution"]["total"] == 1
        assert figures["gradeDistribution"]["districts"] == [
            {"district": XISHAN, "total": 1, "grades": dynamic_grades(green=1)}
        ]

    async def test_a_district_asked_for(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await graded_city(db)
        # when: the abolished code's enterprise counts in its successor
        figures = await ask(client, GRADES, {"district": "320213"})
        # then
        assert figures["gradeDistribution"]["districts"] == [
            {"district": LIANGXI, "total": 1, "grades": dynamic_grades(red=1)}
        ]

    async def test_a_county_bureau_counts_its_district_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await graded_city(db)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        # when
        figures = await ask(client, GRADES, headers=headers)
        # then
        assert figures["gradeDistribution"]["total"] == 1
        assert figures["gradeDistribution"]["districts"] == [
            {"district": HUISHAN, "total": 1, "grades": dynamic_grades(yellow=1)}
        ]

    @pytest.mark.parametrize(
        ("variables", "message"),
        [
            (
                {"year": 2027},
                "year 2027 has not begun: grades are known up to today (2026-06-15)",
            ),
            (
                {"year": 1800},
                "year must be a calendar year between 1990 and 2100, got 1800",
            ),
        ],
    )
    async def test_a_year_out_of_range_is_refused(
        self,
        client: httpx.AsyncClient,
        variables: dict[str, Any],
        message: str,
    ) -> None:
        # when
        response = await post_graphql(client, GRADES, variables)
        # then
        assert without_cost(response) == {
            "data": {"statistics": {"gradeDistribution": None}},
            "errors": [
                {
                    "message": message,
                    "locations": [{"line": 4, "column": 5}],
                    "path": ["statistics", "gradeDistribution"],
                    "extensions": {
                        "code": "BAD_USER_INPUT",
                        "reason": "INVALID_YEAR",
                        "field": "year",
                    },
                }
            ],
        }

    async def test_a_malformed_district_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await post_graphql(client, GRADES, {"district": "锡山"})
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_DISTRICT_CODE",
            "field": "district",
        }
        assert response.json()["data"] == {"statistics": None}


async def changed_grades(db: AsyncSession) -> None:
    """Downgrades in January and March, a repair in March; and decisions that
    are not counted: a draft downgrade, an evaluation, one before the range."""
    owners = [await enterprise(db) for _ in range(4)]
    huishan = await enterprise(db, "320206")
    db.add_all(
        [
            decision(
                owners[0], Grade.RED, date(2026, 1, 10), basis=RatingBasis.DOWNGRADE
            ),
            decision(
                owners[1], Grade.RED, date(2026, 3, 2), basis=RatingBasis.DOWNGRADE
            ),
            decision(
                owners[1],
                Grade.YELLOW,
                date(2026, 3, 30),
                basis=RatingBasis.REPAIR,
            ),
            decision(huishan, Grade.RED, date(2026, 3, 5), basis=RatingBasis.DOWNGRADE),
            decision(
                owners[2],
                Grade.RED,
                date(2026, 2, 1),
                basis=RatingBasis.DOWNGRADE,
                status=RatingStatus.DRAFT,
            ),
            decision(
                owners[3], Grade.BLUE, date(2026, 2, 1), basis=RatingBasis.EVALUATION
            ),
            decision(
                owners[3], Grade.RED, date(2025, 12, 31), basis=RatingBasis.DOWNGRADE
            ),
        ]
    )
    await db.commit()


def month(m: str, downgrades: int = 0, repairs: int = 0) -> dict[str, object]:
    return {"month": m, "downgrades": downgrades, "repairs": repairs}


class TestRatingChanges:
    async def test_downgrades_and_repairs_per_month(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await changed_grades(db)
        # when
        figures = await ask(client, CHANGES, {"from": "2026-01-01", "to": "2026-04-30"})
        # then
        assert figures == {
            "ratingChanges": {
                "scheme": "JS_DYNAMIC_12",
                "from": "2026-01-01",
                "to": "2026-04-30",
                "downgrades": 3,
                "repairs": 1,
                "months": [
                    month("2026-01", downgrades=1),
                    month("2026-02"),
                    month("2026-03", downgrades=2, repairs=1),
                    month("2026-04"),
                ],
            }
        }

    async def test_the_range_defaults_to_twelve_months_up_to_today(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await changed_grades(db)
        # when
        changes = (await ask(client, CHANGES))["ratingChanges"]
        # then
        assert (changes["from"], changes["to"]) == ("2025-07-01", "2026-06-15")
        assert [m["month"] for m in changes["months"]] == [
            *(f"2025-{m:02d}" for m in range(7, 13)),
            *(f"2026-{m:02d}" for m in range(1, 7)),
        ]
        assert (changes["downgrades"], changes["repairs"]) == (4, 1)

    async def test_a_county_bureau_counts_its_district_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await changed_grades(db)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        # when
        figures = await ask(
            client, CHANGES, {"from": "2026-03-01", "to": "2026-03-31"}, headers
        )
        # then
        assert figures["ratingChanges"]["months"] == [month("2026-03", downgrades=1)]

    @pytest.mark.parametrize(
        ("variables", "reason", "field", "message"),
        [
            (
                {"from": "2026-05-01", "to": "2026-04-30"},
                "INVALID_DATE_RANGE",
                "to",
                "to (2026-04-30) is before from (2026-05-01)",
            ),
            (
                {"from": "2016-01-01", "to": "2026-01-01"},
                "RANGE_TOO_LONG",
                "to",
                "from 2016-01-01 to 2026-01-01 spans more than 120 months (ten "
                "years); ask for a shorter range",
            ),
            (
                {"from": "1989-12-31"},
                "INVALID_DATE",
                "from",
                "from must be a date in the years 1990 to 2100, got 1989-12-31",
            ),
            (
                {"from": "2026-01-01", "to": "2101-01-01"},
                "INVALID_DATE",
                "to",
                "to must be a date in the years 1990 to 2100, got 2101-01-01",
            ),
        ],
    )
    async def test_a_bad_range_is_refused(
        self,
        client: httpx.AsyncClient,
        variables: dict[str, Any],
        reason: str,
        field: str,
        message: str,
    ) -> None:
        # when
        response = await post_graphql(client, CHANGES, variables)
        # then
        error = error_of(response)
        assert (error["message"], error["path"]) == (
            message,
            ["statistics", "ratingChanges"],
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert (error["extensions"]["reason"], error["extensions"]["field"]) == (
            reason,
            field,
        )

    async def test_ten_years_of_months_pass(self, client: httpx.AsyncClient) -> None:
        # when
        figures = await ask(client, CHANGES, {"from": "2016-01-01", "to": "2025-12-31"})
        # then
        assert len(figures["ratingChanges"]["months"]) == 120


async def penalised_city(db: AsyncSession) -> None:
    """Penalties in March and May 2026 in Xishan and Huishan; one expired from
    publication, one revoked: the public sees neither."""
    xishan, huishan = await enterprise(db), await enterprise(db, "320206")
    db.add_all(
        [
            b.penalty(xishan, decision_date=date(2026, 3, 3), fine=Decimal("50000")),
            b.penalty(
                xishan,
                decision_date=date(2026, 3, 20),
                fine=Decimal("12000.50"),
                categories=("WARNING", "FINE"),
            ),
            b.penalty(
                huishan,
                decision_date=date(2026, 5, 8),
                fine=Decimal("0"),
                categories=("ORDERED_SUSPENSION",),
            ),
            b.penalty(
                huishan,
                decision_date=date(2026, 3, 1),
                fine=Decimal("80000"),
                publication_end_date=date(2026, 6, 14),
            ),
            b.penalty(
                xishan,
                decision_date=date(2026, 5, 1),
                fine=Decimal("30000"),
                status=PenaltyStatus.REVOKED,
            ),
            b.penalty(xishan, decision_date=date(2025, 12, 31)),
        ]
    )
    await db.commit()


def category(name: str, count: int) -> dict[str, object]:
    return {"category": name, "count": count}


RANGE = {"from": "2026-03-01", "to": "2026-05-31"}


class TestPenaltyStatistics:
    async def test_the_public_counts_penalties_in_their_publication_window(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await penalised_city(db)
        # when
        figures = await ask(client, PENALTIES, RANGE)
        # then
        assert figures == {
            "penalties": {
                "from": "2026-03-01",
                "to": "2026-05-31",
                "count": 3,
                "categories": [
                    category("WARNING", 1),
                    category("FINE", 2),
                    category("ORDERED_SUSPENSION", 1),
                ],
                "months": [
                    {
                        "month": "2026-03",
                        "count": 2,
                        "categories": [category("WARNING", 1), category("FINE", 2)],
                    },
                    {"month": "2026-04", "count": 0, "categories": []},
                    {
                        "month": "2026-05",
                        "count": 1,
                        "categories": [category("ORDERED_SUSPENSION", 1)],
                    },
                ],
            }
        }

    async def test_fine_totals_are_forbidden_to_the_public(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await penalised_city(db)
        # when
        response = await post_graphql(client, FINES, RANGE)
        # then: every fine total is null, each type's field denied once
        assert without_cost(response) == {
            "data": {
                "statistics": {
                    "penalties": {
                        "count": 3,
                        "categories": [
                            {"category": c, "fineTotal": None}
                            for c in ("WARNING", "FINE", "ORDERED_SUSPENSION")
                        ],
                        "months": [
                            {"month": m, "fineTotal": None}
                            for m in ("2026-03", "2026-04", "2026-05")
                        ],
                        "fineTotal": None,
                    }
                }
            },
            "errors": [
                denied(f"{parent}.fineTotal", path, "penalties:detail")
                for parent, path in [
                    ("PenaltyStatistics", ["penalties", "fineTotal"]),
                    ("PenaltyCategoryCount", ["penalties", "categories", "fineTotal"]),
                    ("PenaltyMonth", ["penalties", "months", "fineTotal"]),
                ]
            ],
        }

    async def test_the_city_bureau_reads_fine_totals_of_every_penalty(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await penalised_city(db)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        figures = await ask(client, FINES, RANGE, headers)
        # then: the bureau also counts the expired and the revoked decisions
        assert figures == {
            "penalties": {
                "count": 5,
                "fineTotal": "172000.50",
                "categories": [
                    {"category": "WARNING", "fineTotal": "12000.50"},
                    {"category": "FINE", "fineTotal": "172000.50"},
                    {"category": "ORDERED_SUSPENSION", "fineTotal": "0.00"},
                ],
                "months": [
                    {"month": "2026-03", "fineTotal": "142000.50"},
                    {"month": "2026-04", "fineTotal": "0.00"},
                    {"month": "2026-05", "fineTotal": "30000.00"},
                ],
            }
        }

    async def test_a_county_bureau_counts_its_district_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await penalised_city(db)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        # when
        figures = await ask(client, FINES, RANGE, headers)
        # then
        assert figures["penalties"]["count"] == 2
        assert figures["penalties"]["fineTotal"] == "80000.00"


async def insured_city(db: AsyncSession) -> dict[str, Enterprise]:
    """The 2026 compulsory list: Xishan insured, Xishan surrendered, Xishan
    insured only in 2025, Huishan insured from July, Liangxi (320202) without;
    and an insured enterprise not on the list."""
    made = {
        name: await enterprise(db, district)
        for name, district in [
            ("insured", "320205"),
            ("surrendered", "320205"),
            ("last_year", "320205"),
            ("from_july", "320206"),
            ("liangxi", "320202"),
            ("not_listed", "320205"),
        ]
    }
    db.add_all([b.compulsory(e, 2026) for n, e in made.items() if n != "not_listed"])
    db.add_all(
        [
            b.policy(made["insured"]),
            b.policy(made["surrendered"], status=PolicyStatus.SURRENDERED),
            b.policy(made["last_year"], start=date(2025, 1, 1), end=date(2025, 12, 31)),
            b.policy(made["from_july"], start=date(2026, 7, 1), end=date(2027, 6, 30)),
            b.policy(made["not_listed"]),
        ]
    )
    await db.commit()
    return made


class TestInsuranceCoverage:
    async def test_the_public_reads_the_counts(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await insured_city(db)
        # when
        figures = await ask(client, COVERAGE)
        # then
        assert figures == {
            "insuranceCoverage": {
                "year": 2026,
                "compulsory": 5,
                "insured": 2,
                "districts": [
                    {"district": XISHAN, "compulsory": 3, "insured": 1},
                    {"district": HUISHAN, "compulsory": 1, "insured": 1},
                    {"district": LIANGXI, "compulsory": 1, "insured": 0},
                ],
            }
        }

    async def test_the_uninsured_are_forbidden_to_the_public(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await insured_city(db)
        # when
        response = await post_graphql(client, UNINSURED, {"first": 10})
        # then
        assert without_cost(response) == {
            "data": {
                "statistics": {
                    "insuranceCoverage": {
                        "compulsory": 5,
                        "insured": 2,
                        "uninsured": None,
                    }
                }
            },
            "errors": [
                denied(
                    "InsuranceCoverage.uninsured",
                    ["insuranceCoverage", "uninsured"],
                    "insurance:read",
                )
            ],
        }

    async def test_the_city_bureau_reads_the_uninsured(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        made = await insured_city(db)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        figures = await ask(client, UNINSURED, {"first": 10}, headers)
        # then: by current district, then code
        assert figures["insuranceCoverage"]["uninsured"] == [
            *sorted(
                (
                    {"code": e.code, "name": e.name, "district": {"code": "320205"}}
                    for e in (made["surrendered"], made["last_year"])
                ),
                key=lambda u: str(u["code"]),
            ),
            {
                "code": made["liangxi"].code,
                "name": made["liangxi"].name,
                "district": {"code": "320213"},
            },
        ]

    async def test_first_cuts_the_list(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await insured_city(db)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        figures = await ask(client, UNINSURED, {"first": 1}, headers)
        # then
        assert len(figures["insuranceCoverage"]["uninsured"]) == 1

    async def test_a_county_bureau_counts_its_district_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        made = await insured_city(db)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320213")
        # when
        figures = await ask(client, UNINSURED, {"first": 10}, headers)
        # then
        assert figures == {
            "insuranceCoverage": {
                "compulsory": 1,
                "insured": 0,
                "uninsured": [
                    {
                        "code": made["liangxi"].code,
                        "name": made["liangxi"].name,
                        "district": {"code": "320213"},
                    }
                ],
            }
        }

    async def test_another_year_has_its_own_list(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await insured_city(db)
        # when
        figures = await ask(client, COVERAGE, {"year": 2025})
        # then
        assert figures == {
            "insuranceCoverage": {
                "year": 2025,
                "compulsory": 0,
                "insured": 0,
                "districts": [],
            }
        }

    @pytest.mark.parametrize(
        ("query", "variables", "reason", "field"),
        [
            (COVERAGE, {"year": 3000}, "INVALID_YEAR", "year"),
            (UNINSURED, {"first": 1001}, "PAGE_SIZE_EXCEEDED", "first"),
            (UNINSURED, {"first": -1}, "INVALID_PAGE_SIZE", "first"),
        ],
    )
    async def test_bad_input_is_refused(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        query: str,
        variables: dict[str, Any],
        reason: str,
        field: str,
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, query, variables, headers=headers)
        # then
        extensions = error_of(response)["extensions"]
        assert (extensions["code"], extensions["reason"], extensions["field"]) == (
            "BAD_USER_INPUT",
            reason,
            field,
        )


class TestOneStatementPerFigure:
    async def test_four_figures_are_four_statements(
        self, client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        await graded_city(db)
        await penalised_city(db)
        await insured_city(db)
        # when
        with count_statements(engine) as statements:
            figures = await ask(client, EVERYTHING)
        # then
        reads = [
            s for s in statements if "audit_" not in s and not s.startswith("BEGIN")
        ]
        assert len(reads) == 4, "\n".join(s[:90] for s in reads)
        assert all("GROUP BY" in s for s in reads)
        assert figures["gradeDistribution"] == {"total": 4}
        assert figures["insuranceCoverage"] == {"compulsory": 5, "insured": 2}
