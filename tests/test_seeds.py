"""Demo data: the generator's rules, and the bulk loader on SQLite and PostgreSQL."""

import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.config import Settings
from hub.credit_code import complete_credit_code, parse_credit_code
from hub.db import create_engine
from hub.decision_number import canonical_decision_number
from hub.districts import WUXI_DISTRICTS
from hub.enums import (
    EnterpriseStatus,
    Grade,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    RatingStatus,
    RiskLevel,
    Scheme,
)
from hub.migrate import upgrade
from hub.models import Base
from seeds.generator import TABLES, Row, generate
from seeds.loader import SeedError, SeedSummary, load_demo
from tests.conftest import PG_URL

pytestmark = pytest.mark.anyio

TODAY = date(2026, 6, 15)
# Validity ends and publication ends may lie in the future; nothing else may.
FUTURE_OK = {
    "valid_to",
    "publication_end_date",
    "end_date",
    "notice_until",
}  # deadlines
DYNAMIC_BANDS = [(11, Grade.GREEN), (6, Grade.BLUE), (3, Grade.YELLOW), (1, Grade.RED)]
ANNUAL_BANDS = [
    (Decimal(95), Grade.GREEN),
    (Decimal(80), Grade.BLUE),
    (Decimal(65), Grade.YELLOW),
    (Decimal("40.1"), Grade.RED),
]
RISK_RANK = {RiskLevel.GENERAL: 0, RiskLevel.LARGER: 1, RiskLevel.MAJOR: 2}


def rows_of(n: int, seed: int = 7, **options: Any) -> dict[str, list[Row]]:
    """All rows of a generated data set, per table."""
    tables: dict[str, list[Row]] = defaultdict(list)
    for batch in generate(n, seed=seed, today=TODAY, **options):
        for name, rows in batch.rows.items():
            tables[name].extend(rows)
    return dict(tables)


@pytest.fixture(scope="module")
def demo() -> dict[str, list[Row]]:
    return rows_of(3000)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def grade_for(score: Decimal, bands: list[tuple[Any, Grade]]) -> Grade:
    return next((grade for floor, grade in bands if score >= floor), Grade.BLACK)


