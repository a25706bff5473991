"""Export files: an export's rows as CSV, XLSX or JSON Lines, produced chunk by chunk.

CSV and XLSX are for people and for `hub import`: the template's Chinese titles
and terms, money in the title's unit, times in China Standard Time, never a
live formula (hub/ingest/export.py). JSON Lines is for programs: the field
names as keys, enum names, ISO dates, money in yuan as exact decimal strings.
"""

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import anyio.from_thread
import anyio.to_thread
import orjson

from hub.enums import (
    GRADE_ZH,
    PENALTY_CATEGORY_ZH,
    Grade,
    PenaltyStatus,
    PolicyStatus,
    RatingStatus,
    RiskLevel,
    Scheme,
)
from hub.ingest.export import write_csv, write_xlsx
from hub.ingest.table import Cell
from resolvers.context import CST
from resolvers.export_specs import Column, Unit

Chunks = AsyncIterator[list[tuple[Any, ...]]]


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


MEDIA_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.JSONL: "application/x-ndjson; charset=utf-8",
}

# The terms `hub import` reads back (hub/ingest/vocabulary.py); Q, M and E
# classes are written as they are named (Q1, M2, E3).
_GRADES: dict[Enum, str] = {grade: GRADE_ZH[grade] for grade in Grade}
LABELS: dict[Enum, str] = {
    **_GRADES,
    Scheme.JS_ANNUAL_100: "江苏省企业环保信用评价（年度百分制）",
    Scheme.JS_DYNAMIC_12: "江苏省企事业环保信用评价（动态记分）",
    Scheme.NATIONAL_2013: "企业环境信用评价（环发〔2013〕150号）",
    RatingStatus.DRAFT: "草稿",
    RatingStatus.PRELIMINARY: "初评",
    RatingStatus.REVIEWED: "复核",
    RatingStatus.IN_PUBLIC_NOTICE: "公示中",
    RatingStatus.FINAL: "终评",
    RatingStatus.REPAIRED: "已修复",
    RatingStatus.REVOKED: "撤销",
    PenaltyStatus.EFFECTIVE: "有效",
    PenaltyStatus.CHANGED: "变更",
    PenaltyStatus.REVOKED: "撤销",
    RiskLevel.GENERAL: "一般环境风险",
    RiskLevel.LARGER: "较大环境风险",
    RiskLevel.MAJOR: "重大环境风险",
    PolicyStatus.ACTIVE: "有效",
    PolicyStatus.EXPIRED: "过期",
    PolicyStatus.SURRENDERED: "退保",
}
LABELS.update(PENALTY_CATEGORY_ZH.items())
LIST_SEPARATOR = "、"


def to_wan(yuan: Decimal) -> Decimal:
    """Yuan in 万元, exactly (a shift of the exponent), without trailing zeros."""
    wan = yuan.scaleb(-4).normalize()
    exponent = wan.as_tuple().exponent
    return (
        wan.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else wan
    )


def table_cell(column: Column, value: Any) -> Cell:
    if value is None:
        return None
    if column.unit is Unit.WAN:
        return to_wan(value)
    if isinstance(value, Enum):
        return LABELS.get(value, value.name)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(table_cell(column, v)) for v in value)
    if isinstance(value, datetime):
        return value.astimezone(CST).replace(tzinfo=None)
    cell: Cell = value
    return cell


def json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # and datetime: ISO 8601, UTC with its offset
        return value.isoformat()
    return value


def table_rows(
    columns: Sequence[Column], chunk: list[tuple[Any, ...]]
) -> list[list[Cell]]:
    return [
        [table_cell(c, v) for c, v in zip(columns, row, strict=True)] for row in chunk
    ]


async def encode(
    fmt: FileFormat, columns: Sequence[Column], chunks: Chunks, *, sheet_title: str
) -> AsyncIterator[bytes]:
    """The file in pieces: CSV and JSON Lines a chunk at a time, XLSX at the end."""
    if fmt is FileFormat.CSV:
        titles = [c.title for c in columns]
        head = write_csv(titles, [])
        yield head
        async for chunk in chunks:
            # write_csv writes whole files; every one starts with the same head.
            yield write_csv(titles, table_rows(columns, chunk))[len(head) :]
    elif fmt is FileFormat.JSONL:
        keys = [c.field for c in columns]
        async for chunk in chunks:
            yield b"".join(
                orjson.dumps(dict(zip(keys, map(json_value, row), strict=True))) + b"\n"
                for row in chunk
            )
    else:
        yield await _xlsx(columns, chunks, sheet_title)


async def _xlsx(columns: Sequence[Column], chunks: Chunks, sheet_title: str) -> bytes:
    """openpyxl's write-only sheet streams rows to a temporary file; it runs in
    a worker thread that pulls each chunk from the event loop as it needs it."""

    async def next_chunk() -> list[tuple[Any, ...]] | None:
        return await anext(chunks, None)

    def rows() -> Iterator[list[Cell]]:
        while (chunk := anyio.from_thread.run(next_chunk)) is not None:
            yield from table_rows(columns, chunk)

    titles = [c.title for c in columns]
    return await anyio.to_thread.run_sync(
        lambda: write_xlsx(titles, rows(), sheet_title=sheet_title)
    )
