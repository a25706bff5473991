"""`hub review` and `hub subsidy check`: credit reviews at the command line."""

import asyncio
import io
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import Grade
from hub.ingest.table import Cell, read_table
from hub.models import AuditEntry
from seeds import builders as b
from tests.helpers import hub

# The command line reads the real clock: every run names its review date.
AS_OF = "2026-06-15"
RATED_ON = date(2026, 1, 1)
LIST_HEADER = ["统一社会信用代码", "申报项目"]
REPORT_HEADER = [
    "行号",
    "统一社会信用代码",
    "企业名称",
    "申报项目",
    "评价结果",
    "结果代码",
    "理由",
    "错误",
]


@dataclass(frozen=True, slots=True)
class Rated:
    code: str
    name: str
    rating_id: int


@dataclass(frozen=True, slots=True)
class Seeded:
    green: Rated
    yellow: Rated
    black: Rated
    penalty_id: int  # the black one's ordered suspension, still published


async def seed(url: str) -> Seeded:
    """A green, a yellow and a black enterprise; the black one suspended."""
    engine = create_engine(Settings(database_url=url))
    try:
        async with create_sessionmaker(engine)() as db:
            owners = [b.enterprise() for _ in range(3)]
            db.add_all(owners)
            await db.flush()
            ratings = [
                b.rating(owner, grade=grade, valid_from=RATED_ON)
                for owner, grade in zip(
                    owners, (Grade.GREEN, Grade.YELLOW, Grade.BLACK), strict=True
                )
            ]
            suspension = b.penalty(owners[2], categories=("ORDERED_SUSPENSION",))
            db.add_all([*ratings, suspension])
            await db.commit()
            green, yellow, black = (
                Rated(o.code, o.name, r.id)
                for o, r in zip(owners, ratings, strict=True)
            )
            return Seeded(green, yellow, black, suspension.id)
    finally:
        await engine.dispose()


def seeded() -> Seeded:
    return asyncio.run(seed(os.environ["HUB_DATABASE_URL"]))


