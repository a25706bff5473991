"""Dynamic management: grades follow serious events at once (动态管理)."""

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, Grade, RatingBasis, RatingStatus, Scheme
from hub.models import CreditRating, Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, post_graphql

pytestmark = pytest.mark.anyio

RECORD_EVENT = """
mutation($input: EventInput!) { recordEvent(input: $input) { outcome gradeChanges } }
"""
RECORD_PENALTY = """
mutation($input: PenaltyInput!) { recordPenalty(input: $input) { outcome gradeChanges } }
"""
GRADE_ON = """
query($c: String!, $d: Date!, $s: Scheme!) {
  enterprise(code: $c) { currentRating(asOf: $d, scheme: $s) { grade } }
}
"""
TODAY = date(2026, 6, 15)  # tests/conftest.py NOW, in China Standard Time


@pytest.fixture
async def epb(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.CITY_EPB)


async def with_grade(
    db: AsyncSession, grade: Grade, scheme: Scheme, score: str
) -> Enterprise:
    e = b.enterprise()
    db.add(e)
    await db.flush()
    rating = b.rating(e, grade=grade, scheme=scheme, valid_from=date(2026, 1, 1))
    rating.score = __import__("decimal").Decimal(score)
    db.add(rating)
    await db.commit()
    return e


async def grade_on(
    client: httpx.AsyncClient, code: str, day: date, scheme: Scheme, headers: Any
) -> str | None:
    answer = data_of(
        await post_graphql(
            client,
            GRADE_ON,
            {"c": code, "d": day.isoformat(), "s": scheme.value},
            headers=headers,
        )
    )["enterprise"]["currentRating"]
    return None if answer is None else str(answer["grade"])


def event(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "enterpriseCode": code,
        "kind": "INSPECTION_FINDING",
        "reference": "锡山环检〔2026〕7号",
        "occurredOn": "2026-06-10",
        "authorityName": "无锡市锡山生态环境局",
        "authorityCode": b.CITY_BUREAU_CODE,
        "violationCode": "HIDDEN_PIPE",
        "description": "现场检查发现私设暗管排放废水。",
    } | changes


class TestAnnualScheme:
    async def test_a_veto_event_drops_the_grade_at_once(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        # given: BLUE under the annual scheme since January
        e = await with_grade(db, Grade.BLUE, Scheme.JS_ANNUAL_100, "88")
        # when: hidden pipes are found (一票否决)
        done = data_of(
            await post_graphql(
                client, RECORD_EVENT, {"input": event(e.code)}, headers=epb
            )
        )["recordEvent"]
        # then: BLACK from today, BLUE until yesterday, the record cited
        assert done == {"outcome": "CREATED", "gradeChanges": 1}
        scheme = Scheme.JS_ANNUAL_100
        assert await grade_on(client, e.code, TODAY, scheme, epb) == "BLACK"
        assert await grade_on(client, e.code, date(2026, 6, 14), scheme, epb) == "BLUE"
        new = (
            await db.scalars(
                select(CreditRating).where(CreditRating.basis == RatingBasis.DOWNGRADE)
            )
        ).one()
        assert (new.status, new.valid_from) == (RatingStatus.FINAL, TODAY)
        assert new.reason is not None and "EVENT:" in new.reason

    async def test_an_ordinary_finding_changes_nothing(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        e = await with_grade(db, Grade.BLUE, Scheme.JS_ANNUAL_100, "88")
        done = data_of(
            await post_graphql(
                client,
                RECORD_EVENT,
                {"input": event(e.code, violationCode=None)},
                headers=epb,
            )
        )["recordEvent"]
        assert done["gradeChanges"] == 0
        assert (
            await grade_on(client, e.code, TODAY, Scheme.JS_ANNUAL_100, epb) == "BLUE"
        )

    async def test_an_ordered_suspension_drops_one_level(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        e = await with_grade(db, Grade.GREEN, Scheme.JS_ANNUAL_100, "97")
        penalty = {
            "decisionNumber": "锡山环罚决〔2026〕88号",
            "enterpriseCode": e.code,
            "categories": ["ORDERED_SUSPENSION"],
            "violationType": "超标排放",
            "facts": "责令停产整治。",
            "legalBasis": "《环境保护法》第六十条",
            "decisionDate": "2026-06-12",
            "authorityName": "无锡市锡山生态环境局",
            "authorityCode": b.CITY_BUREAU_CODE,
        }
        done = data_of(
            await post_graphql(client, RECORD_PENALTY, {"input": penalty}, headers=epb)
        )["recordPenalty"]
        assert done["gradeChanges"] == 1
        assert (
            await grade_on(client, e.code, TODAY, Scheme.JS_ANNUAL_100, epb) == "BLUE"
        )


class TestDynamicScheme:
    async def test_the_grade_follows_the_score(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        # given: GREEN, 12 points; a fine decided 20 days ago (its deduction is
        # in force 15 days after the decision)
        e = await with_grade(db, Grade.GREEN, Scheme.JS_DYNAMIC_12, "12")
        penalty = {
            "decisionNumber": "锡山环罚决〔2026〕90号",
            "enterpriseCode": e.code,
            "categories": ["FINE"],
            "violationType": "超标排放大气污染物",
            "facts": "颗粒物超标。",
            "legalBasis": "《大气污染防治法》第九十九条",
            "fineAmount": "100000",
            "decisionDate": "2026-05-26",
            "authorityName": "无锡市锡山生态环境局",
            "authorityCode": b.CITY_BUREAU_CODE,
        }
        # when
        done = data_of(
            await post_graphql(client, RECORD_PENALTY, {"input": penalty}, headers=epb)
        )["recordPenalty"]
        # then: below 11 points the grade is no longer GREEN
        assert done["gradeChanges"] == 1
        grade = await grade_on(client, e.code, TODAY, Scheme.JS_DYNAMIC_12, epb)
        assert grade in {"BLUE", "YELLOW"}
        new = (
            await db.scalars(
                select(CreditRating).where(CreditRating.basis == RatingBasis.DYNAMIC)
            )
        ).one()
        assert new.score is not None and new.score < 11
        assert new.explanation is not None
        assert any(
            ["PENALTY", new_id] in line["records"]  # type: ignore[operator]
            for line in new.explanation
            for new_id in [line["records"][0][1]]
            if line["records"]  # type: ignore[index]
        )
