"""Name search: `enterprises(filter: {nameContains})` through the trigram indexes."""

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.migrate import alembic_config, upgrade
from hub.models import Enterprise
from seeds import builders as b
from seeds.loader import load_demo
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql, without_cost

pytestmark = pytest.mark.anyio

SEARCH = """
query($text: String, $first: Int!, $after: String) {
  enterprises(filter: {nameContains: $text}, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { name }
  }
}
"""
NAMES = [
    "无锡锡山精细化工有限公司",
    "江阴华新印染有限公司",
    "宜兴丁蜀陶瓷有限公司",
    "无锡惠山化工新材料有限公司",
]
LITERALS = [
    "无锡100%纯水有限公司",
    "无锡100纯水有限公司",
    "无锡A_B化工有限公司",
    "无锡AxB化工有限公司",
    "无锡A\\B化工有限公司",
    '无锡"太湖"牌环保有限公司',
    "无锡太湖牌环保有限公司",
]
IMPORT = """
mutation($file: Upload!, $allowUpdates: Boolean!) {
  importRecords(dataset: ENTERPRISES, file: $file, allowUpdates: $allowUpdates,
                dryRun: false) { created updated }
}
"""
FTS_OBJECTS = """
SELECT type, name FROM sqlite_master
WHERE name LIKE 'enterprise_name_fts%' ORDER BY type, name
"""
MATCH_COUNT = (
    "SELECT count(*) FROM enterprise_name_fts WHERE enterprise_name_fts MATCH :q"
)


async def search(
    client: httpx.AsyncClient,
    needle: str | None,
    *,
    headers: dict[str, str] | None = None,
    first: int = 100,
    after: str | None = None,
) -> list[str]:
    response = await post_graphql(
        client,
        SEARCH,
        {"text": needle, "first": first, "after": after},
        headers=headers,
    )
    return [n["name"] for n in data_of(response)["enterprises"]["nodes"]]


async def given(db: AsyncSession, names: list[str], district: str = "320205") -> None:
    db.add_all([b.enterprise(name=n, district_code=district) for n in names])
    await db.commit()


async def assert_index_in_step(engine: AsyncEngine) -> None:
    """On SQLite, FTS5 compares its index with the enterprise table and fails
    on any difference; PostgreSQL maintains its GIN index itself."""
    if engine.dialect.name == "sqlite":
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO enterprise_name_fts (enterprise_name_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )


