"""Time evaluation runs over 100,000 enterprises: `make bench-evaluate`.

The demo register (seeds/) of N enterprises with their penalties, risk
assessments and insurance; every enterprise is made nationally key-monitored
so all N are on the list; then one run per scheme for 2025, as `hub evaluate
run` does it (list, facts, scores, bulk insert of the preliminary grades).
Prints Markdown rows for BENCHMARKS.md.
"""

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import update

from bench.databases import fresh_pg
from hub.cli_evaluate import STAFF
from hub.config import Settings
from hub.db import commit, create_engine, create_sessionmaker
from hub.enums import Scheme, SupervisionCategory
from hub.evaluate.loading import active_policies
from hub.migrate import upgrade
from hub.models import Enterprise
from resolvers.evaluation import run_evaluation
from resolvers.transitions import Actor
from seeds.loader import load_demo

PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def bench(url: str, n: int, label: str) -> list[str]:
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    await upgrade(engine)
    await load_demo(engine, enterprises=n, seed=2026, today=TODAY)
    async with engine.begin() as conn:
        await conn.execute(
            update(Enterprise).values(
                supervision_category=SupervisionCategory.NATIONAL_KEY
            )
        )
    policies = active_policies(settings)
    lines = []
    for scheme in (Scheme.JS_ANNUAL_100, Scheme.JS_DYNAMIC_12, Scheme.NATIONAL_2013):
        started = time.perf_counter()
        async with create_sessionmaker(engine)() as session:
            summary = await run_evaluation(
                session,
                policies=policies,
                scheme=scheme,
                year=2025,
                share=0.8,
                caller=STAFF,
                actor=Actor("bench"),
                decided_by="bench",
                now=NOW,
                today=TODAY,
            )
            await commit(session)
        elapsed = time.perf_counter() - started
        grades = ", ".join(f"{g} {k:,}" for g, k in sorted(summary.grades.items()))
        lines.append(
            f"| {label} | {scheme.value} | {summary.listed:,} | {summary.rated:,} "
            f"| **{elapsed:.1f}** | {grades} |"
        )
    await engine.dispose()
    return lines


async def main(n: int) -> None:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        lines += await bench(
            f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", n, "SQLite (file)"
        )
    await fresh_pg(PG_URL)
    lines += await bench(PG_URL, n, "PostgreSQL 15")
    print("| database | scheme | listed | rated | seconds | grades |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
