"""Subsidy application lists in (CSV/XLSX), benchmark-check reports out.

A list needs a credit-code column and may have a programme column; other
columns (the applicant's name, amounts) are ignored. Reading reuses the
import's file reader (UTF-8 or GB18030 CSV, XLSX, whole-file limits).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hub.enums import Eligibility
from hub.ingest.export import write_csv, write_xlsx
from hub.ingest.fields import normalise_header
from hub.ingest.table import Cell, FileRejected, TableLimits, read_table
from hub.review.tables import Reason

CODE_HEADERS = frozenset(
    normalise_header(h)
    for h in (
        "统一社会信用代码",
        "信用代码",
        "社会信用代码",
        "credit code",
        "code",
        "uscc",
    )
)
PROGRAMME_HEADERS = frozenset(
    normalise_header(h)
    for h in ("申报项目", "项目代码", "专项资金项目", "programme", "program")
)
# A list of codes alone is one column: the header is its first non-empty row.
LIMITS = TableLimits(min_header_cells=1)

REPORT_HEADER = (
    "行号",
    "统一社会信用代码",
    "企业名称",
    "申报项目",
    "评价结果",
    "结果代码",
    "理由",
    "错误",
)
OUTCOME_ZH = {
    Eligibility.PASS: "通过",
    Eligibility.CONDITIONAL: "有条件通过（从严审核）",
    Eligibility.FAIL: "不通过",
}
SHEET_TITLE = "信用基准评价"


@dataclass(frozen=True, slots=True)
class Application:
    """One line of an application list: where it was, and what it asks."""

    row: int
    code: str
    programme: str | None = None


@dataclass(frozen=True, slots=True)
class ReportLine:
    """What the report says of one application (resolvers fill it in)."""

    application: Application
    name: str | None
    programme: str | None
    outcome: Eligibility | None
    reasons: Sequence[Reason[Eligibility]]
    error: str | None


def read_applications(data: bytes, filename: str) -> list[Application]:
    """The applications of a .csv/.xlsx list, or FileRejected naming the problem."""
    table = read_table(data, filename, limits=LIMITS)
    names = [normalise_header(h) for h in table.header]
    code_at = _column(names, CODE_HEADERS)
    if code_at is None:
        raise FileRejected(
            f"row {table.header_row}: no credit-code column; name one "
            "统一社会信用代码 (or 'code')",
            reason="MISSING_COLUMN",
            row=table.header_row,
            column="统一社会信用代码",
        )
    programme_at = _column(names, PROGRAMME_HEADERS)
    found = []
    for row, cells in table.rows:
        code = _text(cells[code_at])
        programme = _text(cells[programme_at]) if programme_at is not None else None
        found.append(Application(row, code, programme or None))
    if not found:
        raise FileRejected("the list has no applications", reason="EMPTY_FILE")
    return found


def write_report(lines: Iterable[ReportLine], *, xlsx: bool) -> bytes:
    rows = [_report_row(line) for line in lines]
    if xlsx:
        return write_xlsx(REPORT_HEADER, rows, sheet_title=SHEET_TITLE)
    return write_csv(REPORT_HEADER, rows)


def reasons_text(reasons: Sequence[Reason[Eligibility]]) -> str:
    """Reasons on one line: `CODE 标签 [TYPE id, ...]`, separated by ；."""
    parts = []
    for r in reasons:
        cited = ", ".join(f"{c.type.value} {c.id}" for c in r.citations)
        parts.append(f"{r.code} {r.label}" + (f" [{cited}]" if cited else ""))
    return "；".join(parts)


def _report_row(line: ReportLine) -> list[Cell]:
    a = line.application
    return [
        a.row,
        a.code,
        line.name,
        line.programme or a.programme,
        OUTCOME_ZH[line.outcome] if line.outcome else None,
        line.outcome.value if line.outcome else None,
        reasons_text(line.reasons),
        line.error,
    ]


def _column(names: list[str], wanted: frozenset[str]) -> int | None:
    return next((i for i, n in enumerate(names) if n in wanted), None)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    return str(cell).strip()