class TestNameContains:
    @pytest.mark.parametrize(
        ("needle", "expected"),
        [
            ("精细化工", ["无锡锡山精细化工有限公司"]),
            ("山精细化", ["无锡锡山精细化工有限公司"]),  # from the middle
            ("化工", ["无锡锡山精细化工有限公司", "无锡惠山化工新材料有限公司"]),
            ("印染", ["江阴华新印染有限公司"]),
            ("丁", ["宜兴丁蜀陶瓷有限公司"]),
            ("有限公司", NAMES),
            ("无锡锡山精细化工有限公司", ["无锡锡山精细化工有限公司"]),
            ("化工厂", []),
            ("瓷器", []),
        ],
    )
    async def test_chinese_substrings(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        needle: str,
        expected: list[str],
    ) -> None:
        # given
        await given(db, NAMES)
        # when
        found = await search(client, needle)
        # then
        assert found == expected

    @pytest.mark.parametrize("needle", ["ab", "AB", "aB", "abc", "ABC", "Bc新"])
    async def test_ascii_letters_in_any_case(
        self, client: httpx.AsyncClient, db: AsyncSession, needle: str
    ) -> None:
        # given
        await given(
            db, ["无锡ABC新材料有限公司", "无锡abc新材料有限公司", "无锡AXC有限公司"]
        )
        # when
        found = await search(client, needle)
        # then
        assert found == ["无锡ABC新材料有限公司", "无锡abc新材料有限公司"]

    @pytest.mark.parametrize(
        ("needle", "expected"),
        [
            ("%", ["无锡100%纯水有限公司"]),
            ("0%纯", ["无锡100%纯水有限公司"]),
            ("_", ["无锡A_B化工有限公司"]),
            ("A_B", ["无锡A_B化工有限公司"]),
            ("\\", ["无锡A\\B化工有限公司"]),
            ("A\\B化", ["无锡A\\B化工有限公司"]),
            ('"', ['无锡"太湖"牌环保有限公司']),
            ('"太湖"', ['无锡"太湖"牌环保有限公司']),
            ('湖"牌', ['无锡"太湖"牌环保有限公司']),
            # FTS5 query syntax is text like any other
            ('"太湖" OR "纯水"', []),
            ("纯水*", []),
            ("NEAR(纯水 环保)", []),
        ],
    )
    async def test_special_characters_are_literal(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        needle: str,
        expected: list[str],
    ) -> None:
        # given
        await given(db, LITERALS)
        # when
        found = await search(client, needle)
        # then
        assert found == expected

    @pytest.mark.parametrize("needle", [None, "", "   ", "\u3000"])
    async def test_blank_is_no_filter(
        self, client: httpx.AsyncClient, db: AsyncSession, needle: str | None
    ) -> None:
        # given
        await given(db, NAMES)
        # when
        found = await search(client, needle)
        # then
        assert found == NAMES

    async def test_surrounding_spaces_are_ignored(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await given(db, NAMES)
        # when
        found = await search(client, " 印染\u3000")
        # then
        assert found == ["江阴华新印染有限公司"]

    async def test_pages_through_the_matches(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await given(db, [f"无锡第{i}精细化工有限公司" for i in range(5)] + NAMES)
        # when
        first = data_of(
            await post_graphql(client, SEARCH, {"text": "精细化工", "first": 4})
        )["enterprises"]
        rest = await search(
            client, "精细化工", first=4, after=first["pageInfo"]["endCursor"]
        )
        # then
        assert first["totalCount"] == 6
        assert first["pageInfo"]["hasNextPage"] is True
        assert [n["name"] for n in first["nodes"]] + rest == [
            *(f"无锡第{i}精细化工有限公司" for i in range(5)),
            "无锡锡山精细化工有限公司",
        ]

    async def test_a_county_bureau_searches_its_district(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        await given(db, ["无锡锡山精细化工有限公司"], district="320205")
        await given(db, ["无锡惠山精细化工有限公司"], district="320206")
        xishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        long_text = await search(client, "精细化工", headers=xishan)
        short_text = await search(client, "化工", headers=xishan)
        # then
        assert long_text == short_text == ["无锡锡山精细化工有限公司"]

    async def test_text_over_100_characters(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await given(db, ["化" * 100])
        # when
        at_limit = await search(client, "化" * 100)
        response = await post_graphql(client, SEARCH, {"text": "化" * 101, "first": 20})
        # then
        assert at_limit == ["化" * 100]
        assert without_cost(response) == {
            "data": None,
            "errors": [
                {
                    "message": "filter.nameContains holds 101 characters; at most 100",
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["enterprises"],
                    "extensions": {
                        "code": "BAD_USER_INPUT",
                        "reason": "TEXT_TOO_LONG",
                        "field": "filter.nameContains",
                        "maxLength": 100,
                    },
                }
            ],
        }

    @pytest.mark.parametrize("text", ["无锡\u0000化工", "无锡\n化工"])
    async def test_control_characters_are_refused(
        self, client: httpx.AsyncClient, text: str
    ) -> None:
        response = await post_graphql(client, SEARCH, {"text": text, "first": 20})
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_TEXT",
            "field": "filter.nameContains",
        }


class TestIndexFollowsWrites:
    async def test_renamed_enterprise(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        engine: AsyncEngine,
    ) -> None:
        # given
        renamed = b.enterprise(name="无锡锡山精细化工有限公司")
        db.add(renamed)
        await db.commit()
        assert await search(client, "精细化工") == ["无锡锡山精细化工有限公司"]
        # when
        renamed.name = "无锡锡山环保科技有限公司"
        await db.commit()
        # then
        assert await search(client, "环保科技") == ["无锡锡山环保科技有限公司"]
        assert await search(client, "精细化工") == []
        assert await search(client, "化工") == []
        await assert_index_in_step(engine)

    async def test_other_updates_keep_the_name_found(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        engine: AsyncEngine,
    ) -> None:
        # given
        moved = b.enterprise(name="无锡锡山精细化工有限公司")
        db.add(moved)
        await db.commit()
        # when
        moved.address = "江苏省无锡市锡山区东港镇1号"
        await db.commit()
        # then
        assert await search(client, "精细化工") == ["无锡锡山精细化工有限公司"]
        await assert_index_in_step(engine)

    async def test_deleted_enterprise(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        engine: AsyncEngine,
    ) -> None:
        # given
        await given(db, NAMES)
        gone = await db.scalar(
            select(Enterprise).where(Enterprise.name == "江阴华新印染有限公司")
        )
        # when
        await db.delete(gone)
        await db.commit()
        # then
        assert await search(client, "华新印染") == []
        assert await search(client, "有限公司") == [
            n for n in NAMES if n != "江阴华新印染有限公司"
        ]
        await assert_index_in_step(engine)

    async def test_imported_then_renamed_by_import(
        self,
        client: httpx.AsyncClient,
        engine: AsyncEngine,
        tokens: Tokens,
    ) -> None:
        # given: many rows in one executemany INSERT, then one UPDATE each
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        codes = [b.credit_code(990_000 + i) for i in range(30)]
        created = await upload(client, epb, enterprises_csv(codes, "精细化工"))
        # when
        updated = await upload(
            client, epb, enterprises_csv(codes[:10], "生物医药"), allow_updates=True
        )
        # then
        assert created == {"created": 30, "updated": 0}
        assert updated == {"created": 0, "updated": 10}
        assert await search(client, "生物医药") == [
            f"无锡第{i}生物医药有限公司" for i in range(10)
        ]
        assert await search(client, "精细化工") == [
            f"无锡第{i}精细化工有限公司" for i in range(10, 30)
        ]
        await assert_index_in_step(engine)

    async def test_demo_data(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        # given: `hub seed` writes through the raw driver, many rows a statement
        await load_demo(engine, enterprises=400, seed=3, today=date(2026, 6, 15))
        async with engine.connect() as conn:
            names = list(await conn.scalars(select(Enterprise.name).order_by("id")))
        texts = ["化工", "锡", names[7][2:6], names[123][1:4], names[399]]
        for needle in texts:
            expected = [n for n in names if needle in n]
            # when
            page = data_of(
                await post_graphql(client, SEARCH, {"text": needle, "first": 100})
            )["enterprises"]
            # then
            assert page["totalCount"] == len(expected), needle
            assert [n["name"] for n in page["nodes"]] == expected[:100], needle
        await assert_index_in_step(engine)


async def test_sqlite_index_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    # given: a register at 0010 with one enterprise
    engine = create_engine(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    )
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            session.add(b.enterprise(name="无锡往返测试有限公司"))
            await session.commit()
        async with engine.connect() as conn:
            made = (await conn.execute(text(FTS_OBJECTS))).all()
        # when
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, "0009")
            left = (await conn.execute(text(FTS_OBJECTS))).all()
        await upgrade(engine)
        async with engine.connect() as conn:
            again = (await conn.execute(text(FTS_OBJECTS))).all()
            found = await conn.scalar(text(MATCH_COUNT), {"q": '"往返测试"'})
    finally:
        await engine.dispose()
    # then: 0009 has none of it; 0010 indexes the rows already there
    assert [tuple(r) for r in made] == [
        ("table", "enterprise_name_fts"),
        ("table", "enterprise_name_fts_config"),
        ("table", "enterprise_name_fts_data"),
        ("table", "enterprise_name_fts_docsize"),
        ("table", "enterprise_name_fts_idx"),
        ("trigger", "enterprise_name_fts_delete"),
        ("trigger", "enterprise_name_fts_insert"),
        ("trigger", "enterprise_name_fts_update"),
    ]
    assert left == []
    assert again == made
    assert found == 1


def _downgrade(sync_conn: object, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync_conn
    command.downgrade(config, revision)


def enterprises_csv(codes: list[str], word: str) -> bytes:
    lines = ["统一社会信用代码,企业名称,所属区县,注册地址,行业代码,监管类别"]
    lines += [
        f"{c},无锡第{i}{word}有限公司,锡山区,无锡市锡山区东港镇{i}号,C2614,市重点监控"
        for i, c in enumerate(codes)
    ]
    return ("\n".join(lines) + "\n").encode()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    allow_updates: bool = False,
) -> dict[str, int]:
    operations = {
        "query": IMPORT,
        "variables": {"file": None, "allowUpdates": allow_updates},
    }
    response = await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps({"0": ["variables.file"]})),
            "0": ("企业.csv", data, "text/csv"),
        },
        headers=headers,
    )
    report: dict[str, int] = data_of(response)["importRecords"]
    return report