def audited() -> list[tuple[str, str | None, dict[str, Any], list[str]]]:
    """Every audit entry: kind, operation, variables, enterprises."""

    async def read() -> list[tuple[str, str | None, dict[str, Any], list[str]]]:
        engine = create_engine(Settings(database_url=os.environ["HUB_DATABASE_URL"]))
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(
                        AuditEntry.kind,
                        AuditEntry.operation_name,
                        AuditEntry.variables,
                        AuditEntry.enterprises,
                    ).order_by(AuditEntry.seq)
                )
                return [(k, op, v, e) for k, op, v, e in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def csv_list(path: Path, rows: list[list[str]]) -> Path:
    """An application list as the bureau's staff save it from Excel: GB18030."""
    lines = [",".join(row) for row in [LIST_HEADER, *rows]]
    path.write_bytes("\r\n".join(lines).encode("gb18030") + b"\r\n")
    return path


def xlsx_list(path: Path, header: list[str], rows: list[list[Cell]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "申报名单"
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def report(path: Path) -> list[list[Cell]]:
    table = read_table(path.read_bytes(), path.name)
    assert table.header == REPORT_HEADER
    return [cells for _, cells in table.rows]


def grade_reason(rated: Rated, zh: str, grade: str) -> str:
    return f"GRADE-{grade} 信用等级：{zh}（JS_DYNAMIC_12） [CREDIT_RATING {rated.rating_id}]"


class TestReview:
    def test_prints_the_decision_its_reasons_and_measures(self, cli: Path) -> None:
        # given
        s = seeded()
        # when
        result = hub(
            "review", s.black.code, "--purpose", "LOAN_APPROVAL", "--as-of", AS_OF
        )
        # then
        assert result.exit_code == 0, result.output
        lines = [line.strip() for line in result.stdout.splitlines()]
        assert lines[:4] == [
            f"{s.black.name}  {s.black.code}  锡山区",
            f"审查日期 {AS_OF}  目的 LOAN_APPROVAL  规则版本 2014.1",
            f"信用等级: 黑色 BLACK (JS_DYNAMIC_12, rating {s.black.rating_id}, "
            "from 2026-01-01)",
            "结论: STOP_LENDING",
        ]
        rows = [
            [cell.strip() for cell in line.strip("│").split("│")]
            for line in lines
            if line.startswith("│")
        ]
        assert rows == [
            [
                "GRADE-BLACK",
                "信用等级：黑色（JS_DYNAMIC_12）",
                "STOP_LENDING",
                f"CREDIT_RATING {s.black.rating_id}",
            ],
            [
                "LOAN-PENALTY-SHUTDOWN",
                "公示期内的责令停产停业、责令关闭或吊销许可证处罚",
                "NO_NEW_CREDIT",
                f"PENALTY_DECISION {s.penalty_id}",
            ],
            [
                "LOAN-PENALTY-PUBLISHED",
                "存在公示期内的行政处罚",
                "NORMAL",
                f"PENALTY_DECISION {s.penalty_id}",
            ],
            [
                "CREDIT-BLACK-STOP",
                "通报银行业金融机构停止贷款（污染治理改造贷款除外）",
                "江苏省企业环保信用评价结果应用（苏环规〔2013〕2号）[assumed]",
            ],
        ]
        assert audited() == [
            (
                "EXPORT",
                "review",
                {
                    "code": s.black.code,
                    "purpose": "LOAN_APPROVAL",
                    "asOf": AS_OF,
                    "programme": None,
                },
                [s.black.code],
            )
        ]

    def test_a_subsidy_review_names_its_programme(self, cli: Path) -> None:
        # given
        s = seeded()
        # when
        result = hub(
            "review",
            s.yellow.code,
            "--purpose",
            "SUBSIDY_REVIEW",
            "--programme",
            "GREEN-UPGRADE",
            "--as-of",
            AS_OF,
        )
        # then
        assert result.exit_code == 0, result.output
        assert "结论 GREEN-UPGRADE 绿色技术改造补助: FAIL" in result.stdout

    def test_an_unknown_code_exits_1(self, cli: Path) -> None:
        # given
        unknown = b.credit_code(99_999)
        # when
        result = hub("review", unknown, "--purpose", "LOAN_APPROVAL", "--as-of", AS_OF)
        # then
        assert result.exit_code == 1
        assert result.stderr == f"no enterprise with credit code {unknown}\n"
        assert result.stdout == ""

    def test_a_malformed_code_exits_2(self, cli: Path) -> None:
        # when
        result = hub(
            "review",
            "91320200MA1X0000XX",
            "--purpose",
            "LOAN_APPROVAL",
            "--as-of",
            AS_OF,
        )
        # then
        assert result.exit_code == 2
        assert result.stderr.startswith("code: ")
        assert result.stderr.endswith(" (INVALID_CREDIT_CODE)\n")
        assert audited() == []


class TestSubsidyCheck:
    def test_a_gb18030_csv_list_gets_a_report(self, cli: Path) -> None:
        # given a list with a good line, a stricter programme, a malformed and
        # an unknown code, and a programme that does not exist
        s = seeded()
        unknown = b.credit_code(99_999)
        applications = csv_list(
            cli / "专项资金申报名单.csv",
            [
                [s.green.code, ""],
                [s.yellow.code, "GREEN-UPGRADE"],
                ["91320200MA1X0000XX", ""],
                [unknown, ""],
                [s.black.code, "SOLAR-ROOFS"],
            ],
        )
        output = cli / "评价结果.csv"
        # when
        result = hub(
            "subsidy",
            "check",
            str(applications),
            "--output",
            str(output),
            "--as-of",
            AS_OF,
        )
        # then
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "5 applications checked (PASS 1, CONDITIONAL 0, FAIL 1, errors 3); "
            f"report written to {output}\n"
        )
        assert report(output) == [
            [
                "2",
                s.green.code,
                s.green.name,
                "ENV-SPECIAL-FUND",
                "通过",
                "PASS",
                grade_reason(s.green, "绿色", "GREEN"),
                None,
            ],
            [
                "3",
                s.yellow.code,
                s.yellow.name,
                "GREEN-UPGRADE",
                "不通过",
                "FAIL",
                grade_reason(s.yellow, "黄色", "YELLOW"),
                None,
            ],
            [
                "4",
                "91320200MA1X0000XX",
                None,
                None,
                None,
                None,
                None,
                "INVALID_CREDIT_CODE: code: character 17 ('X') fails the GB 11714 "
                "organisation-code check: expected '9'",
            ],
            [
                "5",
                unknown,
                None,
                None,
                None,
                None,
                None,
                f"ENTERPRISE_NOT_FOUND: no enterprise with credit code {unknown} "
                "is visible to this client",
            ],
            [
                "6",
                s.black.code,
                s.black.name,
                "SOLAR-ROOFS",
                None,
                None,
                None,
                "UNKNOWN_PROGRAMME: programme 'SOLAR-ROOFS' is not one of: "
                "ENV-SPECIAL-FUND, GREEN-UPGRADE",
            ],
        ]

    def test_an_xlsx_list_gets_an_xlsx_report(self, cli: Path) -> None:
        # given a workbook with the applicant's name beside the code
        s = seeded()
        applications = xlsx_list(
            cli / "申报名单.xlsx",
            ["企业名称", "统一社会信用代码", "申报项目"],
            [
                [s.black.name, s.black.code, None],
                [s.yellow.name, s.yellow.code, None],
            ],
        )
        output = cli / "评价结果.xlsx"
        # when
        result = hub(
            "subsidy",
            "check",
            str(applications),
            "--output",
            str(output),
            "--as-of",
            AS_OF,
        )
        # then
        assert result.exit_code == 0, result.output
        black_reasons = "；".join(
            [
                grade_reason(s.black, "黑色", "BLACK"),
                "SUB-PENALTY-SHUTDOWN 公示期内的责令停产停业、责令关闭或吊销许可证处罚 "
                f"[PENALTY_DECISION {s.penalty_id}]",
                f"SUB-PENALTY-PUBLISHED 存在公示期内的行政处罚 [PENALTY_DECISION {s.penalty_id}]",
            ]
        )
        assert report(output) == [
            [
                2,
                s.black.code,
                s.black.name,
                "ENV-SPECIAL-FUND",
                "不通过",
                "FAIL",
                black_reasons,
                None,
            ],
            [
                3,
                s.yellow.code,
                s.yellow.name,
                "ENV-SPECIAL-FUND",
                "有条件通过（从严审核）",
                "CONDITIONAL",
                grade_reason(s.yellow, "黄色", "YELLOW"),
                None,
            ],
        ]

    def test_the_run_is_audited_once(self, cli: Path) -> None:
        # given
        s = seeded()
        applications = csv_list(
            cli / "list.csv",
            [[s.green.code, ""], [b.credit_code(99_999), ""], [s.black.code, ""]],
        )
        # when
        result = hub(
            "subsidy",
            "check",
            str(applications),
            "--output",
            str(cli / "report.csv"),
            "--as-of",
            AS_OF,
        )
        # then: the enterprises found are named, the unknown code is not
        assert result.exit_code == 0, result.output
        assert audited() == [
            (
                "EXPORT",
                "subsidy check",
                {"file": "list.csv", "rows": 3},
                sorted([s.green.code, s.black.code]),
            )
        ]
        assert hub("audit", "verify").exit_code == 0

    def test_a_list_without_a_code_column_exits_1(self, cli: Path) -> None:
        # given
        applications = xlsx_list(
            cli / "申报名单.xlsx",
            ["企业名称", "申报项目"],
            [["无锡测试化工有限公司", "ENV-SPECIAL-FUND"]],
        )
        output = cli / "report.csv"
        # when
        result = hub("subsidy", "check", str(applications), "--output", str(output))
        # then
        assert result.exit_code == 1
        assert result.stderr == (
            "申报名单.xlsx: row 1: no credit-code column; name one 统一社会信用代码 "
            "(or 'code')\n"
        )
        assert not output.exists()
        assert audited() == []

    def test_a_report_that_is_neither_csv_nor_xlsx_exits_2(self, cli: Path) -> None:
        # given
        applications = csv_list(cli / "list.csv", [[b.credit_code(1), ""]])
        # when
        result = hub(
            "subsidy", "check", str(applications), "--output", str(cli / "report.pdf")
        )
        # then
        assert result.exit_code == 2
        assert result.stderr == "report.pdf: the report must end in .csv or .xlsx\n"
        assert not (cli / "report.pdf").exists()
