"""Dynamic management: grades follow serious events at once (动态管理)."""

import asyncio
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind, Grade, RatingBasis, RatingStatus, Scheme
from hub.models import CreditRating, Enterprise, EnvironmentalEvent, PenaltyDecision
from resolvers.context import cst_date
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, hub, post_graphql

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
    rating.score = Decimal(score)
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
        event_id = await db.scalar(select(EnvironmentalEvent.id))
        assert new.reason is not None
        assert f"EVENT:{event_id}" in new.reason

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
        assert new.score is not None
        assert new.score < 11
        penalty_id = await db.scalar(select(PenaltyDecision.id))
        cited = [line["records"] for line in new.explanation or []]
        assert [["PENALTY", penalty_id]] in cited


class TestDailyRecompute:
    def test_an_expired_deduction_gives_its_points_back(self, cli: Path) -> None:
        # given: BLUE for a fine of 14 months ago (its 6 months are long over)
        today = cst_date(datetime.now(UTC))
        asyncio.run(_arrange(os.environ["HUB_DATABASE_URL"], today))
        # when
        result = hub("evaluate", "dynamic")
        # then: 12 points again, GREEN from today
        assert result.exit_code == 0, result.output
        assert "1 dynamic grade(s) changed" in result.output
        grades = asyncio.run(_grades(os.environ["HUB_DATABASE_URL"]))
        assert grades == [(Grade.BLUE, today - timedelta(days=1)), (Grade.GREEN, None)]


async def _arrange(url: str, today: date) -> None:
    engine = create_engine(Settings(database_url=url))
    async with create_sessionmaker(engine)() as db:
        e = b.enterprise()
        db.add(e)
        await db.flush()
        db.add(b.penalty(e, decision_date=today - timedelta(days=420)))
        rating = b.rating(
            e,
            grade=Grade.BLUE,
            scheme=Scheme.JS_DYNAMIC_12,
            valid_from=today - timedelta(days=60),
        )
        rating.score = Decimal(9)
        db.add(rating)
        await db.commit()
    await engine.dispose()


async def _grades(url: str) -> list[tuple[Grade, date | None]]:
    engine = create_engine(Settings(database_url=url))
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(CreditRating.grade, CreditRating.valid_to).order_by(CreditRating.id)
        )
        found = [(grade, valid_to) for grade, valid_to in rows]
    await engine.dispose()
    return found