class TestGenerator:
    def test_same_seed_same_rows(self) -> None:
        assert rows_of(300) == rows_of(300)

    def test_batch_size_does_not_change_rows(self) -> None:
        assert rows_of(300, batch_size=7) == rows_of(300)

    def test_different_seed_different_codes(self) -> None:
        codes = {e["code"] for e in rows_of(300)["enterprise"]}
        other = {e["code"] for e in rows_of(300, seed=8)["enterprise"]}
        assert codes.isdisjoint(other)

    def test_ids_start_where_asked(self) -> None:
        tables = rows_of(50, first_id=1001, first_row_id=5001)
        assert [e["id"] for e in tables["enterprise"]] == list(range(1001, 1051))
        assert tables["credit_rating"][0]["id"] == 5001
        owners = {r["enterprise_id"] for name in TABLES[1:] for r in tables[name]}
        assert owners <= set(range(1001, 1051))

    def test_credit_codes_are_valid_and_unique(
        self, demo: dict[str, list[Row]]
    ) -> None:
        codes = [e["code"] for e in demo["enterprise"]]
        assert [parse_credit_code(c) for c in codes] == codes
        assert len(set(codes)) == len(codes)
        registrars = Counter(c[2:8] for c in codes)
        assert set(registrars) <= {d.code for d in WUXI_DISTRICTS}
        assert registrars["320200"] > 0
        assert registrars["320202"] + registrars["320203"] + registrars["320204"] > 0

    def test_grades_agree_with_scores(self, demo: dict[str, list[Row]]) -> None:
        for r in demo["credit_rating"]:
            if r["scheme"] is Scheme.JS_DYNAMIC_12:
                assert r["score"] in range(13)
                assert r["grade"] is grade_for(r["score"], DYNAMIC_BANDS), r
            elif r["scheme"] is Scheme.JS_ANNUAL_100:
                assert 30 <= r["score"] <= 100
                assert r["score"] == round(r["score"], 1)
                assert r["grade"] is grade_for(r["score"], ANNUAL_BANDS), r
            else:
                assert r["score"] is None
                assert r["grade"] is not Grade.BLACK

    def test_dynamic_history_is_back_to_back(self, demo: dict[str, list[Row]]) -> None:
        histories: dict[int, list[Row]] = defaultdict(list)
        for r in demo["credit_rating"]:
            if (
                r["scheme"] is Scheme.JS_DYNAMIC_12
                and r["status"] is RatingStatus.FINAL
            ):
                histories[r["enterprise_id"]].append(r)
        assert len(histories) == len(demo["enterprise"])
        for history in histories.values():
            history.sort(key=lambda r: r["valid_from"])
            assert 1 <= len(history) <= 3
            for earlier, later in itertools.pairwise(history):
                assert earlier["valid_to"] == later["valid_from"] - timedelta(days=1)
            assert history[-1]["valid_to"] is None

    def test_annual_ratings_cover_key_enterprises(
        self, demo: dict[str, list[Row]]
    ) -> None:
        years = Counter(
            (r["scheme"], r["year"]) for r in demo["credit_rating"] if r["year"]
        )
        assert {year for _, year in years} == {2023, 2024, 2025}
        keys = Counter(e["supervision_category"].name for e in demo["enterprise"])
        assert (
            years[Scheme.JS_ANNUAL_100, 2025] == len(demo["enterprise"]) - keys["OTHER"]
        )
        assert years[Scheme.NATIONAL_2013, 2025] == keys["NATIONAL_KEY"]
        for r in demo["credit_rating"]:
            if r["year"]:
                assert (r["valid_from"], r["valid_to"]) == (
                    date(r["year"] + 1, 5, 1),
                    date(r["year"] + 2, 4, 30),
                )

    def test_nothing_dated_after_today(self, demo: dict[str, list[Row]]) -> None:
        for rows in demo.values():
            for row in rows:
                for column, value in row.items():
                    if isinstance(value, datetime):
                        assert value.tzinfo is UTC
                        assert value.date() <= TODAY, column
                    elif isinstance(value, date) and column not in FUTURE_OK:
                        assert value <= TODAY, (column, row)

    def test_grades_in_notice_take_objections(self, demo: dict[str, list[Row]]) -> None:
        noticed = [
            r
            for r in demo["credit_rating"]
            if r["status"] is RatingStatus.IN_PUBLIC_NOTICE
        ]
        assert noticed
        assert all(r["notice_until"] > TODAY for r in noticed)
        assert all(
            r["notice_until"] is None
            for r in demo["credit_rating"]
            if r["status"] is not RatingStatus.IN_PUBLIC_NOTICE
        )

    def test_decision_numbers(self, demo: dict[str, list[Row]]) -> None:
        penalties = demo["penalty_decision"]
        keys = [(p["authority_code"], p["decision_number_key"]) for p in penalties]
        assert len(set(keys)) == len(keys)
        for p in penalties:
            assert p["decision_number_key"] == canonical_decision_number(
                p["decision_number"]
            )
            assert p["decision_number_key"].endswith("号")
            assert parse_credit_code(p["authority_code"]).startswith("11320")
        brackets = {c for p in penalties for c in p["decision_number"] if c in "〔[﹝"}
        assert brackets == {"〔", "[", "﹝"}

    @pytest.mark.parametrize(
        ("number", "key"),
        [
            ("锡山环罚决[2023]45号", "锡山环罚决〔2023〕45号"),
            ("通01环罚﹝2025﹞2号", "通01环罚〔2025〕2号"),
            ("锡环罚［２０２４］１２号", "锡环罚〔2024〕12号"),
            (" 锡宜环罚决〔2022〕 44号", "锡宜环罚决〔2022〕44号"),
        ],
    )
    def test_canonical_decision_number(self, number: str, key: str) -> None:
        assert canonical_decision_number(number) == key

    def test_penalty_rules(self, demo: dict[str, list[Row]]) -> None:
        for p in demo["penalty_decision"]:
            assert {PenaltyCategory[c] for c in p["categories"]}
            fined = "FINE" in p["categories"]
            assert (
                (10_000 <= p["fine_amount"] <= 1_000_000)
                if fined
                else p["fine_amount"] == 0
            )
            long = (
                p["fine_amount"] >= 100_000 or "ORDERED_SUSPENSION" in p["categories"]
            )
            assert p["publication_end_date"] == add_years(
                p["decision_date"], 3 if long else 1
            )
            assert add_years(TODAY, -4) < p["decision_date"] <= TODAY

    def test_risk_overall_is_the_higher_medium(
        self, demo: dict[str, list[Row]]
    ) -> None:
        for r in demo["risk_assessment"]:
            media = [level for level in (r["air_level"], r["water_level"]) if level]
            assert r["overall_level"] is max(media, key=RISK_RANK.__getitem__)
            assert r["level_string"].startswith(
                {"GENERAL": "一般[", "LARGER": "较大[", "MAJOR": "重大["}[
                    r["overall_level"].name
                ]
            )
            if r["plan_filed_on"]:
                assert r["assessed_on"] < r["plan_filed_on"] <= TODAY
                assert r["plan_filing_number"].endswith(
                    "-" + "LMH"[RISK_RANK[r["overall_level"]]]
                )

    def test_policies(self, demo: dict[str, list[Row]]) -> None:
        policies = demo["insurance_policy"]
        numbers = [(p["insurer_code"], p["policy_number"]) for p in policies]
        assert len(set(numbers)) == len(numbers)
        for p in policies:
            assert parse_credit_code(p["insurer_code"]) == p["insurer_code"]
            assert 500_000 <= p["cumulative_limit"] <= 5_000_000
            assert p["per_accident_limit"] * 2 == p["cumulative_limit"]
            assert (
                p["cumulative_limit"] / 100
                <= p["premium"]
                <= p["cumulative_limit"] * 3 / 100
            )
            assert p["end_date"] == add_years(p["start_date"], 1) - timedelta(days=1)
            if p["status"] is not PolicyStatus.SURRENDERED:
                expected = (
                    PolicyStatus.ACTIVE
                    if p["end_date"] >= TODAY
                    else PolicyStatus.EXPIRED
                )
                assert p["status"] is expected
        listed = {(c["enterprise_id"], c["year"]) for c in demo["compulsory_insurance"]}
        assert {year for _, year in listed} == {2024, 2025, 2026}

    def test_shares_look_like_the_brief(self, demo: dict[str, list[Row]]) -> None:
        n = len(demo["enterprise"])
        status = Counter(e["status"] for e in demo["enterprise"])
        assert 0.92 < status[EnterpriseStatus.OPERATING] / n < 0.98
        penalised = {p["enterprise_id"] for p in demo["penalty_decision"]}
        assessed = {r["enterprise_id"] for r in demo["risk_assessment"]}
        listed = {c["enterprise_id"] for c in demo["compulsory_insurance"]}
        assert 0.2 < len(penalised) / n < 0.3
        assert 0.35 < len(assessed) / n < 0.5
        assert 0.15 < len(listed) / n < 0.25

    def test_material_for_api_tests(self, demo: dict[str, list[Row]]) -> None:
        ratings = demo["credit_rating"]
        assert {r["scheme"] for r in ratings} == set(Scheme)
        assert {r["grade"] for r in ratings} == set(Grade)
        assert {r["status"] for r in ratings} >= {
            RatingStatus.FINAL,
            RatingStatus.IN_PUBLIC_NOTICE,
            RatingStatus.DRAFT,
            RatingStatus.REVOKED,
        }
        assert {p["status"] for p in demo["penalty_decision"]} == set(PenaltyStatus)
        assert {r["overall_level"] for r in demo["risk_assessment"]} == set(RiskLevel)
        assert {p["status"] for p in demo["insurance_policy"]} == set(PolicyStatus)
        assert any(
            e["district_code"] in {"320202", "320203", "320204"}
            for e in demo["enterprise"]
        )


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                PG_URL is None, reason="set HUB_TEST_DATABASE_URL"
            ),
        ),
    ]
)
async def empty_db(
    request: pytest.FixtureRequest, tmp_path: Path, pg_test_url: str | None
) -> AsyncIterator[AsyncEngine]:
    """A migrated database without business data (emptied again afterwards):
    on PostgreSQL this worker's test database (tests/conftest.py)."""
    url = (
        pg_test_url
        if request.param == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}"
    )
    assert url is not None
    engine = create_engine(Settings(database_url=url))
    await upgrade(engine)
    await _empty(engine)
    try:
        yield engine
    finally:
        await _empty(engine)
        await engine.dispose()


