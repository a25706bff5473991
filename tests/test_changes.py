"""The change feed: published changes in commit order, without gaps or repeats."""

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from auth.caller import Caller
from hub.db import HubSession
from hub.enums import AgencyKind, FeedDataset, Grade, Scheme
from hub.models import ChangeEvent, Enterprise
from resolvers.feed import NewEvent, changes_after, queue
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

CHANGES = """
query($after: String, $datasets: [FeedDataset!], $first: Int!) {
  changes(after: $after, datasets: $datasets, first: $first) {
    nodes { seq dataset kind enterpriseCode payload }
    endCursor hasNextPage
  }
}
"""
RECORD_PENALTY = """
mutation($input: PenaltyInput!) { recordPenalty(input: $input) { outcome } }
"""
RECORD_EVENT = """
mutation($input: EventInput!) { recordEvent(input: $input) { gradeChanges } }
"""


def penalty(code: str, n: int, **changes: Any) -> dict[str, Any]:
    return {
        "decisionNumber": f"锡山环罚决〔2026〕{n}号",
        "enterpriseCode": code,
        "categories": ["WARNING"],
        "violationType": "未按规定设置排污口标志",
        "facts": "现场检查发现排污口未设置标志牌。",
        "legalBasis": "《水污染防治法》第八十四条",
        "decisionDate": "2026-06-01",
        "authorityName": "无锡市锡山生态环境局",
        "authorityCode": b.CITY_BUREAU_CODE,
    } | changes


@pytest.fixture
async def epb(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.CITY_EPB)


async def two_districts(db: AsyncSession) -> tuple[Enterprise, Enterprise]:
    xishan, huishan = (
        b.enterprise(district_code="320205"),
        b.enterprise(district_code="320206"),
    )
    db.add_all([xishan, huishan])
    await db.commit()
    return xishan, huishan


