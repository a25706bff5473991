"""Time importing 100,000 penalty decisions from CSV and XLSX: `make bench-import`.

The same path as `hub import penalties FILE`: read, check every row, store in
one transaction. Each database gets the demo register of N enterprises first
(seeds/), then one decision per enterprise; the second import of the same file
shows the idempotent path (every row matched, nothing written). Prints
Markdown rows for BENCHMARKS.md.
"""

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import openpyxl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import fresh_pg
from hub.cli_import import STAFF
from hub.config import Settings
from hub.credit_code import complete_credit_code
from hub.db import commit, create_engine, create_sessionmaker
from hub.enums import BatchSource
from hub.evaluate.loading import active_policies
from hub.ingest.datasets import PENALTIES
from hub.ingest.rows import parse_table
from hub.ingest.table import TableLimits, read_table
from hub.migrate import upgrade
from hub.models import Enterprise
from resolvers.dynamic import after_batch
from resolvers.store import Mode, Writer, store
from resolvers.transitions import Actor
from seeds.loader import load_demo

PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)
TODAY = date(2026, 11, 27)
AUTHORITY = complete_credit_code("1132020001417000")
HEADER = [
    "行政处罚决定书文号",
    "统一社会信用代码",
    "处罚类别",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "罚款金额（万元）",
    "处罚决定日期",
    "处罚机关",
    "处罚机关统一社会信用代码",
]


def rows_for(codes: list[str]) -> list[list[str]]:
    return [
        [
            f"锡测环罚决〔2026〕{i}号",
            code,
            "罚款",
            "超标排放水污染物",
            "废水总排口化学需氧量超标0.8倍，违反《水污染防治法》。",
            "《中华人民共和国水污染防治法》第八十三条",
            f"{1 + i % 50}.5",
            f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}",
            "无锡市生态环境局",
            AUTHORITY,
        ]
        for i, code in enumerate(codes, 1)
    ]


def csv_file(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def xlsx_file(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class Timing:
    read: float
    check: float
    store: float
    created: int
    unchanged: int

    @property
    def total(self) -> float:
        return self.read + self.check + self.store


async def import_once(engine: AsyncEngine, data: bytes, name: str) -> Timing:
    t0 = time.perf_counter()
    table = read_table(data, name, limits=TableLimits(max_rows=1_000_000))
    t1 = time.perf_counter()
    parsed = parse_table(PENALTIES, table, today=TODAY)
    assert not parsed.problems, parsed.problems[:3]
    t2 = time.perf_counter()
    writer = Writer(caller=STAFF, source=BatchSource.CLI, actor="bench", file_name=name)
    async with create_sessionmaker(engine)() as session:
        stored = await store(
            session,
            PENALTIES,
            parsed.records,
            writer=writer,
            now=Settings().clock(),
            mode=Mode.CREATE,
        )
        if stored.batch_id is not None:  # as hub import: dynamic management too
            await after_batch(
                session,
                dataset=PENALTIES.dataset,
                batch_id=stored.batch_id,
                policies=active_policies(Settings()),
                actor=Actor("bench"),
                now=Settings().clock(),
                today=TODAY,
            )
        await commit(session)
    t3 = time.perf_counter()
    return Timing(t1 - t0, t2 - t1, t3 - t2, stored.created, stored.unchanged)


async def bench(url: str, n: int, label: str, formats: list[str]) -> list[str]:
    engine = create_engine(Settings(database_url=url))
    await upgrade(engine)
    await load_demo(engine, enterprises=n, seed=2026, today=TODAY)
    async with engine.connect() as conn:
        codes = list(
            (await conn.scalars(select(Enterprise.code).order_by(Enterprise.id))).all()
        )
    rows = rows_for(codes)
    lines = []
    for fmt in formats:
        data = csv_file(rows) if fmt == "csv" else xlsx_file(rows)
        first = await import_once(engine, data, f"penalties.{fmt}")
        again = await import_once(engine, data, f"penalties.{fmt}")
        assert (first.created, again.unchanged) == (n, n), (first, again)
        if fmt == "csv" and len(formats) > 1:
            # The XLSX run needs a clean slate: new decision numbers.
            rows = [[r[0].replace("锡测", "锡表"), *r[1:]] for r in rows]
        for run, t in (("first import", first), ("same file again", again)):
            lines.append(
                f"| {label} | {fmt.upper()} ({len(data) / 1e6:.1f} MB) | {run} | {n:,} "
                f"| {t.read:.1f} | {t.check:.1f} | {t.store:.1f} | **{t.total:.1f}** "
                f"| {n / t.total:,.0f} |"
            )
    await engine.dispose()
    return lines


async def main(n: int) -> None:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        lines += await bench(
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            n,
            "SQLite (file)",
            ["csv", "xlsx"],
        )
    await fresh_pg(PG_URL)
    lines += await bench(PG_URL, n, "PostgreSQL 15", ["csv", "xlsx"])
    print(
        "| database | file | run | rows | read s | check s | store s | total s | rows/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