async def _empty(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            )
        else:
            for table in reversed(TABLES):
                await conn.execute(text(f"DELETE FROM {table}"))


async def counts_in(engine: AsyncEngine) -> SeedSummary:
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        for name in TABLES:
            table = Base.metadata.tables[name]
            counts[name] = (
                await conn.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return SeedSummary(**counts)


class TestLoadDemo:
    async def test_writes_what_it_reports(self, empty_db: AsyncEngine) -> None:
        # given
        done: list[int] = []
        expected = {name: len(rows) for name, rows in rows_of(300, seed=1).items()}
        # when
        summary = await load_demo(
            empty_db,
            enterprises=300,
            seed=1,
            today=TODAY,
            progress=done.append,
            batch_size=120,
        )
        # then
        assert summary == SeedSummary(**expected)
        assert await counts_in(empty_db) == summary
        assert done == [120, 240, 300]

    async def test_stores_what_the_orm_reads_back(self, empty_db: AsyncEngine) -> None:
        # given
        generated = rows_of(100, seed=2)
        # when
        await load_demo(empty_db, enterprises=100, seed=2, today=TODAY)
        # then
        async with empty_db.connect() as conn:
            for name in TABLES:
                table = Base.metadata.tables[name]
                stored = (await conn.execute(select(table))).mappings().all()
                key = [c.name for c in table.primary_key]
                # Columns the demo rows leave out (batch_id) are stored as NULL.
                left_out = {
                    c.name for c in table.columns if c.name not in generated[name][0]
                }
                assert {v for r in stored for c, v in r.items() if c in left_out} <= {
                    None
                }
                assert (
                    sorted(
                        (
                            {c: v for c, v in r.items() if c not in left_out}
                            for r in stored
                        ),
                        key=lambda r: [r[k] for k in key],
                    )
                    == generated[name]
                )

    async def test_refuses_a_second_load(self, empty_db: AsyncEngine) -> None:
        # given
        await load_demo(empty_db, enterprises=300, seed=1, today=TODAY)
        # when / then
        with pytest.raises(SeedError, match="database already holds 300 enterprises"):
            await load_demo(empty_db, enterprises=10, seed=2, today=TODAY)

    async def test_is_all_or_nothing(self, empty_db: AsyncEngine) -> None:
        # given
        def fail_after_first_batch(done: int) -> None:
            raise RuntimeError(f"stopped at {done}")

        # when
        with pytest.raises(RuntimeError, match="stopped at 100"):
            await load_demo(
                empty_db,
                enterprises=300,
                seed=1,
                today=TODAY,
                progress=fail_after_first_batch,
                batch_size=100,
            )
        # then
        assert await counts_in(empty_db) == SeedSummary()

    async def test_new_rows_get_fresh_ids(self, empty_db: AsyncEngine) -> None:
        # given
        await load_demo(empty_db, enterprises=300, seed=1, today=TODAY)
        enterprise = Base.metadata.tables["enterprise"]
        row = rows_of(1, seed=99)["enterprise"][0]
        del row["id"]
        # Generated bodies start 6, 7 or MA, so this code is free.
        row["code"] = complete_credit_code("9132020500000001")
        # when
        async with empty_db.begin() as conn:
            new_id = await conn.scalar(
                insert(enterprise).values(row).returning(enterprise.c.id)
            )
        # then
        assert new_id == 301