class TestChanges:
    async def test_a_recorded_penalty_is_published_in_the_feed(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        # given
        xishan, _ = await two_districts(db)
        data_of(
            await post_graphql(
                client, RECORD_PENALTY, {"input": penalty(xishan.code, 1)}, headers=epb
            )
        )
        # when: the public reads the feed
        page = data_of(await post_graphql(client, CHANGES, {"first": 10}))["changes"]
        # then
        assert page["hasNextPage"] is False
        assert page["nodes"] == [
            {
                "seq": "1",
                "dataset": "PENALTY",
                "kind": "PUBLISHED",
                "enterpriseCode": xishan.code,
                "payload": {
                    "decisionNumber": "锡山环罚决〔2026〕1号",
                    "categories": ["WARNING"],
                    "decisionDate": "2026-06-01",
                    "authority": "无锡市锡山生态环境局",
                    "status": "EFFECTIVE",
                    "publicationEndDate": "2029-06-01",
                },
            }
        ]

    async def test_pages_follow_on_without_repeats(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        xishan, _ = await two_districts(db)
        for n in range(1, 4):
            data_of(
                await post_graphql(
                    client,
                    RECORD_PENALTY,
                    {"input": penalty(xishan.code, n)},
                    headers=epb,
                )
            )
        seen: list[str] = []
        after = None
        while True:
            page = data_of(
                await post_graphql(client, CHANGES, {"first": 2, "after": after})
            )["changes"]
            seen += [node["seq"] for node in page["nodes"]]
            after = page["endCursor"]
            if not page["hasNextPage"]:
                break
        assert seen == ["1", "2", "3"]
        again = data_of(
            await post_graphql(client, CHANGES, {"first": 2, "after": after})
        )
        assert again["changes"] == {
            "nodes": [],
            "endCursor": after,
            "hasNextPage": False,
        }

    async def test_a_county_bureau_follows_its_district(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        xishan, huishan = await two_districts(db)
        for n, owner in enumerate((xishan, huishan), start=1):
            data_of(
                await post_graphql(
                    client,
                    RECORD_PENALTY,
                    {"input": penalty(owner.code, n)},
                    headers=epb,
                )
            )
        county = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        page = data_of(
            await post_graphql(client, CHANGES, {"first": 10}, headers=county)
        )
        assert [n["enterpriseCode"] for n in page["changes"]["nodes"]] == [huishan.code]

    async def test_a_downgrade_is_news(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        # given: BLUE under the annual scheme
        xishan, _ = await two_districts(db)
        db.add(b.rating(xishan, grade=Grade.BLUE, scheme=Scheme.JS_ANNUAL_100))
        await db.commit()
        # when: hidden pipes are found
        veto = {
            "enterpriseCode": xishan.code,
            "kind": "INSPECTION_FINDING",
            "reference": "锡山环检〔2026〕7号",
            "occurredOn": "2026-06-10",
            "authorityName": "无锡市锡山生态环境局",
            "authorityCode": b.CITY_BUREAU_CODE,
            "violationCode": "HIDDEN_PIPE",
            "description": "私设暗管。",
        }
        data_of(await post_graphql(client, RECORD_EVENT, {"input": veto}, headers=epb))
        # then: a bank following ratings sees the downgrade
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        page = data_of(
            await post_graphql(
                client, CHANGES, {"first": 10, "datasets": ["RATING"]}, headers=bank
            )
        )["changes"]
        [change] = page["nodes"]
        assert (change["dataset"], change["kind"]) == ("RATING", "DOWNGRADED")
        assert (change["payload"]["grade"], change["payload"]["scheme"]) == (
            "BLACK",
            "JS_ANNUAL_100",
        )

    async def test_a_refused_write_leaves_no_event(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        xishan, _ = await two_districts(db)
        refused = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty(xishan.code, 1, decisionDate="2099-01-01")},
            headers=epb,
        )
        assert error_of(refused)["extensions"]["code"] == "BAD_USER_INPUT"
        assert await db.scalar(select(func.count()).select_from(ChangeEvent)) == 0

    async def test_a_bad_cursor(self, client: httpx.AsyncClient) -> None:
        response = await post_graphql(client, CHANGES, {"first": 5, "after": "bm9wZQ"})
        assert error_of(response)["extensions"]["reason"] == "INVALID_CURSOR"

    async def test_an_industry_regulator_sees_no_insurance(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        headers = await tokens.headers(AgencyKind.INDUSTRY_REGULATOR)
        response = await post_graphql(
            client, CHANGES, {"first": 5, "datasets": ["INSURANCE"]}, headers=headers
        )
        assert data_of(response)["changes"]["nodes"] == []


class TestConcurrentWriters:
    async def test_a_reader_never_sees_a_gap(
        self, sessionmaker: async_sessionmaker[AsyncSession], db: AsyncSession
    ) -> None:
        """Writers commit slowly after their events are numbered (pg_sleep in
        the commit window); a reader polling all along must see 1, 2, 3, ...
        with nothing appearing later below what it has already seen."""
        if db.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite allows one writer at a time; the race needs PostgreSQL")
        owner = b.enterprise()
        db.add(owner)
        await db.commit()

        def slow_commit(session: Session) -> None:
            session.execute(text("SELECT pg_sleep(:s)"), {"s": random.uniform(0, 0.03)})

        writers, rounds, per = 6, 8, 3
        event.listen(HubSession, "before_commit", slow_commit)
        try:
            seen: list[int] = []
            done = asyncio.Event()

            async def write(k: int) -> None:
                for _ in range(rounds):
                    async with sessionmaker() as session:
                        queue(
                            session,
                            [
                                NewEvent(
                                    FeedDataset.PENALTY,
                                    "PUBLISHED",
                                    owner.id,
                                    k,
                                    {"writer": k},
                                    datetime.now(UTC),
                                )
                                for _ in range(per)
                            ],
                        )
                        await session.commit()

            async def read() -> None:
                while True:
                    finished = done.is_set()
                    async with sessionmaker() as session:
                        rows, _ = await changes_after(
                            session,
                            caller=Caller.staff(),
                            after=seen[-1] if seen else 0,
                            datasets=None,
                            first=1000,
                        )
                    got = [r.seq for r in rows]
                    start = seen[-1] + 1 if seen else 1
                    assert got == list(range(start, start + len(got))), (seen[-5:], got)
                    seen.extend(got)
                    if finished:
                        return
                    await asyncio.sleep(0.005)

            reader = asyncio.create_task(read())
            await asyncio.gather(*(write(k) for k in range(writers)))
            done.set()
            await reader
        finally:
            event.remove(HubSession, "before_commit", slow_commit)
        assert seen == list(range(1, writers * rounds * per + 1))


RECORD_RISK = """
mutation($input: RiskAssessmentInput!) { recordRiskAssessment(input: $input) { outcome } }
"""


class TestRiskEvents:
    async def test_a_changed_level_and_a_confirmed_one(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        xishan, _ = await two_districts(db)
        for day, level in (
            ("2025-03-01", "GENERAL"),
            ("2025-09-01", "LARGER"),
            ("2026-03-01", "LARGER"),
        ):
            data_of(
                await post_graphql(
                    client,
                    RECORD_RISK,
                    {
                        "input": {
                            "enterpriseCode": xishan.code,
                            "overallLevel": level,
                            "assessedOn": day,
                        }
                    },
                    headers=epb,
                )
            )
        page = data_of(
            await post_graphql(
                client, CHANGES, {"first": 10, "datasets": ["RISK"]}, headers=epb
            )
        )["changes"]
        assert [(n["kind"], n["payload"]["previousLevel"]) for n in page["nodes"]] == [
            ("LEVEL_CHANGED", None),
            ("LEVEL_CHANGED", "GENERAL"),
            ("LEVEL_ASSESSED", "LARGER"),
        ]
