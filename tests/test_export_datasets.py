"""Exports of the four datasets: `hub export` and GET /exports/{dataset}.{format}."""

import asyncio
import io
import os
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from hub.cli_export import export_app
from hub.cli_import import STAFF
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind, Grade, PenaltyStatus, PolicyStatus, RiskLevel, Scheme
from hub.ingest.table import read_table
from hub.models import AuditEntry, Enterprise
from resolvers.export_specs import PENALTIES, Selection
from resolvers.exports import export_rows
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import hub

pytestmark = pytest.mark.anyio

EVIL = '=HYPERLINK("http://evil.test")有限公司'
PUBLIC_PENALTY_HEADER = [
    "行政相对人名称",
    "统一社会信用代码",
    "行政处罚决定书文号",
    "违法行为类型",
    "处罚类别",
    "处罚决定日期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "公示截止期",
    "当前状态",
    "行政区划代码",
    "地区名称",
]
DETAIL = [
    "违法事实",
    "处罚依据",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
]
FULL_PENALTY_HEADER = [
    *PUBLIC_PENALTY_HEADER[:4],
    *DETAIL[:2],
    "处罚类别",
    *DETAIL[2:],
    *PUBLIC_PENALTY_HEADER[5:],
]
DATASETS = ("ratings", "penalties", "risk", "insurance")
NAME_TITLES = {
    "ratings": "主体名称",
    "penalties": "行政相对人名称",
    "risk": "企业名称",
    "insurance": "企业名称",
}
FORMATS = ("csv", "xlsx", "jsonl")


async def owner(
    db: AsyncSession, *, district: str = "320205", name: str | None = None
) -> Enterprise:
    e = b.enterprise(district_code=district, name=name)
    db.add(e)
    await db.flush()
    return e


async def seed_all(db: AsyncSession) -> list[Enterprise]:
    """Two enterprises in 锡山区 (one named like a formula), one in 惠山区, each with
    one record of every dataset, in force on 2026-06-15."""
    owners = [
        await owner(db, name=EVIL),
        await owner(db),
        await owner(db, district="320206"),
    ]
    for e in owners:
        db.add_all(
            [b.rating(e), b.penalty(e), b.risk(e), b.policy(e)],
        )
    await db.commit()
    return owners


