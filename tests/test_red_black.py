"""The half-yearly red and black lists (红黑名单): GraphQL and `hub lists red-black`."""

import asyncio
import io
import os
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from hub.cli_lists import lists_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind, Grade, RatingStatus, Scheme
from hub.ingest.table import read_table
from hub.models import Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

RED_BLACK = """
query($year: Int!, $half: Int!, $scheme: Scheme) {
  redBlackList(year: $year, half: $half, scheme: $scheme) {
    year half asOf scheme count
    entries { code grade validFrom district { code } }
  }
}
"""
Decision = tuple[Grade, date, date | None]


async def rated(
    db: AsyncSession,
    *decisions: Decision,
    district: str = "320205",
    scheme: Scheme = Scheme.JS_DYNAMIC_12,
    status: RatingStatus = RatingStatus.FINAL,
) -> Enterprise:
    """An enterprise with published decisions (grade, valid from, valid to)."""
    owner = b.enterprise(district_code=district)
    db.add(owner)
    await db.flush()
    db.add_all(
        b.rating(
            owner,
            grade=grade,
            valid_from=start,
            valid_to=end,
            scheme=scheme,
            status=status,
        )
        for grade, start, end in decisions
    )
    await db.commit()
    return owner


def entry(owner: Enterprise, grade: str, valid_from: str) -> dict[str, object]:
    return {
        "code": owner.code,
        "grade": grade,
        "validFrom": valid_from,
        "district": {"code": owner.district_code},
    }


async def listed(
    client: httpx.AsyncClient,
    year: int = 2026,
    half: int = 1,
    *,
    scheme: str | None = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, object]]:
    variables = {"year": year, "half": half, "scheme": scheme}
    response = await post_graphql(client, RED_BLACK, variables, headers=headers)
    entries: list[dict[str, object]] = data_of(response)["redBlackList"]["entries"]
    return entries


