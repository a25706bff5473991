"""Time `load_demo` for N enterprises on SQLite and PostgreSQL: `make bench-seed`.

Prints one Markdown row per database for BENCHMARKS.md. PostgreSQL uses the
database named by BENCH_DATABASE_URL (default: `bench` on the local server,
created and emptied by this script).
"""

import asyncio
import os
import sys
import tempfile
import time
from datetime import date

from bench.databases import fresh_pg
from hub.config import Settings
from hub.db import create_engine
from hub.migrate import upgrade
from seeds.loader import load_demo

PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)


async def timed(url: str, n: int) -> float:
    engine = create_engine(Settings(database_url=url))
    await upgrade(engine)
    started = time.perf_counter()
    await load_demo(engine, enterprises=n, seed=2026, today=date(2026, 11, 27))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await timed(f"sqlite+aiosqlite:///{tmp}/bench.db", n)
    await fresh_pg(PG_URL)
    pg = await timed(PG_URL, n)
    print("| database | enterprises | seconds |")
    print("|---|---|---|")
    print(f"| SQLite (file) | {n:,} | {sqlite:.1f} |")
    print(f"| PostgreSQL 15 | {n:,} | {pg:.1f} |")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
