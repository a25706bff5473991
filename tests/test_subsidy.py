"""Subsidy benchmark checks (信用基准评价) and the measures catalogue (奖惩措施)."""

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, Grade
from hub.models import AuditEnterprise, AuditEntry, CreditRating, Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

CHECK = """
query($code: String!, $programme: String, $asOf: Date) {
  subsidyEligibility(code: $code, programme: $programme, asOf: $asOf) {
    enterprise { code }
    asOf
    programme { code name }
    outcome
    reasons { code outcome citations { type id } }
    measures { code }
    policyVersion
  }
}
"""
BATCH = """
query($applications: [SubsidyApplicationInput!]!, $asOf: Date) {
  subsidyEligibilityBatch(applications: $applications, asOf: $asOf) {
    row code enterprise { code } programme outcome
    reasons { code outcome citations { type id } }
    error { reason }
  }
}
"""
MEASURES = """
query($scheme: Scheme, $grade: Grade, $domain: MeasureDomain, $asOf: Date) {
  measures(scheme: $scheme, grade: $grade, domain: $domain, asOf: $asOf) {
    code direction domain schemes grades agencyKinds effectiveFrom effectiveTo
  }
}
"""
PROGRAMMES = "{ subsidyProgrammes { code name } }"
RATED_ON = date(2026, 1, 1)
TODAY = "2026-06-15"  # NOW in China Standard Time
SPECIAL_FUND = {"code": "ENV-SPECIAL-FUND", "name": "生态环境保护专项资金"}
GREEN_UPGRADE = {"code": "GREEN-UPGRADE", "name": "绿色技术改造补助"}


async def enterprise(
    db: AsyncSession, grade: Grade | None = Grade.GREEN
) -> tuple[Enterprise, CreditRating | None]:
    """An enterprise with one final grade of the official scheme since 1 January."""
    owner = b.enterprise()
    db.add(owner)
    await db.flush()
    rating = None
    if grade is not None:
        rating = b.rating(owner, grade=grade, valid_from=RATED_ON)
        db.add(rating)
    await db.commit()
    return owner, rating


async def add(db: AsyncSession, *records: Any) -> list[str]:
    db.add_all(records)
    await db.commit()
    return [str(getattr(r, "id", "")) for r in records]


async def office(tokens: Tokens) -> dict[str, str]:
    """The credit office (信用办) checking a subsidy list."""
    headers = await tokens.headers(AgencyKind.CREDIT_OFFICE)
    headers["Hub-Purpose"] = "SUBSIDY_REVIEW"
    return headers


def rated(rating: CreditRating | None, grade: Grade, outcome: str) -> dict[str, Any]:
    """The grade's reason: the first of every decision."""
    assert rating is not None
    return {
        "code": f"GRADE-{grade.value}",
        "outcome": outcome,
        "citations": [{"type": "CREDIT_RATING", "id": str(rating.id)}],
    }


async def check(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, **variables: Any
) -> dict[str, Any]:
    response = await post_graphql(
        client, CHECK, {"code": code, **variables}, headers=headers
    )
    found: dict[str, Any] = data_of(response)["subsidyEligibility"]
    return found


async def batch(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    applications: list[dict[str, str]],
) -> httpx.Response:
    return await post_graphql(
        client, BATCH, {"applications": applications}, headers=headers
    )


