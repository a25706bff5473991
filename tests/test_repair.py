"""Credit repair (信用修复): the rules, the bureau's steps, and the raised grade."""

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.enums import (
    AgencyKind,
    EventKind,
    Grade,
    PenaltyStatus,
    RatingBasis,
    RatingStatus,
    RepairStatus,
    Scheme,
)
from hub.models import (
    CreditRating,
    Enterprise,
    EnvironmentalEvent,
    RatingTransition,
    RepairApplication,
)
from seeds import builders as b
from tests.conftest import NOW, Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

FIELDS = "status grade refusalRule refusalReason"
APPLY = f"""
mutation($code: String!, $evidence: String!, $scheme: Scheme) {{
  applyForRepair(code: $code, evidence: $evidence, scheme: $scheme) {{ {FIELDS} }}
}}
"""
OPINION = f"""
mutation($id: ID!, $agree: Boolean!, $opinion: String!) {{
  giveRepairOpinion(id: $id, agree: $agree, opinion: $opinion) {{
    {FIELDS} districtOpinion
  }}
}}
"""
DECIDE = f"""
mutation($id: ID!, $approve: Boolean!, $reason: String!) {{
  decideRepair(id: $id, approve: $approve, reason: $reason) {{
    {FIELDS} noticeUntil decisionReason
  }}
}}
"""
COMPLETE = f"""
mutation($id: ID!) {{ completeRepair(id: $id) {{ {FIELDS} resultGrade }} }}
"""
APPLICATIONS = """
query($code: String, $status: RepairStatus) {
  repairApplications(code: $code, status: $status) { enterpriseCode status }
}
"""
GRADES = """
query($code: String!, $yesterday: Date!) {
  enterprise(code: $code) {
    yesterday: currentRating(asOf: $yesterday) { grade status validTo }
    today: currentRating { grade status validFrom validTo }
  }
}
"""
EVIDENCE = "废气排放口已完成整改，附第三方监测报告（锡环监〔2026〕88号）。"
TODAY = date(2026, 6, 15)  # NOW in China Standard Time
RATED_ON = date(2026, 1, 1)


class Clock:
    """The app's clock; a story may let days pass."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(settings: Settings, clock: Clock) -> Settings:
    return dataclasses.replace(settings, clock=clock)


async def rated(
    db: AsyncSession,
    grade: Grade = Grade.RED,
    *,
    district: str = "320205",
    scheme: Scheme = Scheme.JS_DYNAMIC_12,
    valid_to: date | None = None,
) -> Enterprise:
    """An enterprise with one published grade in force since 1 January."""
    owner = b.enterprise(district_code=district)
    db.add(owner)
    await db.flush()
    rating = b.rating(
        owner, grade=grade, scheme=scheme, valid_from=RATED_ON, valid_to=valid_to
    )
    db.add(rating)
    await db.commit()
    return owner


@pytest.fixture
async def owner(db: AsyncSession) -> Enterprise:
    return await rated(db)


async def application(
    db: AsyncSession,
    owner: Enterprise,
    status: RepairStatus = RepairStatus.APPLIED,
    *,
    notice_until: date | None = None,
) -> str:
    """A hand-made application of `owner`'s latest grade, in `status`; its id."""
    rating_id = await db.scalar(
        select(func.max(CreditRating.id)).where(CreditRating.enterprise_id == owner.id)
    )
    assert rating_id is not None
    made = RepairApplication(
        enterprise_id=owner.id,
        rating_id=rating_id,
        applied_at=NOW - timedelta(days=10),
        applicant="client:test",
        evidence=EVIDENCE,
        status=status,
        notice_until=notice_until,
    )
    db.add(made)
    await db.commit()
    return str(made.id)


def event(
    owner: Enterprise,
    on: date,
    *,
    kind: EventKind = EventKind.INSPECTION_FINDING,
    violation: str | None = None,
) -> EnvironmentalEvent:
    reference = f"锡山环检〔{on.year}〕{on.month}{on.day:02d}号"
    return EnvironmentalEvent(
        enterprise_id=owner.id,
        kind=kind,
        reference=reference,
        reference_key=reference,
        occurred_on=on,
        authority_name="无锡市锡山生态环境局",
        authority_code=b.CITY_BUREAU_CODE,
        violation_code=violation,
        description="现场检查发现问题。",
        valid_until=on + timedelta(days=365)
        if kind is EventKind.CREDIT_COMMITMENT
        else None,
    )


