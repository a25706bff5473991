"""Importing files: uploads through GraphQL and `hub import`, all or nothing."""

import json
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind
from hub.ingest.docs import columns_markdown
from hub.models import (
    AnnualEmission,
    CollectionBatch,
    Enterprise,
    EnvironmentalEvent,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, hub

pytestmark = pytest.mark.anyio

IMPORT = """
mutation($dataset: Dataset!, $file: Upload!, $allowUpdates: Boolean!, $dryRun: Boolean!) {
  importRecords(dataset: $dataset, file: $file, allowUpdates: $allowUpdates, dryRun: $dryRun) {
    rows created updated unchanged batchId dryRun format encoding ignoredColumns
  }
}
"""
IMPORT_POLICIES = """
mutation($file: Upload!) {
  importInsurancePolicies(file: $file) { rows created unchanged format }
}
"""
PENALTY_HEADER = [
    "行政处罚决定书文号",
    "行政相对人名称",
    "统一社会信用代码",
    "处罚类别",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "罚款金额（万元）",
    "处罚决定日期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "公示截止期",
]


def penalty_row(code: str, n: int, **changes: str) -> list[str]:
    row = {
        "行政处罚决定书文号": f"锡山环罚决〔2026〕{n}号",
        "行政相对人名称": "无锡测试化工有限公司",
        "统一社会信用代码": code,
        "处罚类别": "罚款",
        "违法行为类型": "超标排放水污染物",
        "违法事实": "废水总排口化学需氧量超标0.8倍。",
        "处罚依据": "《中华人民共和国水污染防治法》第八十三条",
        "罚款金额（万元）": "2",
        "处罚决定日期": "2026-05-20",
        "处罚机关": "无锡市锡山生态环境局",
        "处罚机关统一社会信用代码": b.CITY_BUREAU_CODE,
        "公示截止期": "2029-05-20",
    } | changes
    return [row[h] for h in PENALTY_HEADER]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    lines = [",".join(PENALTY_HEADER), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    name: str,
    *,
    query: str = IMPORT,
    dataset: str = "PENALTIES",
    allow_updates: bool = False,
    dry_run: bool = False,
) -> httpx.Response:
    variables: dict[str, Any] = {"file": None}
    if query is IMPORT:
        variables |= {
            "dataset": dataset,
            "allowUpdates": allow_updates,
            "dryRun": dry_run,
        }
    operations = {"query": query, "variables": variables}
    return await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps({"0": ["variables.file"]})),
            "0": (name, data, "application/octet-stream"),
        },
        headers=headers,
    )


@pytest.fixture
async def owners(db: AsyncSession) -> list[Enterprise]:
    made = [b.enterprise() for _ in range(3)]
    db.add_all(made)
    await db.commit()
    return made


@pytest.fixture
async def epb(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.CITY_EPB)


async def penalties(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(PenaltyDecision)) or 0)