class TestEligibility:
    @pytest.mark.parametrize(
        ("grade", "outcome", "measure"),
        [
            (Grade.GREEN, "PASS", "SUBSIDY-GREEN-PRIORITY"),
            (Grade.BLUE, "PASS", None),
            (Grade.YELLOW, "CONDITIONAL", "SUBSIDY-YELLOW-STRICT"),
            (Grade.RED, "FAIL", "SUBSIDY-RED-BLACK-SUSPEND"),
            (Grade.BLACK, "FAIL", "SUBSIDY-RED-BLACK-SUSPEND"),
        ],
    )
    async def test_the_grade_decides_the_default_programme(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        grade: Grade,
        outcome: str,
        measure: str | None,
    ) -> None:
        # given
        owner, rating = await enterprise(db, grade)
        # when
        found = await check(client, await office(tokens), owner.code)
        # then
        assert found == {
            "enterprise": {"code": owner.code},
            "asOf": TODAY,
            "programme": SPECIAL_FUND,
            "outcome": outcome,
            "reasons": [rated(rating, grade, outcome)],
            "measures": [{"code": measure}] if measure else [],
            "policyVersion": "2014.1",
        }

    async def test_without_a_grade_the_check_is_conditional(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        owner, _ = await enterprise(db, None)
        # when
        found = await check(client, await office(tokens), owner.code)
        # then
        assert (found["outcome"], found["reasons"], found["measures"]) == (
            "CONDITIONAL",
            [{"code": "UNRATED", "outcome": "CONDITIONAL", "citations": []}],
            [],
        )

    async def test_missing_compulsory_insurance_fails_a_green_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green enterprise on this year's compulsory list, uninsured
        owner, rating = await enterprise(db, Grade.GREEN)
        await add(db, b.compulsory(owner, 2026))
        # when
        found = await check(client, await office(tokens), owner.code)
        # then
        assert (found["outcome"], found["reasons"]) == (
            "FAIL",
            [
                rated(rating, Grade.GREEN, "PASS"),
                {
                    "code": "SUB-INSURANCE-MISSING",
                    "outcome": "FAIL",
                    "citations": [
                        {"type": "COMPULSORY_INSURANCE", "id": f"{owner.code}/2026"}
                    ],
                },
            ],
        )

    async def test_a_published_penalty_makes_a_green_enterprise_conditional(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green enterprise fined in March, published until 2027
        owner, rating = await enterprise(db, Grade.GREEN)
        [penalty] = await add(db, b.penalty(owner))
        # when
        found = await check(client, await office(tokens), owner.code)
        # then
        assert (found["outcome"], found["reasons"]) == (
            "CONDITIONAL",
            [
                rated(rating, Grade.GREEN, "PASS"),
                {
                    "code": "SUB-PENALTY-PUBLISHED",
                    "outcome": "CONDITIONAL",
                    "citations": [{"type": "PENALTY_DECISION", "id": penalty}],
                },
            ],
        )

    async def test_the_green_upgrade_programme_fails_a_yellow_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        owner, rating = await enterprise(db, Grade.YELLOW)
        # when
        found = await check(
            client, await office(tokens), owner.code, programme="GREEN-UPGRADE"
        )
        # then
        assert (found["programme"], found["outcome"], found["reasons"]) == (
            GREEN_UPGRADE,
            "FAIL",
            [rated(rating, Grade.YELLOW, "FAIL")],
        )

    @pytest.mark.parametrize("known", [True, False])
    async def test_an_unknown_programme_is_refused(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        known: bool,
    ) -> None:
        # given an enterprise, or a valid code of none: the error is the same
        owner, _ = await enterprise(db)
        code = owner.code if known else b.credit_code(99_999)
        # when
        response = await post_graphql(
            client,
            CHECK,
            {"code": code, "programme": "SOLAR-ROOFS"},
            headers=await office(tokens),
        )
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "UNKNOWN_PROGRAMME",
            "field": "programme",
        }
        assert response.json()["data"] == {"subsidyEligibility": None}


class TestAccess:
    @pytest.mark.parametrize(
        "kind", [AgencyKind.CREDIT_OFFICE, AgencyKind.INDUSTRY_REGULATOR]
    )
    async def test_the_credit_office_and_industry_regulators_may_check(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        kind: AgencyKind,
    ) -> None:
        # given
        owner, _ = await enterprise(db, Grade.GREEN)
        headers = await tokens.headers(kind)
        headers["Hub-Purpose"] = "SUBSIDY_REVIEW"
        # when
        found = await check(client, headers, owner.code)
        # then
        assert (found["outcome"], found["measures"]) == (
            "PASS",
            [{"code": "SUBSIDY-GREEN-PRIORITY"}],
        )

    async def test_a_bank_may_not_check_subsidies(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a bank, stating its lending purpose
        owner, _ = await enterprise(db)
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        # when
        response = await post_graphql(
            client, CHECK, {"code": owner.code}, headers=headers
        )
        # then
        assert error_of(response)["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "PURPOSE_NOT_ALLOWED",
        }
        assert response.json()["data"] == {"subsidyEligibility": None}

    async def test_the_public_may_not_check(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        owner, _ = await enterprise(db)
        # when
        response = await post_graphql(client, CHECK, {"code": owner.code})
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "credit:review" in error["message"]
        assert response.json()["data"] == {"subsidyEligibility": None}

    async def test_the_public_may_not_check_a_list(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        owner, _ = await enterprise(db)
        # when
        response = await batch(client, {}, [{"code": owner.code}])
        # then: the field is null, as its type allows
        assert error_of(response)["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "MISSING_SCOPE",
            "requiredScopes": [["credit:review"]],
        }
        assert response.json()["data"] == {"subsidyEligibilityBatch": None}


class TestBatch:
    async def test_rows_come_in_order_each_checked_or_with_its_error(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        green, green_rating = await enterprise(db, Grade.GREEN)
        red, red_rating = await enterprise(db, Grade.RED)
        unknown = b.credit_code(99_999)
        malformed = "91320200MA1X0000XX"
        # when
        response = await batch(
            client,
            await office(tokens),
            [
                {"code": red.code},
                {"code": malformed},
                {"code": unknown},
                {"code": green.code, "programme": "green-upgrade"},
            ],
        )
        # then
        assert data_of(response) == {
            "subsidyEligibilityBatch": [
                {
                    "row": 1,
                    "code": red.code,
                    "enterprise": {"code": red.code},
                    "programme": "ENV-SPECIAL-FUND",
                    "outcome": "FAIL",
                    "reasons": [rated(red_rating, Grade.RED, "FAIL")],
                    "error": None,
                },
                {
                    "row": 2,
                    "code": malformed,
                    "enterprise": None,
                    "programme": None,
                    "outcome": None,
                    "reasons": [],
                    "error": {"reason": "INVALID_CREDIT_CODE"},
                },
                {
                    "row": 3,
                    "code": unknown,
                    "enterprise": None,
                    "programme": None,
                    "outcome": None,
                    "reasons": [],
                    "error": {"reason": "ENTERPRISE_NOT_FOUND"},
                },
                {
                    "row": 4,
                    "code": green.code,
                    "enterprise": {"code": green.code},
                    "programme": "GREEN-UPGRADE",
                    "outcome": "PASS",
                    "reasons": [rated(green_rating, Grade.GREEN, "PASS")],
                    "error": None,
                },
            ]
        }

    async def test_an_unknown_programme_errors_its_row_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        yellow, _ = await enterprise(db, Grade.YELLOW)
        # when
        response = await batch(
            client,
            await office(tokens),
            [
                {"code": yellow.code, "programme": "SOLAR-ROOFS"},
                {"code": yellow.code},
                {"code": yellow.code, "programme": "GREEN-UPGRADE"},
            ],
        )
        # then
        rows = data_of(response)["subsidyEligibilityBatch"]
        assert [(r["row"], r["programme"], r["outcome"], r["error"]) for r in rows] == [
            (1, None, None, {"reason": "UNKNOWN_PROGRAMME"}),
            (2, "ENV-SPECIAL-FUND", "CONDITIONAL", None),
            (3, "GREEN-UPGRADE", "FAIL", None),
        ]
        assert rows[0]["enterprise"] == {"code": yellow.code}

    async def test_more_than_a_thousand_applications_are_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        applications = [{"code": b.credit_code(n)} for n in range(1001)]
        # when
        response = await batch(client, await office(tokens), applications)
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "TOO_MANY_CODES",
            "field": "applications",
            "maxCodes": 1000,
        }


class TestMeasures:
    async def test_the_public_reads_the_measures_for_a_grade_and_domain(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await post_graphql(
            client, MEASURES, {"grade": "RED", "domain": "CREDIT"}
        )
        # then
        assert data_of(response) == {
            "measures": [
                {
                    "code": "CREDIT-RED-NO-NEW",
                    "direction": "PUNISHMENT",
                    "domain": "CREDIT",
                    "schemes": ["JS_ANNUAL_100", "JS_DYNAMIC_12", "NATIONAL_2013"],
                    "grades": ["RED"],
                    "agencyKinds": [
                        "BANKING_REGULATOR",
                        "COMMERCIAL_BANK",
                        "PBOC_BRANCH",
                    ],
                    "effectiveFrom": "2014-03-01",
                    "effectiveTo": None,
                }
            ]
        }

    @pytest.mark.parametrize(
        ("variables", "codes"),
        [
            ({"asOf": "2010-01-01"}, []),
            ({"scheme": "NATIONAL_2013", "grade": "BLACK"}, []),
            (
                {"scheme": "NATIONAL_2013", "grade": "RED", "domain": "SUBSIDY"},
                ["SUBSIDY-RED-BLACK-SUSPEND"],
            ),
            (
                {"scheme": "JS_DYNAMIC_12", "grade": "BLACK", "domain": "CREDIT"},
                ["CREDIT-BLACK-STOP"],
            ),
            (
                {"grade": "GREEN", "domain": "INSPECTION", "asOf": "2018-12-29"},
                [],
            ),
            (
                {"grade": "GREEN", "domain": "INSPECTION", "asOf": "2018-12-30"},
                ["INSPECT-GREEN-TRUST"],
            ),
        ],
    )
    async def test_measures_are_narrowed_as_asked(
        self,
        client: httpx.AsyncClient,
        variables: dict[str, str],
        codes: list[str],
    ) -> None:
        # when
        response = await post_graphql(client, MEASURES, variables)
        # then
        assert [m["code"] for m in data_of(response)["measures"]] == codes

    async def test_the_default_programme_comes_first(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await post_graphql(client, PROGRAMMES)
        # then
        assert data_of(response) == {"subsidyProgrammes": [SPECIAL_FUND, GREEN_UPGRADE]}


class TestAudit:
    async def test_the_entry_names_the_checked_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        owner, _ = await enterprise(db, Grade.YELLOW)
        headers = await office(tokens)
        # when
        response = await post_graphql(
            client, CHECK, {"code": owner.code}, headers=headers
        )
        # then
        data_of(response)
        request_id = response.headers["x-request-id"]
        [entry] = (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.request_id == request_id)
            )
        ).all()
        indexed = await db.scalars(
            select(AuditEnterprise.enterprise_code).where(
                AuditEnterprise.seq == entry.seq
            )
        )
        assert (entry.outcome, entry.purpose, entry.enterprises) == (
            "OK",
            "SUBSIDY_REVIEW",
            [owner.code],
        )
        assert indexed.all() == [owner.code]