def refused(rule: str, reason: str, grade: str = "RED") -> dict[str, Any]:
    return {
        "status": "REFUSED",
        "grade": grade,
        "refusalRule": rule,
        "refusalReason": reason,
    }


APPLIED = {
    "status": "APPLIED",
    "grade": "RED",
    "refusalRule": None,
    "refusalReason": None,
}


async def apply(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, **extra: Any
) -> httpx.Response:
    variables = {"code": code, "evidence": EVIDENCE} | extra
    return await post_graphql(client, APPLY, variables, headers=headers)


async def stored(db: AsyncSession) -> list[tuple[RepairStatus, str | None]]:
    rows = await db.execute(
        select(RepairApplication.status, RepairApplication.refusal_rule).order_by(
            RepairApplication.id
        )
    )
    return [(status, rule) for status, rule in rows]


class TestApplyForRepair:
    async def test_the_enterprise_applies_for_itself(
        self, client: httpx.AsyncClient, tokens: Tokens, owner: Enterprise
    ) -> None:
        # given
        headers = await tokens.headers(
            AgencyKind.ENTERPRISE, enterprise_code=owner.code
        )
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {"applyForRepair": APPLIED}

    async def test_an_enterprise_may_not_apply_for_another(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given
        other = await rated(db)
        headers = await tokens.headers(
            AgencyKind.ENTERPRISE, enterprise_code=b.credit_code(99_001)
        )
        # when
        response = await apply(client, headers, other.code)
        # then
        error = error_of(response)
        assert error["extensions"] == {
            "code": "NOT_FOUND",
            "reason": "UNKNOWN_ENTERPRISE",
        }
        assert response.json()["data"] == {"applyForRepair": None}
        assert await stored(db) == []

    async def test_a_county_bureau_applies_in_its_district(
        self, client: httpx.AsyncClient, tokens: Tokens, owner: Enterprise
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {"applyForRepair": APPLIED}

    async def test_a_county_bureau_outside_its_district_finds_nothing(
        self, client: httpx.AsyncClient, tokens: Tokens, owner: Enterprise
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert error_of(response)["extensions"]["code"] == "NOT_FOUND"

    async def test_a_bank_is_forbidden(
        self, client: httpx.AsyncClient, tokens: Tokens, owner: Enterprise
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        # when
        response = await apply(client, headers, owner.code)
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["requiredScopes"] == [["repair:apply"]]

    async def test_a_green_grade_is_refused_and_kept(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given
        green = await rated(db, Grade.GREEN)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, green.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "NOT_REPAIRABLE_GRADE",
                "the grade in force is GREEN; only YELLOW, RED and BLACK grades "
                "can be repaired",
                grade="GREEN",
            )
        }
        assert await stored(db) == [(RepairStatus.REFUSED, "NOT_REPAIRABLE_GRADE")]

    async def test_no_grade_in_force_is_nothing_to_repair(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given: the grade ended before today
        expired = await rated(db, valid_to=date(2026, 5, 31))
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, expired.code)
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "NOT_REPAIRABLE_GRADE",
            "field": "code",
        }
        assert await stored(db) == []

    async def test_a_penalty_still_published_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: decided before the grade, published until November
        db.add(
            b.penalty(
                owner,
                number="锡山环罚决〔2025〕77号",
                decision_date=date(2025, 11, 1),
                publication_end_date=date(2026, 11, 1),
            )
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "PENALTY_STILL_PUBLISHED",
                "penalty decision 锡山环罚决〔2025〕77号 is published until 2026-11-01 "
                "(公示期); no repair before its publication ends",
            )
        }

    async def test_a_revoked_penalty_does_not_refuse(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        db.add(
            b.penalty(
                owner,
                decision_date=date(2025, 11, 1),
                publication_end_date=date(2026, 11, 1),
                status=PenaltyStatus.REVOKED,
            )
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {"applyForRepair": APPLIED}

    async def test_falsified_data_within_a_year_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: faked monitoring data found before the grade was decided
        db.add(event(owner, date(2025, 12, 1), violation="FAKE_MONITORING"))
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "FALSIFIED_DATA",
                "falsified monitoring data (锡山环检〔2025〕1201号) on 2025-12-01; "
                "no repair within 365 days, i.e. before 2026-12-01",
            )
        }

    async def test_falsified_data_a_year_ago_no_longer_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: exactly 365 days before today
        db.add(event(owner, TODAY - timedelta(days=365), violation="FAKE_MONITORING"))
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {"applyForRepair": APPLIED}

    async def test_a_penalty_after_the_grade_is_a_repeat_violation(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: decided after the grade; its publication is over
        db.add(
            b.penalty(
                owner,
                number="锡山环罚决〔2026〕12号",
                decision_date=date(2026, 3, 1),
                publication_end_date=date(2026, 6, 1),
            )
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "REPEAT_VIOLATION",
                "penalty decision 锡山环罚决〔2026〕12号 on 2026-03-01, after the grade "
                "was decided on 2026-01-01: a repeat violation",
            )
        }

    async def test_an_inspection_finding_after_the_grade_is_a_repeat_violation(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        db.add(event(owner, date(2026, 4, 1)))
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "REPEAT_VIOLATION",
                "event 锡山环检〔2026〕401号 on 2026-04-01, after the grade was "
                "decided on 2026-01-01: a repeat violation",
            )
        }

    async def test_a_credit_commitment_is_no_violation(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        db.add(event(owner, date(2026, 4, 1), kind=EventKind.CREDIT_COMMITMENT))
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {"applyForRepair": APPLIED}

    async def test_an_open_application_refuses_another(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        first = await application(db, owner, RepairStatus.DISTRICT_AGREED)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code)
        # then
        assert data_of(response) == {
            "applyForRepair": refused(
                "ALREADY_APPLIED",
                f"repair application {first} of this enterprise is still open "
                "(DISTRICT_AGREED)",
            )
        }
        assert await stored(db) == [
            (RepairStatus.DISTRICT_AGREED, None),
            (RepairStatus.REFUSED, "ALREADY_APPLIED"),
        ]

    @pytest.mark.parametrize(
        ("evidence", "reason"), [(" \n ", "REQUIRED"), ("证" * 5001, "TOO_LONG")]
    )
    async def test_evidence_is_required_and_bounded(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        owner: Enterprise,
        evidence: str,
        reason: str,
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await apply(client, headers, owner.code, evidence=evidence)
        # then
        extensions = error_of(response)["extensions"]
        assert extensions == {
            "code": "BAD_USER_INPUT",
            "reason": reason,
            "field": "evidence",
        }


class TestGiveRepairOpinion:
    async def test_the_district_agrees(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        variables = {"id": app_id, "agree": True, "opinion": "经现场核查，整改到位。"}
        # when
        response = await post_graphql(client, OPINION, variables, headers=headers)
        # then
        assert data_of(response) == {
            "giveRepairOpinion": APPLIED
            | {"status": "DISTRICT_AGREED", "districtOpinion": "经现场核查，整改到位。"}
        }

    async def test_the_district_disagrees(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        variables = {"id": app_id, "agree": False, "opinion": "废水治理设施未整改。"}
        # when
        response = await post_graphql(client, OPINION, variables, headers=headers)
        # then
        assert data_of(response) == {
            "giveRepairOpinion": refused("DISTRICT_DISAGREED", "废水治理设施未整改。")
            | {"districtOpinion": "废水治理设施未整改。"}
        }

    async def test_a_county_outside_its_district_finds_nothing(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        variables = {"id": app_id, "agree": True, "opinion": "同意。"}
        # when
        response = await post_graphql(client, OPINION, variables, headers=headers)
        # then
        assert error_of(response)["extensions"] == {
            "code": "NOT_FOUND",
            "reason": "UNKNOWN_REPAIR_APPLICATION",
        }
        assert await stored(db) == [(RepairStatus.APPLIED, None)]

    async def test_an_application_in_notice_is_in_the_wrong_state(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(
            db, owner, RepairStatus.IN_PUBLIC_NOTICE, notice_until=TODAY
        )
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        variables = {"id": app_id, "agree": True, "opinion": "同意。"}
        # when
        response = await post_graphql(client, OPINION, variables, headers=headers)
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "WRONG_STATUS",
            "field": "id",
            "status": "IN_PUBLIC_NOTICE",
        }


class TestDecideRepair:
    async def test_the_city_puts_the_repair_in_public_notice(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner, RepairStatus.DISTRICT_AGREED)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        variables = {"id": app_id, "approve": True, "reason": "符合修复条件。"}
        # when
        response = await post_graphql(client, DECIDE, variables, headers=headers)
        # then
        assert data_of(response) == {
            "decideRepair": APPLIED
            | {
                "status": "IN_PUBLIC_NOTICE",
                "noticeUntil": "2026-06-22",
                "decisionReason": "符合修复条件。",
            }
        }

    async def test_the_city_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner, RepairStatus.DISTRICT_AGREED)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        variables = {"id": app_id, "approve": False, "reason": "整改材料不全。"}
        # when
        response = await post_graphql(client, DECIDE, variables, headers=headers)
        # then
        assert data_of(response) == {
            "decideRepair": refused("CITY_REFUSED", "整改材料不全。")
            | {"noticeUntil": None, "decisionReason": "整改材料不全。"}
        }

    async def test_a_county_bureau_may_not_decide(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner, RepairStatus.DISTRICT_AGREED)
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        variables = {"id": app_id, "approve": True, "reason": "同意。"}
        # when
        response = await post_graphql(client, DECIDE, variables, headers=headers)
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["requiredScopes"] == [["ratings:publish"]]

    async def test_an_application_without_the_districts_opinion_is_in_the_wrong_state(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        variables = {"id": app_id, "approve": True, "reason": "同意。"}
        # when
        response = await post_graphql(client, DECIDE, variables, headers=headers)
        # then
        assert error_of(response)["extensions"]["reason"] == "WRONG_STATUS"


class TestCompleteRepair:
    async def test_not_before_the_notice_is_over(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: the notice's last day is today
        app_id = await application(
            db, owner, RepairStatus.IN_PUBLIC_NOTICE, notice_until=TODAY
        )
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=headers)
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "NOTICE_NOT_OVER",
            "field": "id",
            "noticeUntil": "2026-06-15",
        }

    async def test_a_penalty_during_the_notice_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(
            db, owner, RepairStatus.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 14)
        )
        db.add(
            b.penalty(
                owner,
                number="锡山环罚决〔2026〕88号",
                decision_date=date(2026, 6, 10),
                publication_end_date=date(2027, 6, 10),
            )
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=headers)
        # then
        assert data_of(response) == {
            "completeRepair": refused(
                "PENALTY_STILL_PUBLISHED",
                "penalty decision 锡山环罚决〔2026〕88号 is published until 2027-06-10 "
                "(公示期); no repair before its publication ends",
            )
            | {"resultGrade": None}
        }
        grades = await db.execute(select(CreditRating.grade, CreditRating.status))
        assert list(grades) == [(Grade.RED, RatingStatus.FINAL)]

    async def test_a_downgrade_during_the_notice_refuses(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given: a BLACK decision took effect after the application
        app_id = await application(
            db, owner, RepairStatus.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 14)
        )
        rating_id = await db.scalar(select(CreditRating.id))
        db.add(b.rating(owner, grade=Grade.BLACK, valid_from=date(2026, 6, 12)))
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=headers)
        # then
        assert data_of(response) == {
            "completeRepair": refused(
                "RATING_CHANGED",
                f"decision {rating_id} (RED) applied for is no longer the grade in "
                "force; apply again for the grade in force",
            )
            | {"resultGrade": None}
        }

    async def test_a_national_red_becomes_yellow(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        # given
        owner = await rated(db, Grade.RED, scheme=Scheme.NATIONAL_2013)
        app_id = await application(
            db, owner, RepairStatus.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 14)
        )
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=headers)
        # then
        assert data_of(response) == {
            "completeRepair": APPLIED | {"status": "DONE", "resultGrade": "YELLOW"}
        }
        new = (
            await db.execute(
                select(CreditRating.scheme, CreditRating.basis).where(
                    CreditRating.grade == Grade.YELLOW
                )
            )
        ).one()
        assert tuple(new) == (Scheme.NATIONAL_2013, RatingBasis.REPAIR)

    async def test_an_application_refused_is_in_the_wrong_state(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        app_id = await application(db, owner, RepairStatus.REFUSED)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=headers)
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "WRONG_STATUS",
            "field": "id",
            "status": "REFUSED",
        }

    async def test_an_unknown_id_is_not_found(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(client, COMPLETE, {"id": "x1"}, headers=headers)
        # then
        assert error_of(response)["extensions"]["code"] == "NOT_FOUND"


class TestRepairEndToEnd:
    async def test_an_accepted_repair_raises_the_grade_one_level(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
        clock: Clock,
    ) -> None:
        # given: the enterprise applies, the district agrees, the city approves
        itself = await tokens.headers(AgencyKind.ENTERPRISE, enterprise_code=owner.code)
        county = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        city = await tokens.headers(AgencyKind.CITY_EPB)
        data_of(await apply(client, itself, owner.code))
        (app_id,) = await db.scalars(select(RepairApplication.id))
        steps = [
            (OPINION, {"id": app_id, "agree": True, "opinion": "整改到位。"}, county),
            (DECIDE, {"id": app_id, "approve": True, "reason": "同意修复。"}, city),
        ]
        for query, variables, headers in steps:
            data_of(await post_graphql(client, query, variables, headers=headers))
        # when: the seven-day notice is over
        clock.advance(8)
        city = await tokens.headers(AgencyKind.CITY_EPB)
        response = await post_graphql(client, COMPLETE, {"id": app_id}, headers=city)
        # then
        assert data_of(response) == {
            "completeRepair": APPLIED | {"status": "DONE", "resultGrade": "YELLOW"}
        }
        grades = await post_graphql(
            client,
            GRADES,
            {"code": owner.code, "yesterday": "2026-06-22"},
            headers=city,
        )
        assert data_of(grades) == {
            "enterprise": {
                "yesterday": {
                    "grade": "RED",
                    "status": "REPAIRED",
                    "validTo": "2026-06-22",
                },
                "today": {
                    "grade": "YELLOW",
                    "status": "FINAL",
                    "validFrom": "2026-06-23",
                    "validTo": None,
                },
            }
        }
        old_id, new_id = await db.scalars(
            select(CreditRating.id).order_by(CreditRating.id)
        )
        new = (
            await db.execute(
                select(
                    CreditRating.basis,
                    CreditRating.supersedes_id,
                    CreditRating.published_at,
                ).where(CreditRating.id == new_id)
            )
        ).one()
        assert tuple(new) == (RatingBasis.REPAIR, old_id, clock.now)
        moves = await db.execute(
            select(
                RatingTransition.rating_id,
                RatingTransition.from_status,
                RatingTransition.to_status,
            ).order_by(RatingTransition.id)
        )
        assert list(moves) == [
            (new_id, None, RatingStatus.FINAL),
            (old_id, RatingStatus.FINAL, RatingStatus.REPAIRED),
        ]
        result = await db.scalar(select(RepairApplication.result_rating_id))
        assert result == new_id


class TestRepairApplications:
    async def test_an_enterprise_sees_only_its_own(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        other = await rated(db)
        await application(db, owner)
        await application(db, other)
        headers = await tokens.headers(
            AgencyKind.ENTERPRISE, enterprise_code=owner.code
        )
        # when
        response = await post_graphql(client, APPLICATIONS, headers=headers)
        # then
        assert data_of(response) == {
            "repairApplications": [{"enterpriseCode": owner.code, "status": "APPLIED"}]
        }

    async def test_the_city_filters_by_status(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        db: AsyncSession,
        owner: Enterprise,
    ) -> None:
        # given
        other = await rated(db, district="320206")
        await application(db, owner, RepairStatus.REFUSED)
        await application(db, other, RepairStatus.DISTRICT_AGREED)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await post_graphql(
            client, APPLICATIONS, {"status": "DISTRICT_AGREED"}, headers=headers
        )
        # then
        assert data_of(response) == {
            "repairApplications": [
                {"enterpriseCode": other.code, "status": "DISTRICT_AGREED"}
            ]
        }
