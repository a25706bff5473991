"""POST /subsidy/eligibility.{csv,xlsx}: an application list in, the report out."""

import io
from datetime import date

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, Grade
from hub.ingest.table import Cell, read_table
from hub.models import Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.test_audit_requests import entry_for

pytestmark = pytest.mark.anyio

HEADER = [
    "行号",
    "统一社会信用代码",
    "企业名称",
    "申报项目",
    "评价结果",
    "结果代码",
    "理由",
    "错误",
]


async def rated(db: AsyncSession, grade: Grade, name: str) -> Enterprise:
    owner = b.enterprise(name=name)
    db.add(owner)
    await db.flush()
    db.add(b.rating(owner, grade=grade, valid_from=date(2026, 1, 1)))
    await db.commit()
    return owner


async def office(tokens: Tokens) -> dict[str, str]:
    headers = await tokens.headers(AgencyKind.CREDIT_OFFICE)
    headers["Hub-Purpose"] = "SUBSIDY_REVIEW"
    return headers


def csv_list(*lines: str, encoding: str = "gb18030") -> bytes:
    return "\r\n".join(("统一社会信用代码,申报项目", *lines)).encode(encoding)


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "申报名单.csv",
    target: str = "/subsidy/eligibility.csv",
) -> httpx.Response:
    return await client.post(target, files={"file": (filename, data)}, headers=headers)


def report(response: httpx.Response, filename: str = "report.csv") -> list[list[Cell]]:
    assert response.status_code == 200, response.text
    table = read_table(response.content, filename)
    assert table.header == HEADER
    return [cells for _, cells in table.rows]


class TestReport:
    async def test_a_gb18030_list_gets_a_csv_report(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given a green and a red applicant, a malformed code and an unknown one
        green = await rated(db, Grade.GREEN, "无锡绿源环保科技有限公司")
        red = await rated(db, Grade.RED, "无锡红星化工有限公司")
        unknown = b.credit_code(99_998)
        data = csv_list(
            f"{green.code},ENV-SPECIAL-FUND",
            f"{red.code},",
            "91320200MA1X0000XX,ENV-SPECIAL-FUND",
            f"{unknown},ENV-SPECIAL-FUND",
            f"{green.code},NO-SUCH-FUND",
        )
        # when
        response = await upload(client, await office(tokens), data)
        # then
        rows = report(response)
        assert [r[:6] for r in rows] == [
            [
                "2",
                green.code,
                "无锡绿源环保科技有限公司",
                "ENV-SPECIAL-FUND",
                "通过",
                "PASS",
            ],
            [
                "3",
                red.code,
                "无锡红星化工有限公司",
                "ENV-SPECIAL-FUND",
                "不通过",
                "FAIL",
            ],
            ["4", "91320200MA1X0000XX", None, "ENV-SPECIAL-FUND", None, None],
            ["5", unknown, None, "ENV-SPECIAL-FUND", None, None],
            ["6", green.code, "无锡绿源环保科技有限公司", "NO-SUCH-FUND", None, None],
        ]
        assert str(rows[1][6]).startswith("GRADE-RED 信用等级：红色（JS_DYNAMIC_12）")
        assert str(rows[2][7]).startswith("INVALID_CREDIT_CODE: ")
        assert str(rows[3][7]).startswith("ENTERPRISE_NOT_FOUND: ")
        assert str(rows[4][7]).startswith("UNKNOWN_PROGRAMME: ")
        assert "attachment;" in response.headers["content-disposition"]
        entry = await entry_for(db, response)
        assert (entry.kind, entry.operation_name, entry.purpose) == (
            "EXPORT",
            "subsidy check",
            "SUBSIDY_REVIEW",
        )
        assert entry.enterprises == sorted([green.code, red.code])

    async def test_an_xlsx_list_gets_an_xlsx_report(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        yellow = await rated(db, Grade.YELLOW, "无锡黄河印染有限公司")
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["序号", "申报单位", "统一社会信用代码"])
        sheet.append([1, "无锡黄河印染有限公司", yellow.code])
        buffer = io.BytesIO()
        book.save(buffer)
        response = await upload(
            client,
            await office(tokens),
            buffer.getvalue(),
            filename="名单.xlsx",
            target="/subsidy/eligibility.xlsx",
        )
        [row] = report(response, "report.xlsx")
        assert row[:6] == [
            2,
            yellow.code,
            "无锡黄河印染有限公司",
            "ENV-SPECIAL-FUND",
            "有条件通过（从严审核）",
            "CONDITIONAL",
        ]


class TestRefusals:
    async def test_a_list_without_a_code_column_is_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        data = "企业名称,申报项目\r\n无锡某公司,ENV-SPECIAL-FUND".encode("gb18030")
        response = await upload(client, await office(tokens), data)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "MISSING_COLUMN",
            "field": "file",
            "row": 1,
            "column": "统一社会信用代码",
        }

    async def test_a_bank_may_not_check_subsidies(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        response = await upload(client, headers, csv_list())
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["reason"] == (
            "PURPOSE_NOT_ALLOWED"
        )

    async def test_the_public_may_not_check_subsidies(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await upload(client, {}, csv_list())
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["reason"] == "MISSING_SCOPE"

    async def test_an_unknown_format_is_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        response = await upload(
            client, await office(tokens), csv_list(), target="/subsidy/eligibility.pdf"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["reason"] == (
            "UNSUPPORTED_FORMAT"
        )

    async def test_a_future_date_is_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        response = await upload(
            client,
            await office(tokens),
            csv_list(),
            target="/subsidy/eligibility.csv?asOf=2027-01-01",
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["reason"] == (
            "AS_OF_IN_FUTURE"
        )