def parse(data: bytes, fmt: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of an exported file (JSON Lines: the keys, and the objects' values)."""
    if fmt == "jsonl":
        objects = [orjson.loads(line) for line in data.splitlines()]
        keys = list(objects[0]) if objects else []
        return keys, [list(o.values()) for o in objects]
    table = read_table(data, f"export.{fmt}")
    return list(table.header), [list(cells) for _, cells in table.rows]


def column(header: list[str], rows: list[list[Any]], title: str) -> list[Any]:
    i = header.index(title)
    return [r[i] for r in rows]


def has_formulas(xlsx: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        return any(re.search(rb"<f[\s/>]", archive.read(n)) for n in sheets)


async def download(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str] | None = None,
    /,
    **params: str,
) -> httpx.Response:
    return await client.get(f"/exports/{path}", params=params, headers=headers)


class TestEveryDatasetAndFormat:
    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("dataset", DATASETS)
    async def test_the_city_bureau_downloads(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        dataset: str,
        fmt: str,
    ) -> None:
        # given
        owners = await seed_all(db)
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await download(client, f"{dataset}.{fmt}", headers)
        # then
        assert response.status_code == 200, response.text
        header, rows = parse(response.content, fmt)
        code_key = "enterprise_code" if fmt == "jsonl" else "统一社会信用代码"
        assert sorted(column(header, rows, code_key)) == sorted(e.code for e in owners)
        assert response.headers["cache-control"] == "no-store"

    async def test_media_types_and_file_names(self, client: httpx.AsyncClient) -> None:
        # when
        csv, xlsx, jsonl = [
            await download(client, f"penalties.{fmt}", asOf="2026-06-01")
            for fmt in FORMATS
        ]
        # then
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert xlsx.headers["content-type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert jsonl.headers["content-type"] == "application/x-ndjson; charset=utf-8"
        assert csv.headers["content-disposition"] == (
            'attachment; filename="penalties_2026-06-01.csv"; '
            f"filename*=UTF-8''{quote('行政处罚决定_2026-06-01.csv')}"
        )
        assert (
            csv.content
            == "\ufeff".encode()
            + ",".join(f'"{t}"' for t in PUBLIC_PENALTY_HEADER).encode()
            + b"\r\n"
        )
        assert jsonl.content == b""


class TestPenalties:
    async def test_the_public_sees_published_decisions_without_detail(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        e = await owner(db)
        shown = b.penalty(e)
        db.add_all(
            [
                shown,
                b.penalty(e, status=PenaltyStatus.REVOKED),
                b.penalty(e, publication_end_date=date(2026, 6, 14)),  # window over
            ]
        )
        await db.commit()
        # when
        response = await download(client, "penalties.csv")
        # then
        header, rows = parse(response.content, "csv")
        assert header == PUBLIC_PENALTY_HEADER
        assert rows == [
            [
                e.name,
                e.code,
                shown.decision_number,
                "超标排放大气污染物",
                "罚款",
                "2026-03-01",
                "无锡市锡山生态环境局",
                b.CITY_BUREAU_CODE,
                "2027-03-01",
                "有效",
                "320205",
                "锡山区",
            ]
        ]

    async def test_a_bank_with_detail_gets_amounts_in_wan_yuan(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        e = await owner(db)
        p = b.penalty(e, fine=Decimal("123456.78"), categories=("WARNING", "FINE"))
        db.add(p)
        await db.commit()
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        # when
        response = await download(client, "penalties.csv", headers)
        # then
        header, rows = parse(response.content, "csv")
        assert header == FULL_PENALTY_HEADER
        assert dict(zip(header, rows[0], strict=True)) == {
            "行政相对人名称": e.name,
            "统一社会信用代码": e.code,
            "行政处罚决定书文号": p.decision_number,
            "违法行为类型": "超标排放大气污染物",
            "违法事实": p.facts,
            "处罚依据": p.legal_basis,
            "处罚类别": "警告、罚款",
            "处罚内容": "罚款人民币伍万元整",
            "罚款金额（万元）": "12.345678",
            "没收违法所得、没收非法财物的金额（万元）": "0",
            "处罚决定日期": "2026-03-01",
            "处罚机关": "无锡市锡山生态环境局",
            "处罚机关统一社会信用代码": b.CITY_BUREAU_CODE,
            "公示截止期": "2027-03-01",
            "当前状态": "有效",
            "行政区划代码": "320205",
            "地区名称": "锡山区",
        }

    async def test_a_bank_without_penalties_detail_gets_no_detail_columns(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        db.add(b.penalty(await owner(db)))
        await db.commit()
        headers = await tokens.headers(
            AgencyKind.COMMERCIAL_BANK, scope="penalties:read"
        )
        # when
        csv = await download(client, "penalties.csv", headers)
        jsonl = await download(client, "penalties.jsonl", headers)
        # then
        assert parse(csv.content, "csv")[0] == PUBLIC_PENALTY_HEADER
        keys = parse(jsonl.content, "jsonl")[0]
        assert not {
            "facts",
            "legal_basis",
            "content",
            "fine_amount",
            "confiscation_amount",
        } & set(keys)

    async def test_json_lines_carry_names_iso_dates_and_yuan(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        e = await owner(db)
        p = b.penalty(e, categories=("FINE", "CONFISCATION_OF_ILLEGAL_GAINS"))
        db.add(p)
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        response = await download(client, "penalties.jsonl", headers)
        # then
        assert [orjson.loads(line) for line in response.content.splitlines()] == [
            {
                "enterprise_name": e.name,
                "enterprise_code": e.code,
                "decision_number": p.decision_number,
                "violation_type": "超标排放大气污染物",
                "facts": p.facts,
                "legal_basis": p.legal_basis,
                "categories": ["FINE", "CONFISCATION_OF_ILLEGAL_GAINS"],
                "content": "罚款人民币伍万元整",
                "fine_amount": "50000.00",
                "confiscation_amount": "0.00",
                "decision_date": "2026-03-01",
                "authority_name": "无锡市锡山生态环境局",
                "authority_code": b.CITY_BUREAU_CODE,
                "publication_end_date": "2027-03-01",
                "status": "EFFECTIVE",
                "district_code": "320205",
                "district_name": "锡山区",
            }
        ]

    async def test_decisions_made_by_the_day(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        e = await owner(db)
        db.add_all(
            [
                b.penalty(e, decision_date=date(2026, 3, 1)),
                b.penalty(e, decision_date=date(2026, 3, 2)),
            ]
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)
        # when
        before = await download(client, "penalties.jsonl", headers, asOf="2026-02-28")
        first = await download(client, "penalties.jsonl", headers, asOf="2026-03-01")
        both = await download(client, "penalties.jsonl", headers, asOf="2026-03-02")
        # then
        assert [len(r.content.splitlines()) for r in (before, first, both)] == [0, 1, 2]

    async def test_a_county_bureau_sees_its_district_unpublished_included(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        xishan, huishan = await owner(db), await owner(db, district="320206")
        db.add_all(
            [
                b.penalty(xishan, status=PenaltyStatus.REVOKED),
                b.penalty(huishan),
            ]
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        response = await download(client, "penalties.jsonl", headers)
        # then
        rows = [orjson.loads(line) for line in response.content.splitlines()]
        assert [(r["enterprise_code"], r["status"]) for r in rows] == [
            (xishan.code, "REVOKED")
        ]


class TestChunks:
    async def test_rows_come_a_chunk_at_a_time_by_id(self, db: AsyncSession) -> None:
        # given
        e = await owner(db)
        made = [b.penalty(e) for _ in range(5)]
        db.add_all(made)
        await db.commit()
        day = date(2026, 6, 15)
        # when
        export = export_rows(db, PENALTIES, Selection(STAFF, day, day), chunk_rows=2)
        chunks = [chunk async for chunk in export.chunks]
        # then
        assert [len(chunk) for chunk in chunks] == [2, 2, 1]
        numbers = [row[2] for chunk in chunks for row in chunk]
        assert numbers == [p.decision_number for p in made]


class TestFormulaInjection:
    async def test_csv_cells_are_neutralised(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        for name in (EVIL, "+86 有限公司", "-1 有限公司", "@SUM 有限公司"):
            db.add(b.penalty(await owner(db, name=name)))
        await db.commit()
        # when
        response = await download(client, "penalties.csv")
        # then
        header, rows = parse(response.content, "csv")
        assert column(header, rows, "行政相对人名称") == [
            "'" + EVIL,
            "'+86 有限公司",
            "'-1 有限公司",
            "'@SUM 有限公司",
        ]

    async def test_xlsx_has_no_formulas(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        db.add(b.penalty(await owner(db, name=EVIL)))
        await db.commit()
        # when
        response = await download(client, "penalties.xlsx")
        # then
        assert not has_formulas(response.content)
        header, rows = parse(response.content, "xlsx")
        assert column(header, rows, "行政相对人名称") == [EVIL]
        assert column(header, rows, "处罚决定日期") == [datetime(2026, 3, 1)]


class TestAsOf:
    async def test_the_rating_in_force_on_the_day(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: BLUE for the year, RED from 1 July (a downgrade), national GREEN
        e = await owner(db)
        db.add_all(
            [
                b.rating(
                    e,
                    grade=Grade.BLUE,
                    valid_from=date(2026, 1, 1),
                    valid_to=date(2026, 12, 31),
                ),
                b.rating(e, grade=Grade.RED, valid_from=date(2026, 7, 1)),
                b.rating(
                    e,
                    grade=Grade.GREEN,
                    scheme=Scheme.NATIONAL_2013,
                    valid_from=date(2026, 1, 1),
                ),
            ]
        )
        await db.commit()

        async def grades(as_of: str, **params: str) -> list[tuple[str, str]]:
            response = await download(client, "ratings.jsonl", asOf=as_of, **params)
            assert response.status_code == 200, response.text
            return [
                (o["scheme"], o["grade"])
                for o in map(orjson.loads, response.content.splitlines())
            ]

        # when / then
        assert await grades("2025-12-31") == []
        assert await grades("2026-06-30") == [
            ("JS_DYNAMIC_12", "BLUE"),
            ("NATIONAL_2013", "GREEN"),
        ]
        assert await grades("2026-07-01") == [
            ("JS_DYNAMIC_12", "RED"),
            ("NATIONAL_2013", "GREEN"),
        ]
        assert await grades("2026-07-01", scheme="JS_DYNAMIC_12") == [
            ("JS_DYNAMIC_12", "RED")
        ]

    async def test_ratings_in_a_file_in_chinese(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        e = await owner(db)
        r = b.rating(e, grade=Grade.RED, valid_from=date(2026, 1, 1), year=2025)
        db.add(r)
        await db.commit()
        # when
        response = await download(client, "ratings.csv")
        # then
        header, rows = parse(response.content, "csv")
        assert dict(zip(header, rows[0], strict=True)) == {
            "主键": str(r.id),
            "统一社会信用代码": e.code,
            "主体名称": e.name,
            "行政区划代码": "320205",
            "地区名称": "锡山区",
            "评价名称": "江苏省企事业环保信用评价（动态记分）",
            "评价年度": "2025",
            "评价等级": "红色",
            "评价分值": "8.0",
            "评价状态": "终评",
            "评价机构": "无锡市生态环境局",
            "发布时间": None,
            "有效期起": "2026-01-01",
            "有效期止": None,
        }

    async def test_the_latest_risk_assessment_by_the_day(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        e = await owner(db)
        db.add_all(
            [
                b.risk(e, level=RiskLevel.LARGER, assessed_on=date(2025, 6, 1)),
                b.risk(e, level=RiskLevel.MAJOR, assessed_on=date(2026, 3, 1)),
            ]
        )
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)

        async def levels(as_of: str) -> list[str]:
            response = await download(client, "risk.csv", headers, asOf=as_of)
            header, rows = parse(response.content, "csv")
            return column(header, rows, "环境风险等级")

        # when / then
        assert await levels("2025-05-31") == []
        assert await levels("2026-02-28") == ["较大环境风险"]
        assert await levels("2026-03-01") == ["重大环境风险"]

    async def test_policies_covering_the_day(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        e = await owner(db)
        policy = b.policy(e, start=date(2026, 1, 1), end=date(2026, 12, 31))
        db.add_all([policy, b.policy(e, status=PolicyStatus.SURRENDERED)])
        await db.commit()
        headers = await tokens.headers(AgencyKind.CITY_EPB)

        async def policies(as_of: str) -> list[list[Any]]:
            response = await download(client, "insurance.csv", headers, asOf=as_of)
            return parse(response.content, "csv")[1]

        # when / then
        assert await policies("2025-12-31") == []
        assert await policies("2027-01-01") == []
        assert await policies("2026-12-31") == [
            [
                e.code,
                e.name,
                policy.insurer_name,
                policy.insurer_code,
                policy.policy_number,
                "2026-01-01",
                "2026-12-31",
                "200",
                "100",
                "30000.00",
                "有效",
                "320205",
                "锡山区",
            ]
        ]


class TestRefusals:
    @pytest.mark.parametrize(
        ("path", "token_scope"),
        [
            ("insurance.csv", None),
            ("risk.jsonl", None),
            ("ratings.xlsx", "penalties:read"),
        ],
    )
    async def test_missing_scope(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        path: str,
        token_scope: str | None,
    ) -> None:
        # given
        headers = await tokens.headers(scope=token_scope) if token_scope else {}
        # when
        response = await download(client, path, headers)
        # then
        assert response.status_code == 403
        dataset = path.split(".")[0]
        scope = {
            "insurance": "insurance:read",
            "risk": "risk:read",
            "ratings": "ratings:read",
        }[dataset]
        assert response.json() == {
            "errors": [
                {
                    "message": f"Not allowed to export {dataset}: needs scope {scope}",
                    "extensions": {
                        "code": "FORBIDDEN",
                        "reason": "MISSING_SCOPE",
                        "requiredScopes": [[scope]],
                    },
                }
            ]
        }

    @pytest.mark.parametrize(
        ("path", "params", "status", "reason", "field"),
        [
            ("grades.csv", {}, 404, "UNKNOWN_DATASET", None),
            ("penalties", {}, 400, "UNSUPPORTED_FORMAT", "format"),
            ("penalties.pdf", {}, 400, "UNSUPPORTED_FORMAT", "format"),
            ("penalties.csv", {"asOf": "2026-02-30"}, 400, "INVALID_DATE", "asOf"),
            ("penalties.csv", {"asOf": "20260215"}, 400, "INVALID_DATE", "asOf"),
            (
                "penalties.csv",
                {"as_of": "2026-02-15"},
                400,
                "UNKNOWN_PARAMETER",
                "as_of",
            ),
            (
                "penalties.csv",
                {"scheme": "JS_DYNAMIC_12"},
                400,
                "SCHEME_NOT_APPLICABLE",
                "scheme",
            ),
            ("ratings.csv", {"scheme": "ZJ_2020"}, 400, "INVALID_SCHEME", "scheme"),
        ],
    )
    async def test_bad_requests(
        self,
        client: httpx.AsyncClient,
        path: str,
        params: dict[str, str],
        status: int,
        reason: str,
        field: str | None,
    ) -> None:
        # when
        response = await download(client, path, **params)
        # then
        assert response.status_code == status
        (error,) = response.json()["errors"]
        assert error["extensions"]["reason"] == reason
        assert error["extensions"].get("field") == field
        assert error["message"]

    async def test_unknown_dataset_names_the_datasets(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await download(client, "grades.csv")
        # then
        assert response.json()["errors"][0] == {
            "message": "There is no export 'grades'; use one of: ratings, penalties, risk, insurance.",
            "extensions": {"code": "NOT_FOUND", "reason": "UNKNOWN_DATASET"},
        }

    async def test_a_bad_token_gets_401(self, client: httpx.AsyncClient) -> None:
        # when
        response = await download(
            client, "penalties.csv", {"Authorization": "Bearer nope"}
        )
        # then
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def test_a_bank_must_state_its_purpose(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        token = await tokens.token(AgencyKind.COMMERCIAL_BANK)
        # when
        response = await download(
            client, "penalties.csv", {"Authorization": f"Bearer {token}"}
        )
        # then
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "PURPOSE_REQUIRED",
        }


class TestAudit:
    async def test_an_export_is_one_entry_naming_its_enterprises(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given
        owners = await seed_all(db)
        headers = await tokens.headers(
            AgencyKind.COMMERCIAL_BANK, scope="penalties:read"
        )
        # when
        response = await download(client, "penalties.csv", headers, asOf="2026-06-01")
        # then
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        entry = (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.request_id == request_id)
            )
        ).one()
        assert (entry.kind, entry.outcome, entry.operation_name) == (
            "EXPORT",
            "OK",
            "export penalties",
        )
        assert entry.purpose == "LOAN_APPROVAL"
        assert entry.variables == {
            "dataset": "penalties",
            "format": "csv",
            "asOf": "2026-06-01",
            "scheme": None,
            "rows": 3,
        }
        assert entry.enterprises == sorted(e.code for e in owners)
        assert "penalties.facts" in entry.denied
        assert "penalties.decision_number" in entry.fields

    async def test_a_refusal_is_recorded(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # when
        response = await download(client, "insurance.csv")
        # then
        entry = (
            await db.scalars(
                select(AuditEntry).where(
                    AuditEntry.request_id == response.headers["x-request-id"]
                )
            )
        ).one()
        assert (entry.kind, entry.outcome, entry.reason) == (
            "EXPORT",
            "DENIED",
            "MISSING_SCOPE",
        )

    async def test_no_file_without_an_audit_entry(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await seed_all(db)
        await db.execute(text("ALTER TABLE audit_entry RENAME TO audit_entry_away"))
        await db.commit()
        try:
            # when
            response = await download(client, "penalties.csv")
        finally:
            await db.execute(text("ALTER TABLE audit_entry_away RENAME TO audit_entry"))
            await db.commit()
        # then
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


async def seed_files(url: str) -> list[Enterprise]:
    engine = create_engine(Settings(database_url=url))
    try:
        async with create_sessionmaker(engine)() as db:
            return await seed_all(db)
    finally:
        await engine.dispose()


def export(*args: str) -> Any:
    return CliRunner().invoke(export_app, list(args))


class TestExportCommand:
    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("dataset", DATASETS)
    def test_writes_every_dataset(self, cli: Path, dataset: str, fmt: str) -> None:
        # given
        owners = asyncio.run(seed_files(os.environ["HUB_DATABASE_URL"]))
        output = cli / f"{dataset}.out"
        # when
        result = export(
            dataset, "--format", fmt, "--as-of", "2026-06-15", "--output", str(output)
        )
        # then
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(
            f"3 rows of {dataset} as of 2026-06-15 written to {output} ({fmt})"
        )
        data = output.read_bytes()
        header, rows = parse(data, fmt)
        code_key = "enterprise_code" if fmt == "jsonl" else "统一社会信用代码"
        assert sorted(column(header, rows, code_key)) == sorted(e.code for e in owners)
        if fmt == "xlsx":
            assert not has_formulas(data)
        if fmt == "csv":
            assert "'" + EVIL in column(header, rows, NAME_TITLES[dataset])
        assert not (cli / f"{dataset}.out.part").exists()

    def test_format_from_the_file_name(self, cli: Path) -> None:
        # when
        result = export("penalties", "--output", str(cli / "处罚.jsonl"))
        # then
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("0 rows of penalties")
        assert (cli / "处罚.jsonl").read_bytes() == b""

    def test_penalties_csv_imports_unchanged(self, cli: Path) -> None:
        # given
        asyncio.run(seed_files(os.environ["HUB_DATABASE_URL"]))
        output = cli / "处罚.csv"
        assert export("penalties", "--output", str(output)).exit_code == 0
        # when
        again = hub("import", "penalties", str(output))
        # then
        assert again.exit_code == 0, again.output
        assert "0 created, 0 updated, 3 unchanged" in again.output

    def test_insurance_csv_imports_unchanged(self, cli: Path) -> None:
        # given
        asyncio.run(seed_files(os.environ["HUB_DATABASE_URL"]))
        output = cli / "投保清单.xlsx"
        assert (
            export(
                "insurance", "--as-of", "2026-06-15", "--output", str(output)
            ).exit_code
            == 0
        )
        # when
        again = hub("import", "insurance", str(output))
        # then
        assert again.exit_code == 0, again.output
        assert "0 created, 0 updated, 3 unchanged" in again.output

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["penalties", "--as-of", "2026-02-30"],
                "--as-of: '2026-02-30' is not a calendar date written YYYY-MM-DD",
            ),
            (["grades"], "There is no export 'grades'"),
            (
                ["risk", "--scheme", "JS_DYNAMIC_12"],
                "scheme applies to the ratings export only",
            ),
        ],
    )
    def test_refusals(self, cli: Path, args: list[str], message: str) -> None:
        # when
        result = export(*args, "--output", str(cli / "x.csv"))
        # then
        assert result.exit_code == 2
        assert message in result.output
        assert not (cli / "x.csv").exists()

    def test_needs_a_format(self, cli: Path) -> None:
        # when
        result = export("risk", "--output", str(cli / "risk.pdf"))
        # then
        assert result.exit_code == 2
        assert "give --format csv, xlsx or jsonl" in result.output
