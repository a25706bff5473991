"""Credit reviews (信用审查): recommendations from hand-built histories, with citations."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import (
    AgencyKind,
    EventKind,
    Grade,
    RatingBasis,
    RatingStatus,
    RepairStatus,
    RiskLevel,
)
from hub.models import CreditRating, Enterprise, EnvironmentalEvent, RepairApplication
from seeds import builders as b
from tests.conftest import NOW, Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

REVIEW = """
query($code: String!, $purpose: Purpose!, $asOf: Date, $programme: String) {
  creditReview(code: $code, purpose: $purpose, asOf: $asOf, programme: $programme) {
    enterprise { code }
    asOf purpose loan inspection subsidy
    grade { ratingId grade scheme }
    reasons { code outcome citations { type id } }
  }
}
"""
FACTS = """
query($code: String!) {
  creditReview(code: $code, purpose: LOAN_APPROVAL) {
    penalties { id decisionNumber publicationEndDate }
    vetoEvents { id kind ruleCode }
    risk { assessmentId level emergencyPlanFiled }
    compulsoryInsurance insurancePolicyId compulsoryInsuranceMissing
    openRepair { applicationId status }
    measures { code domain }
    policyVersion
  }
}
"""
REVIEWS = """
query($codes: [String!]!) {
  creditReviews(codes: $codes, purpose: LOAN_APPROVAL) { enterprise { code } loan }
}
"""
RATED_ON = date(2026, 1, 1)
TODAY = "2026-06-15"  # NOW in China Standard Time


async def enterprise(
    db: AsyncSession,
    grade: Grade | None = Grade.BLUE,
    *,
    district: str = "320205",
    status: RatingStatus = RatingStatus.FINAL,
) -> tuple[Enterprise, CreditRating | None]:
    """An enterprise with one grade of the official scheme in force since 1 January."""
    owner = b.enterprise(district_code=district)
    db.add(owner)
    await db.flush()
    rating = None
    if grade is not None:
        rating = b.rating(owner, grade=grade, valid_from=RATED_ON, status=status)
        db.add(rating)
    await db.commit()
    return owner, rating


def veto(
    owner: Enterprise, on: date, violation: str = "HIDDEN_PIPE"
) -> EnvironmentalEvent:
    reference = f"锡环罚〔{on.year}〕{on.month}{on.day:02d}号"
    return EnvironmentalEvent(
        enterprise_id=owner.id,
        kind=EventKind.INSPECTION_FINDING,
        reference=reference,
        reference_key=reference,
        occurred_on=on,
        authority_name="无锡市生态环境局",
        authority_code=b.CITY_BUREAU_CODE,
        violation_code=violation,
        description="私设暗管排放废水。",
    )


async def add(db: AsyncSession, *records: Any) -> list[str]:
    db.add_all(records)
    await db.commit()
    return [str(getattr(r, "id", "")) for r in records]


async def bank(tokens: Tokens, purpose: str = "LOAN_APPROVAL") -> dict[str, str]:
    headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
    headers["Hub-Purpose"] = purpose
    return headers


async def review(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    code: str,
    purpose: str = "LOAN_APPROVAL",
    **variables: Any,
) -> dict[str, Any]:
    response = await post_graphql(
        client, REVIEW, {"code": code, "purpose": purpose, **variables}, headers=headers
    )
    found: dict[str, Any] = data_of(response)["creditReview"]
    return found


def reasons(found: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [
        (r["code"], r["outcome"], [(c["type"], c["id"]) for c in r["citations"]])
        for r in found["reasons"]
    ]


class TestLoanApproval:
    @pytest.mark.parametrize(
        ("grade", "advice"),
        [
            (Grade.GREEN, "SUPPORT"),
            (Grade.BLUE, "NORMAL"),
            (Grade.YELLOW, "TIGHTEN"),
            (Grade.RED, "NO_NEW_CREDIT"),
            (Grade.BLACK, "STOP_LENDING"),
        ],
    )
    async def test_the_grade_sets_the_advice(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        grade: Grade,
        advice: str,
    ) -> None:
        # given
        owner, rating = await enterprise(db, grade)
        assert rating is not None
        # when
        found = await review(client, await bank(tokens), owner.code)
        # then
        assert found == {
            "enterprise": {"code": owner.code},
            "asOf": TODAY,
            "purpose": "LOAN_APPROVAL",
            "loan": advice,
            "inspection": None,
            "subsidy": None,
            "grade": {
                "ratingId": str(rating.id),
                "grade": grade.value,
                "scheme": "JS_DYNAMIC_12",
            },
            "reasons": [
                {
                    "code": f"GRADE-{grade.value}",
                    "outcome": advice,
                    "citations": [{"type": "CREDIT_RATING", "id": str(rating.id)}],
                }
            ],
        }

    async def test_without_a_grade_lending_is_normal(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, None)
        found = await review(client, await bank(tokens), owner.code)
        assert (found["loan"], found["grade"]) == ("NORMAL", None)
        assert reasons(found) == [("UNRATED", "NORMAL", [])]

    async def test_a_published_penalty_withdraws_support(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green enterprise fined 50,000 yuan, still published
        owner, rating = await enterprise(db, Grade.GREEN)
        assert rating is not None
        [penalty] = await add(db, b.penalty(owner, fine=Decimal("50000.00")))
        # when
        found = await review(client, await bank(tokens), owner.code)
        # then
        assert found["loan"] == "NORMAL"
        assert reasons(found) == [
            ("GRADE-GREEN", "SUPPORT", [("CREDIT_RATING", str(rating.id))]),
            ("LOAN-PENALTY-PUBLISHED", "NORMAL", [("PENALTY_DECISION", penalty)]),
        ]

    async def test_a_large_fine_tightens(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.BLUE)
        [penalty] = await add(db, b.penalty(owner, fine=Decimal("100000.00")))
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "TIGHTEN"
        assert ("LOAN-PENALTY-LARGE", "TIGHTEN", [("PENALTY_DECISION", penalty)]) in (
            reasons(found)
        )

    async def test_an_ordered_suspension_stops_new_credit(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.BLUE)
        [penalty] = await add(
            db,
            b.penalty(owner, categories=("ORDERED_SUSPENSION",), fine=Decimal(0)),
        )
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "NO_NEW_CREDIT"
        assert reasons(found)[1] == (
            "LOAN-PENALTY-SHUTDOWN",
            "NO_NEW_CREDIT",
            [("PENALTY_DECISION", penalty)],
        )

    async def test_a_penalty_out_of_its_window_does_not_count(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.GREEN)
        await add(
            db,
            b.penalty(
                owner,
                decision_date=date(2024, 3, 1),
                publication_end_date=date(2025, 3, 1),
            ),
        )
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "SUPPORT"

    async def test_a_veto_event_stops_new_credit_before_the_downgrade(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green grade, and a hidden pipe found last month
        owner, _ = await enterprise(db, Grade.GREEN)
        [event] = await add(db, veto(owner, date(2026, 5, 20)))
        # when
        found = await review(client, await bank(tokens), owner.code)
        # then
        assert found["loan"] == "NO_NEW_CREDIT"
        assert reasons(found)[1] == (
            "LOAN-VETO-EVENT",
            "NO_NEW_CREDIT",
            [("ENVIRONMENTAL_EVENT", event)],
        )

    async def test_a_veto_event_older_than_a_year_does_not_count(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.GREEN)
        await add(db, veto(owner, date(2025, 6, 14)))
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "SUPPORT"

    async def test_missing_compulsory_insurance_tightens(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.GREEN)
        await add(db, b.compulsory(owner, 2026))
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "TIGHTEN"
        assert reasons(found)[1] == (
            "LOAN-INSURANCE-MISSING",
            "TIGHTEN",
            [("COMPULSORY_INSURANCE", f"{owner.code}/2026")],
        )

    async def test_a_policy_in_force_meets_the_duty(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.GREEN)
        await add(db, b.compulsory(owner, 2026))
        await add(db, b.policy(owner))
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "SUPPORT"

    async def test_a_risky_enterprise_without_a_plan_tightens(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.BLUE)
        assessment = b.risk(owner, level=RiskLevel.MAJOR)
        assessment.plan_filed_on = None
        assessment.plan_filing_number = None
        [risk] = await add(db, assessment)
        found = await review(client, await bank(tokens), owner.code)
        assert found["loan"] == "TIGHTEN"
        assert reasons(found)[1] == (
            "LOAN-RISK-NO-PLAN",
            "TIGHTEN",
            [("RISK_ASSESSMENT", risk)],
        )


class TestFacts:
    async def test_the_facts_that_matter_are_listed(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        owner, rating = await enterprise(db, Grade.YELLOW)
        assert rating is not None
        [penalty, event, risk] = await add(
            db,
            b.penalty(owner, number="锡环罚〔2026〕7号"),
            veto(owner, date(2026, 4, 2), "FAKE_MONITORING"),
            b.risk(owner, level=RiskLevel.LARGER),
        )
        await add(db, b.compulsory(owner, 2026))
        [repair] = await add(
            db,
            RepairApplication(
                enterprise_id=owner.id,
                rating_id=rating.id,
                applied_at=NOW - timedelta(days=3),
                applicant="client:test",
                evidence="已完成整改。",
                status=RepairStatus.DISTRICT_AGREED,
            ),
        )
        # when
        response = await post_graphql(
            client, FACTS, {"code": owner.code}, headers=await bank(tokens)
        )
        # then
        assert data_of(response)["creditReview"] == {
            "penalties": [
                {
                    "id": penalty,
                    "decisionNumber": "锡环罚〔2026〕7号",
                    "publicationEndDate": "2027-03-01",
                }
            ],
            "vetoEvents": [
                {
                    "id": event,
                    "kind": "INSPECTION_FINDING",
                    "ruleCode": "JS100-VETO-FAKE-MONITORING",
                }
            ],
            "risk": {
                "assessmentId": risk,
                "level": "LARGER",
                "emergencyPlanFiled": True,
            },
            "compulsoryInsurance": True,
            "insurancePolicyId": None,
            "compulsoryInsuranceMissing": True,
            "openRepair": {"applicationId": repair, "status": "DISTRICT_AGREED"},
            "measures": [{"code": "CREDIT-YELLOW-TIGHTEN", "domain": "CREDIT"}],
            "policyVersion": "2014.1",
        }


class TestTimeline:
    async def test_a_downgrade_changes_the_advice_the_day_it_takes_effect(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green grade, downgraded to red from 10 June
        owner, _ = await enterprise(db, Grade.GREEN)
        downgrade = b.rating(owner, grade=Grade.RED, valid_from=date(2026, 6, 10))
        downgrade.basis = RatingBasis.DOWNGRADE
        db.add(downgrade)
        await db.commit()
        headers = await bank(tokens)
        # then
        before = await review(client, headers, owner.code, asOf="2026-06-09")
        on = await review(client, headers, owner.code, asOf="2026-06-10")
        assert (before["loan"], on["loan"]) == ("SUPPORT", "NO_NEW_CREDIT")

    async def test_a_repair_changes_the_advice_the_day_it_takes_effect(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a red grade repaired to blue from today
        owner = b.enterprise()
        db.add(owner)
        await db.flush()
        repaired = b.rating(
            owner,
            grade=Grade.RED,
            valid_from=RATED_ON,
            valid_to=date(2026, 6, 14),
            status=RatingStatus.REPAIRED,
        )
        raised = b.rating(owner, grade=Grade.BLUE, valid_from=date(2026, 6, 15))
        raised.basis = RatingBasis.REPAIR
        db.add_all([repaired, raised])
        await db.commit()
        headers = await bank(tokens)
        # then
        yesterday = await review(client, headers, owner.code, asOf="2026-06-14")
        today = await review(client, headers, owner.code)
        assert (yesterday["loan"], today["loan"]) == ("NO_NEW_CREDIT", "NORMAL")


class TestSupervision:
    @pytest.mark.parametrize(
        ("grade", "band"),
        [
            (Grade.GREEN, "REDUCED"),
            (Grade.YELLOW, "INCREASED"),
            (Grade.RED, "INTENSIVE"),
        ],
    )
    async def test_the_grade_sets_the_band(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        grade: Grade,
        band: str,
    ) -> None:
        owner, _ = await enterprise(db, grade)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        found = await review(client, headers, owner.code, "SUPERVISION")
        assert (found["inspection"], found["loan"]) == (band, None)

    async def test_a_major_risk_raises_the_band_and_an_open_repair_is_noted(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, rating = await enterprise(db, Grade.GREEN)
        assert rating is not None
        [risk] = await add(db, b.risk(owner, level=RiskLevel.MAJOR))
        [repair] = await add(
            db,
            RepairApplication(
                enterprise_id=owner.id,
                rating_id=rating.id,
                applied_at=NOW - timedelta(days=1),
                applicant="client:test",
                evidence="已完成整改。",
                status=RepairStatus.APPLIED,
            ),
        )
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        found = await review(client, headers, owner.code, "SUPERVISION")
        assert found["inspection"] == "INCREASED"
        assert reasons(found)[1:] == [
            ("SUP-RISK-MAJOR", "INCREASED", [("RISK_ASSESSMENT", risk)]),
            ("SUP-REPAIR-OPEN", "REDUCED", [("REPAIR_APPLICATION", repair)]),
        ]


class TestAccess:
    async def test_the_public_may_not_review(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner, _ = await enterprise(db)
        response = await post_graphql(
            client, REVIEW, {"code": owner.code, "purpose": "LOAN_APPROVAL"}
        )
        error = error_of(response)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert response.json()["data"] == {"creditReview": None}

    async def test_a_bank_may_not_review_for_supervision(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db)
        response = await post_graphql(
            client,
            REVIEW,
            {"code": owner.code, "purpose": "SUPERVISION"},
            headers=await bank(tokens),
        )
        assert error_of(response)["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "PURPOSE_NOT_ALLOWED",
        }

    async def test_the_purpose_must_match_the_header(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db)
        response = await post_graphql(
            client,
            REVIEW,
            {"code": owner.code, "purpose": "LOAN_APPROVAL"},
            headers=await bank(tokens, "POST_LOAN_MONITORING"),
        )
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "PURPOSE_MISMATCH",
            "field": "purpose",
        }

    async def test_a_county_bureau_reviews_only_its_district(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        elsewhere, _ = await enterprise(db, district="320206")
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        response = await post_graphql(
            client,
            REVIEW,
            {"code": elsewhere.code, "purpose": "SUPERVISION"},
            headers=headers,
        )
        assert data_of(response) == {"creditReview": None}

    async def test_a_bank_reviews_on_the_published_grade_only(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a final blue grade and a red one still in public notice
        owner, rating = await enterprise(db, Grade.BLUE)
        assert rating is not None
        db.add(
            b.rating(
                owner,
                grade=Grade.RED,
                valid_from=date(2026, 6, 1),
                status=RatingStatus.IN_PUBLIC_NOTICE,
            )
        )
        await db.commit()
        found = await review(client, await bank(tokens), owner.code)
        assert (found["loan"], found["grade"]["ratingId"]) == ("NORMAL", str(rating.id))

    @pytest.mark.parametrize(
        ("variables", "reason", "field"),
        [
            ({"code": "91320200MA1X0000XX"}, "INVALID_CREDIT_CODE", "code"),
            ({"asOf": "2026-06-16"}, "AS_OF_IN_FUTURE", "asOf"),
            (
                {"programme": "ENV-SPECIAL-FUND"},
                "PROGRAMME_NOT_APPLICABLE",
                "programme",
            ),
        ],
    )
    async def test_bad_arguments_are_named(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        variables: dict[str, str],
        reason: str,
        field: str,
    ) -> None:
        owner, _ = await enterprise(db)
        response = await post_graphql(
            client,
            REVIEW,
            {"code": owner.code, "purpose": "LOAN_APPROVAL", **variables},
            headers=await bank(tokens),
        )
        extensions = error_of(response)["extensions"]
        assert (extensions["code"], extensions["reason"], extensions["field"]) == (
            "BAD_USER_INPUT",
            reason,
            field,
        )


class TestBatch:
    async def test_reviews_come_in_input_order_with_null_for_unknown_codes(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        green, _ = await enterprise(db, Grade.GREEN)
        red, _ = await enterprise(db, Grade.RED)
        unknown = b.credit_code(99_999)
        response = await post_graphql(
            client,
            REVIEWS,
            {"codes": [red.code, unknown, green.code]},
            headers=await bank(tokens),
        )
        assert data_of(response) == {
            "creditReviews": [
                {"enterprise": {"code": red.code}, "loan": "NO_NEW_CREDIT"},
                None,
                {"enterprise": {"code": green.code}, "loan": "SUPPORT"},
            ]
        }

    async def test_more_than_a_thousand_codes_are_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        codes = [b.credit_code(n) for n in range(1001)]
        response = await post_graphql(
            client, REVIEWS, {"codes": codes}, headers=await bank(tokens)
        )
        extensions = error_of(response)["extensions"]
        assert (extensions["reason"], extensions["maxCodes"]) == (
            "TOO_MANY_CODES",
            1000,
        )

    async def test_a_thousand_reviews_fit_the_limits(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        owner, _ = await enterprise(db, Grade.BLUE)
        codes = [owner.code] + [b.credit_code(n) for n in range(1, 1000)]
        response = await post_graphql(
            client, REVIEWS, {"codes": codes}, headers=await bank(tokens)
        )
        found = data_of(response)["creditReviews"]
        assert (len(found), found[0]["loan"], found[1]) == (1000, "NORMAL", None)


FULL_REVIEWS = """
query($codes: [String!]!) {
  creditReviews(codes: $codes, purpose: LOAN_APPROVAL) {
    enterprise { code name district { code } }
    asOf purpose loan policyVersion
    grade { ratingId grade }
    penalties { id decisionNumber }
    vetoEvents { id ruleCode }
    risk { level emergencyPlanFiled }
    openRepair { applicationId }
    reasons { code label outcome citations { type id } }
    measures { code zh }
  }
}
"""
BATCH_CHECK = """
query($applications: [SubsidyApplicationInput!]!) {
  subsidyEligibilityBatch(applications: $applications) {
    row outcome reasons { code citations { id } }
  }
}
"""


class TestCost:
    async def test_a_thousand_full_reviews_are_within_the_cost_limit(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given every field of a review, for 1,000 codes
        owner, _ = await enterprise(db, Grade.RED)
        codes = [owner.code] + [b.credit_code(n) for n in range(1, 1000)]
        # when
        response = await post_graphql(
            client, FULL_REVIEWS, {"codes": codes}, headers=await bank(tokens)
        )
        # then each review counts 37 (@listSize: 5 penalties, 2 vetoes, 6
        # reasons of 2 citations, 6 measures; 6 single objects)
        assert response.json()["extensions"]["cost"]["requested"] == 37_000
        assert data_of(response)["creditReviews"][0]["loan"] == "NO_NEW_CREDIT"

    async def test_a_subsidy_batch_costs_by_its_applications(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        headers = await tokens.headers(AgencyKind.CREDIT_OFFICE)
        headers["Hub-Purpose"] = "SUBSIDY_REVIEW"
        applications = [{"code": b.credit_code(n)} for n in range(1, 41)]
        response = await post_graphql(
            client, BATCH_CHECK, {"applications": applications}, headers=headers
        )
        # 40 rows, each 1 + 6 reasons × (1 + 2 citations)
        assert response.json()["extensions"]["cost"]["requested"] == 40 * 19
        assert len(data_of(response)["subsidyEligibilityBatch"]) == 40