class TestRedBlackList:
    async def test_the_public_reads_the_first_half(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        black = await rated(db, (Grade.BLACK, date(2026, 1, 1), None))
        # when
        response = await post_graphql(client, RED_BLACK, {"year": 2026, "half": 1})
        # then
        assert data_of(response) == {
            "redBlackList": {
                "year": 2026,
                "half": 1,
                "asOf": "2026-06-30",
                "scheme": "JS_DYNAMIC_12",
                "count": 1,
                "entries": [entry(black, "BLACK", "2026-01-01")],
            }
        }

    async def test_the_last_day_of_the_half_year_decides(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await rated(db, (Grade.RED, date(2026, 1, 1), date(2026, 6, 29)))
        until_june_30 = await rated(
            db, (Grade.RED, date(2026, 1, 1), date(2026, 6, 30))
        )
        from_july = await rated(db, (Grade.RED, date(2026, 7, 1), None))
        # when
        first, second = await listed(client, half=1), await listed(client, half=2)
        # then
        assert first == [entry(until_june_30, "RED", "2026-01-01")]
        assert second == [entry(from_july, "RED", "2026-07-01")]

    async def test_a_downgrade_inside_an_annual_period_wins(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: BLUE for the year, RED from May
        year = (Grade.BLUE, date(2026, 1, 1), date(2026, 12, 31))
        downgraded = await rated(db, year, (Grade.RED, date(2026, 5, 10), None))
        # when
        entries = await listed(client)
        # then
        assert entries == [entry(downgraded, "RED", "2026-05-10")]

    async def test_a_repair_inside_an_annual_period_wins(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: RED for the year, YELLOW from a repair in June
        year = (Grade.RED, date(2026, 1, 1), date(2026, 12, 31))
        await rated(db, year, (Grade.YELLOW, date(2026, 6, 20), date(2026, 12, 31)))
        # when
        entries = await listed(client)
        # then
        assert entries == []

    async def test_unpublished_decisions_are_not_listed(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        for status in (
            RatingStatus.DRAFT,
            RatingStatus.PRELIMINARY,
            RatingStatus.IN_PUBLIC_NOTICE,
            RatingStatus.REVOKED,
        ):
            await rated(db, (Grade.BLACK, date(2026, 1, 1), None), status=status)
        # when
        entries = await listed(client)
        # then
        assert entries == []

    async def test_ordered_by_district_then_code(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        decision = (Grade.RED, date(2026, 1, 1), None)
        huishan = await rated(db, decision, district="320206")
        xishan = [await rated(db, decision) for _ in range(2)]
        # when
        entries = await listed(client)
        # then
        expected = [*sorted(xishan, key=lambda e: e.code), huishan]
        assert [e["code"] for e in entries] == [e.code for e in expected]

    async def test_another_scheme_on_request(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        national = await rated(
            db, (Grade.RED, date(2026, 1, 1), None), scheme=Scheme.NATIONAL_2013
        )
        # when
        official = await listed(client)
        requested = await listed(client, scheme="NATIONAL_2013")
        # then
        assert official == []
        assert requested == [entry(national, "RED", "2026-01-01")]

    async def test_a_county_bureau_sees_its_district(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        decision = (Grade.BLACK, date(2026, 1, 1), None)
        xishan = await rated(db, decision)
        await rated(db, decision, district="320206")
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        entries = await listed(client, headers=headers)
        # then
        assert entries == [entry(xishan, "BLACK", "2026-01-01")]

    @pytest.mark.parametrize(
        ("year", "half", "field", "reason"),
        [
            (1989, 1, "year", "INVALID_YEAR"),
            (2101, 2, "year", "INVALID_YEAR"),
            (2026, 0, "half", "INVALID_HALF"),
            (2026, 3, "half", "INVALID_HALF"),
        ],
    )
    async def test_year_and_half_are_checked(
        self, client: httpx.AsyncClient, year: int, half: int, field: str, reason: str
    ) -> None:
        # when
        response = await post_graphql(client, RED_BLACK, {"year": year, "half": half})
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": reason,
            "field": field,
        }


async def seed_list(url: str) -> list[Enterprise]:
    """Two listed enterprises (one with a formula-like name) and one that is not."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with create_sessionmaker(engine)() as db:
            red = b.enterprise(name='=HYPERLINK("http://evil.test")有限公司')
            black = b.enterprise(district_code="320206")
            blue = b.enterprise()
            db.add_all([red, black, blue])
            await db.flush()
            db.add_all(
                [
                    b.rating(red, grade=Grade.RED, valid_from=date(2026, 1, 1)),
                    b.rating(black, grade=Grade.BLACK, valid_from=date(2026, 3, 1)),
                    b.rating(blue, grade=Grade.BLUE, valid_from=date(2026, 1, 1)),
                ]
            )
            await db.commit()
            return [red, black]
    finally:
        await engine.dispose()


HEADER = ["统一社会信用代码", "企业名称", "行政区划", "信用等级", "生效日期"]


class TestRedBlackCli:
    def test_writes_csv(self, cli: Path) -> None:
        # given
        red, black = asyncio.run(seed_list(os.environ["HUB_DATABASE_URL"]))
        output = cli / "红黑名单.csv"
        # when
        result = CliRunner().invoke(
            lists_app,
            ["red-black", "--year", "2026", "--half", "1", "--output", str(output)],
        )
        # then
        assert result.exit_code == 0, result.output
        assert result.output.startswith(
            "2 enterprises on the red/black list of 2026 H1"
        )
        table = read_table(output.read_bytes(), output.name)
        assert table.header == HEADER
        assert [cells for _, cells in table.rows] == [
            [red.code, "'" + red.name, "320205", "红色", "2026-01-01"],
            [black.code, black.name, "320206", "黑色", "2026-03-01"],
        ]

    def test_writes_xlsx_without_formulas(self, cli: Path) -> None:
        # given
        red, black = asyncio.run(seed_list(os.environ["HUB_DATABASE_URL"]))
        output = cli / "红黑名单.xlsx"
        # when
        result = CliRunner().invoke(
            lists_app,
            ["red-black", "--year", "2026", "--half", "1", "--output", str(output)],
        )
        # then
        assert result.exit_code == 0, result.output
        data = output.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
            assert sheets
            assert not any(re.search(rb"<f[\s/>]", archive.read(n)) for n in sheets)
        table = read_table(data, output.name)  # dates read back as datetimes
        assert table.header == HEADER
        assert [cells for _, cells in table.rows] == [
            [red.code, red.name, "320205", "红色", datetime(2026, 1, 1)],
            [black.code, black.name, "320206", "黑色", datetime(2026, 3, 1)],
        ]

    def test_other_file_types_are_refused(self, cli: Path) -> None:
        # when
        result = CliRunner().invoke(
            lists_app,
            ["red-black", "--year", "2026", "--half", "2", "--output", "list.pdf"],
        )
        # then
        assert result.exit_code == 2
        assert not (cli / "list.pdf").exists()