class TestUploadPenalties:
    @pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
    async def test_a_file_lands_whole_with_amounts_in_wan_yuan(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
        encoding: str,
    ) -> None:
        # given
        data = csv_bytes(
            [penalty_row(o.code, i) for i, o in enumerate(owners, 1)], encoding
        )
        # when
        response = await upload(client, epb, data, "处罚.csv")
        # then
        report = data_of(response)["importRecords"]
        assert report == {
            "rows": 3,
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "batchId": report["batchId"],
            "dryRun": False,
            "format": "csv",
            "encoding": encoding,
            "ignoredColumns": ["行政相对人名称"],
        }
        fines = set((await db.scalars(select(PenaltyDecision.fine_amount))).all())
        assert {str(f) for f in fines} == {"20000.00"}  # 2 万元
        batch = await db.get(CollectionBatch, report["batchId"])
        assert batch is not None
        assert (batch.file_name, batch.rows, batch.created) == ("处罚.csv", 3, 3)

    async def test_importing_the_same_file_again_changes_nothing(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        # given
        data = csv_bytes([penalty_row(o.code, i) for i, o in enumerate(owners, 1)])
        data_of(await upload(client, epb, data, "a.csv"))
        # when
        again = data_of(await upload(client, epb, data, "a.csv"))["importRecords"]
        # then
        assert (again["created"], again["unchanged"], again["batchId"]) == (0, 3, None)
        assert await penalties(db) == 3
        assert await db.scalar(select(func.count()).select_from(CollectionBatch)) == 1

    async def test_one_bad_row_and_nothing_lands(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        # given: row 3 (line 3) is decided in the future, row 4 fines a negative sum
        rows = [
            penalty_row(owners[0].code, 1),
            penalty_row(owners[1].code, 2, 处罚决定日期="2099-01-01"),
            penalty_row(owners[2].code, 3, **{"罚款金额（万元）": "-1"}),
        ]
        # when
        response = await upload(client, epb, csv_bytes(rows), "bad.csv")
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert [
            (p["row"], p["column"], p["reason"])
            for p in error["extensions"]["problems"]
        ] == [(3, "处罚决定日期", "FUTURE_DATE"), (4, "罚款金额（万元）", "NEGATIVE")]
        assert error["message"].startswith(
            "Nothing was written: row 3, column 处罚决定日期"
        )
        assert await penalties(db) == 0

    async def test_conflicting_content_is_refused_and_listed(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        # given: the stored decision, then the same number in [] with another fine
        data_of(
            await upload(
                client, epb, csv_bytes([penalty_row(owners[0].code, 7)]), "a.csv"
            )
        )
        changed = penalty_row(
            owners[0].code,
            7,
            行政处罚决定书文号="锡山环罚决[2026]7号",
            **{"罚款金额（万元）": "3"},
        )
        # when
        refused = await upload(client, epb, csv_bytes([changed]), "b.csv")
        # then
        problem = error_of(refused)["extensions"]["problems"][0]
        assert (problem["row"], problem["column"], problem["reason"]) == (
            2,
            "罚款金额（万元）",
            "CONFLICT",
        )
        # and with allowUpdates it is a correction
        report = data_of(
            await upload(client, epb, csv_bytes([changed]), "b.csv", allow_updates=True)
        )["importRecords"]
        assert (report["updated"], report["created"]) == (1, 0)
        assert await penalties(db) == 1

    async def test_unknown_enterprise_and_duplicate_rows(
        self, client: httpx.AsyncClient, epb: dict[str, str], owners: list[Enterprise]
    ) -> None:
        rows = [
            penalty_row(b.credit_code(990_001), 1),
            penalty_row(owners[0].code, 2),
            penalty_row(owners[0].code, 2),
        ]
        error = error_of(await upload(client, epb, csv_bytes(rows), "a.csv"))
        assert [(p["row"], p["reason"]) for p in error["extensions"]["problems"]] == [
            (2, "UNKNOWN_ENTERPRISE"),
            (4, "DUPLICATE_KEY"),
        ]

    async def test_a_money_header_must_name_its_unit(
        self, client: httpx.AsyncClient, epb: dict[str, str], owners: list[Enterprise]
    ) -> None:
        data = csv_bytes([penalty_row(owners[0].code, 1)]).replace(
            "罚款金额（万元）".encode(), "罚款金额".encode()
        )
        error = error_of(await upload(client, epb, data, "a.csv"))
        assert error["extensions"]["reason"] == "UNIT_REQUIRED"
        assert error["extensions"]["problems"][0]["column"] == "罚款金额"

    async def test_dry_run_writes_nothing(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        data = csv_bytes([penalty_row(o.code, i) for i, o in enumerate(owners, 1)])
        report = data_of(await upload(client, epb, data, "a.csv", dry_run=True))
        assert report["importRecords"]["created"] == 3
        assert await penalties(db) == 0

    async def test_insurance_lists_have_their_own_mutation(
        self, client: httpx.AsyncClient, epb: dict[str, str]
    ) -> None:
        error = error_of(
            await upload(client, epb, b"x,y\n1,2\n", "a.csv", dataset="INSURANCE")
        )
        assert error["extensions"]["reason"] == "USE_INSURANCE_IMPORT"

    async def test_a_bank_may_not_upload(
        self, client: httpx.AsyncClient, tokens: Tokens, owners: list[Enterprise]
    ) -> None:
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        response = await upload(
            client, headers, csv_bytes([penalty_row(owners[0].code, 1)]), "a.csv"
        )
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"

    async def test_a_body_over_the_limit_is_refused_before_it_is_read(
        self, client: httpx.AsyncClient, epb: dict[str, str], settings: Any
    ) -> None:
        big = b"x" * (settings.max_body_bytes + 1)
        response = await upload(client, epb, big, "big.csv")
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def policies_xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.create_sheet("投保清单", 0)
    sheet.append(["环境污染责任保险投保清单"])  # a title row above the header
    sheet.append(
        [
            "统一社会信用代码",
            "保单号",
            "保险起期",
            "保险止期",
            "累计责任限额（万元）",
            "每次事故责任限额（万元）",
            "保费（元）",
        ]
    )
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


class TestInsurerUploadsItsList:
    async def test_xlsx_enrollment_list(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        # given
        insurer = b.credit_code(555_001, "320200")
        headers = await tokens.headers(AgencyKind.INSURER, enterprise_code=insurer)
        rows = [
            [
                o.code,
                f"PICC-WX-2026-{i:06d}",
                date(2026, 1, 1),
                date(2026, 12, 31),
                200,
                100,
                30000,
            ]
            for i, o in enumerate(owners, 1)
        ]
        # when
        response = await upload(
            client, headers, policies_xlsx(rows), "清单.xlsx", query=IMPORT_POLICIES
        )
        # then
        report = data_of(response)["importInsurancePolicies"]
        assert report == {"rows": 3, "created": 3, "unchanged": 0, "format": "xlsx"}
        stored = (await db.scalars(select(InsurancePolicy))).all()
        assert {(p.insurer_code, str(p.cumulative_limit)) for p in stored} == {
            (insurer, "2000000.00")
        }

    async def test_a_credit_code_stored_as_a_number_is_refused(
        self, client: httpx.AsyncClient, tokens: Tokens, owners: list[Enterprise]
    ) -> None:
        headers = await tokens.headers(
            AgencyKind.INSURER, enterprise_code=b.credit_code(555_001, "320200")
        )
        rows = [
            [
                913101151000000408,
                "P-1",
                date(2026, 1, 1),
                date(2026, 12, 31),
                200,
                100,
                30000,
            ]
        ]
        error = error_of(
            await upload(
                client, headers, policies_xlsx(rows), "清单.xlsx", query=IMPORT_POLICIES
            )
        )
        problem = error["extensions"]["problems"][0]
        assert (problem["row"], problem["column"], problem["reason"]) == (
            3,
            "统一社会信用代码",
            "EXCEL_NUMBER",
        )


class TestCli:
    def write(
        self, path: Path, rows: list[list[str]], encoding: str = "gb18030"
    ) -> Path:
        path.write_bytes(csv_bytes(rows, encoding))
        return path

    def enterprises_file(self, path: Path, codes: list[str]) -> Path:
        lines = ["统一社会信用代码,企业名称,所属区县,注册地址,行业代码,监管类别"]
        lines += [
            f"{c},无锡第{i}精细化工有限公司,锡山区,无锡市锡山区东港镇{i}号,C2614,市重点监控"
            for i, c in enumerate(codes, 1)
        ]
        path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
        return path

    def test_import_enterprises_then_penalties_twice(self, cli: Path) -> None:
        codes = [b.credit_code(880_000 + i) for i in range(3)]
        first = hub(
            "import", "enterprises", str(self.enterprises_file(cli / "企业.csv", codes))
        )
        assert first.exit_code == 0, first.output
        assert "3 created" in first.output
        penalties_file = self.write(
            cli / "处罚.csv", [penalty_row(c, i) for i, c in enumerate(codes, 1)]
        )
        done = hub("import", "penalties", str(penalties_file))
        assert done.exit_code == 0, done.output
        assert "3 created, 0 updated, 0 unchanged" in done.output
        again = hub("import", "penalties", str(penalties_file))
        assert "0 created, 0 updated, 3 unchanged" in again.output
        verified = hub("audit", "verify")
        assert verified.exit_code == 0, verified.output

    def test_a_bad_file_names_row_and_column_and_fails(self, cli: Path) -> None:
        codes = [b.credit_code(880_100)]
        hub("import", "enterprises", str(self.enterprises_file(cli / "e.csv", codes)))
        bad = self.write(
            cli / "bad.csv",
            [
                penalty_row(codes[0], 1, 处罚决定日期="2026-02-30"),
                penalty_row(codes[0], 2, 违法事实="=1+1"),
                penalty_row(codes[0], 3, 统一社会信用代码="91110108600037341E"),
            ],
        )
        result = hub(
            "import", "penalties", str(bad), "--report", str(cli / "report.csv")
        )
        assert result.exit_code == 1
        assert "nothing imported" in result.output
        assert "INVALID_DATE" in result.output
        report = (cli / "report.csv").read_bytes().decode("utf-8-sig").splitlines()
        assert len(report) == 3  # the header and two problems; the formula is data
        assert report[1].startswith('2,"处罚决定日期","decision_date","INVALID_DATE"')
        assert report[2].startswith(
            '4,"统一社会信用代码","enterprise_code","INVALID_CREDIT_CODE"'
        )

    def test_unknown_dataset(self, cli: Path) -> None:
        path = cli / "x.csv"
        path.write_text("a,b\n")
        result = hub("import", "ratings", str(path))
        assert result.exit_code == 2
        assert "unknown dataset" in result.output


def test_readme_lists_the_column_titles() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert columns_markdown() in readme, (
        "README column tables are stale: paste hub.ingest.docs.columns_markdown()"
    )


class TestOtherDatasets:
    """English headers, units of mass, and the record checks of each dataset."""

    async def test_emissions_in_kilograms_with_english_headers(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        data = (
            "credit_code,year,COD (kg),NH3-N (kg),so2_t,NOx（吨）\n"
            f"{owners[0].code},2025,12345,678,1.5,\n"
        ).encode()
        report = data_of(await upload(client, epb, data, "e.csv", dataset="EMISSIONS"))
        assert report["importRecords"]["created"] == 1
        stored = (await db.scalars(select(AnnualEmission))).one()
        assert (stored.cod, stored.ammonia_nitrogen, stored.so2, stored.nox) == (
            Decimal("12.345"),
            Decimal("0.678"),
            Decimal("1.500"),
            None,
        )

    async def test_risk_levels_must_agree(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        data = (
            "统一社会信用代码,环境风险等级,大气环境风险等级,大气Q,大气M,大气E,水环境风险等级,评估日期\n"
            f"{owners[0].code},较大,一般,Q1,M1,E3,较大,2025-06-01\n"
            f"{owners[1].code},一般,一般,Q1,M1,E3,较大,2025-06-01\n"
        ).encode("gb18030")
        error = error_of(await upload(client, epb, data, "r.csv", dataset="RISK"))
        assert [(p["row"], p["reason"]) for p in error["extensions"]["problems"]] == [
            (3, "LEVEL_MISMATCH")
        ]
        fixed = data.replace(
            f"{owners[1].code},一般".encode("gb18030"),
            f"{owners[1].code},较大".encode("gb18030"),
        )
        assert (
            data_of(await upload(client, epb, fixed, "r.csv", dataset="RISK"))[
                "importRecords"
            ]["created"]
            == 2
        )
        strings = set((await db.scalars(select(RiskAssessment.level_string))).all())
        assert strings == {"较大[一般-大气(Q1-M1-E3)+较大-水]"}

    async def test_events_with_bracket_variants_are_one_record(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owners: list[Enterprise],
        db: AsyncSession,
    ) -> None:
        header = "统一社会信用代码,事件类型,文书编号,发生日期,认定机关,认定机关统一社会信用代码,事件等级,情况说明\n"
        row = f"{owners[0].code},突发环境事件,锡环应急〔2026〕3号,2026-04-02,无锡市生态环境局,{b.CITY_BUREAU_CODE},较大,泄漏\n"
        data_of(
            await upload(
                client, epb, (header + row).encode(), "a.csv", dataset="EVENTS"
            )
        )
        again = (header + row.replace("〔2026〕", "[2026]")).encode()
        report = data_of(await upload(client, epb, again, "b.csv", dataset="EVENTS"))
        assert (
            report["importRecords"]["created"],
            report["importRecords"]["unchanged"],
        ) == (0, 1)
        assert (
            await db.scalar(select(func.count()).select_from(EnvironmentalEvent)) == 1
        )
