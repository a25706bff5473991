"""Name search at 100,000 enterprises, with the trigram indexes and without them.

`make bench-search`: on the PostgreSQL database of `make bench` (bench/data.py)
and on a SQLite file loaded the same way (seeds.loader.load_demo, seed 2026)
in a temporary directory, for four texts (2 and 4 Chinese characters, a
common and a rare one each; 2 characters are below a trigram index's reach):

- API: a bank asks `enterprises(filter: {nameContains}, first: 20)` through
  the whole app in this process (httpx's ASGI transport: token, limits,
  authorization, audit), once for the page alone and once with `totalCount`;
- SQL, side by side: the statements the resolver runs for that request (the
  page, and the count), timed on one connection as the hub sends them (index)
  and as a plain LIKE scan: on PostgreSQL the same statement with the GIN
  index dropped inside a transaction that is rolled back; on SQLite `LIKE`
  alone, without the FTS5 table.

Rounds interleave every variant (A B A B ...); medians in milliseconds, and
scan / index ratios. BENCH_DATABASE_URL overrides the PostgreSQL database.
"""

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.caller import Caller
from bench.data import ENTERPRISES, SEED, TODAY, bank_client, prepare
from bench.machine import describe, machine_line
from bench.review import settings_for
from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine
from hub.migrate import upgrade
from hub.models import Enterprise
from resolvers.access import AnySelect
from resolvers.graph import select_enterprises_for
from resolvers.name_search import contains_pattern, name_contains
from seeds.loader import load_demo

PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
)
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "7"))
REPEAT = 5  # requests per variant and text in a round
# (label, text): in the demo register (seed 2026) 化工 is in 12% of the names
# and 精细化工 in 4%; 威正 and 威正金属, a 字号 and its trade, in a few.
TEXTS = [
    ("2 chars, common", "化工"),
    ("2 chars, rare", "威正"),
    ("4 chars, common", "精细化工"),
    ("4 chars, rare", "威正金属"),
    ("4 chars, every name", "有限公司"),
]
PAGE = """
query Search($text: String!) {
  enterprises(filter: {nameContains: $text}, first: 20) { nodes { code name } }
}
"""
PAGE_AND_TOTAL = """
query SearchCount($text: String!) {
  enterprises(filter: {nameContains: $text}, first: 20) {
    totalCount nodes { code name }
  }
}
"""
PG_INDEX = "ix_enterprise_name_trgm"


@dataclass
class Database:
    name: str
    url: str
    client_id: str
    secret: str
    index_size: str = ""
    matches: dict[str, int] = field(default_factory=dict)
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, label: str, variant: str, seconds: float) -> None:
        self.times.setdefault((label, variant), []).append(seconds * 1000)

    def median(self, label: str, variant: str) -> float:
        return statistics.median(self.times[(label, variant)])


async def build_sqlite(url: str) -> float:
    """Migrate and load the demo register; seconds the load took."""
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
        started = time.perf_counter()
        await load_demo(engine, enterprises=ENTERPRISES, seed=SEED, today=TODAY)
        return time.perf_counter() - started
    finally:
        await engine.dispose()


def statements(text_: str, dialect: str, *, indexed: bool) -> tuple[AnySelect, Any]:
    """The page and count statements `enterprises` runs for a bank (row rules
    included); not `indexed`: SQLite's plain LIKE in place of the FTS5 lookup."""
    # A bank sees the whole register, as the public does.
    stmt = select_enterprises_for(Caller.public())
    if indexed or dialect == "postgresql":
        stmt = name_contains(stmt, text_, dialect=dialect)
    else:
        stmt = stmt.where(Enterprise.name.like(contains_pattern(text_), escape="\\"))
    count = select(func.count()).select_from(stmt.subquery())
    return stmt.order_by(Enterprise.id).limit(21), count


@asynccontextmanager
async def without_index(conn: AsyncConnection, drop: bool) -> AsyncIterator[None]:
    """A transaction, rolled back; on PostgreSQL with `drop`, without the index."""
    transaction = await conn.begin()
    try:
        if drop:
            await conn.execute(text(f"DROP INDEX {PG_INDEX}"))
        yield
    finally:
        await transaction.rollback()


async def timed(work: Awaitable[object]) -> float:
    """Wall seconds of `work` (a coroutine runs only when awaited)."""
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def describe_index(db: Database, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE enterprise"))
            size = await conn.scalar(
                text(f"SELECT pg_relation_size('{PG_INDEX}') / 1048576.0")
            )
            db.index_size = f"GIN index {size:.1f} MB"
        else:
            size = await conn.scalar(
                text(
                    "SELECT sum(pgsize) / 1048576.0 FROM dbstat "
                    "WHERE name LIKE 'enterprise_name_fts%'"
                )
            )
            db.index_size = f"FTS5 tables {size:.1f} MB"
        for label, text_ in TEXTS:
            _, count = statements(text_, engine.dialect.name, indexed=True)
            db.matches[label] = int(await conn.scalar(count) or 0)


async def measure(db: Database, workdir: Path) -> None:
    engine = create_engine(Settings(database_url=db.url))
    app = create_app(settings_for(workdir / db.name, db.url))
    try:
        await describe_index(db, engine)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://hub.bench", timeout=120
            ) as client,
            engine.connect() as conn,
        ):
            token = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(db.client_id, db.secret),
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            headers["Hub-Purpose"] = "LOAN_APPROVAL"

            async def ask(query: str, text_: str) -> None:
                response = await client.post(
                    "/graphql",
                    json={"query": query, "variables": {"text": text_}},
                    headers=headers,
                )
                body = response.json()
                assert response.status_code == 200, body
                assert "errors" not in body, body

            for round_ in range(ROUNDS + 1):  # round 0 warms up
                for label, text_ in TEXTS:
                    for _ in range(REPEAT):
                        for variant, query in (
                            ("api", PAGE),
                            ("api+total", PAGE_AND_TOTAL),
                        ):
                            seconds = await timed(ask(query, text_))
                            if round_:
                                db.add(label, variant, seconds)
                    for indexed in (True, False):
                        page, count = statements(
                            text_, engine.dialect.name, indexed=indexed
                        )
                        drop = not indexed and engine.dialect.name == "postgresql"
                        async with without_index(conn, drop):
                            for _ in range(REPEAT):
                                for shape, stmt in (("page", page), ("count", count)):
                                    seconds = await timed(conn.execute(stmt))
                                    if round_:
                                        way = "index" if indexed else "scan"
                                        db.add(label, f"sql {shape} {way}", seconds)
    finally:
        await app.state.audit.aclose()
        await engine.dispose()


def report(
    databases: list[Database], machine: dict[str, str], load: float, busy: str
) -> None:
    print(machine_line(machine))
    print(
        f"{ROUNDS} rounds x {REPEAT} of each, medians in ms; "
        f"SQLite file loaded in {load:.1f} s (triggers filling FTS5); "
        f"load average {busy}"
    )
    print()
    print(
        "| database | text | names | API page | API page + totalCount "
        "| SQL page: index / scan | ratio | SQL count: index / scan | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for db in databases:
        for label, text_ in TEXTS:
            m = db.median
            page_i, page_s = m(label, "sql page index"), m(label, "sql page scan")
            count_i, count_s = m(label, "sql count index"), m(label, "sql count scan")
            print(
                f"| {db.name} | {text_} ({label}) | {db.matches[label]:,} "
                f"| {m(label, 'api'):.1f} | {m(label, 'api+total'):.1f} "
                f"| {page_i:.2f} / {page_s:.2f} | {page_s / page_i:.1f} "
                f"| {count_i:.2f} / {count_s:.2f} | {count_s / count_i:.1f} |"
            )
    print()
    print(", ".join(f"{db.name}: {db.index_size}" for db in databases))


async def main() -> None:
    prepared = await prepare(PG_URL)
    machine = await describe(PG_URL)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite+aiosqlite:///{workdir / 'search.db'}"
        load = await build_sqlite(sqlite_url)
        sqlite_engine = create_engine(Settings(database_url=sqlite_url))
        try:
            sqlite_client = await bank_client(sqlite_engine)
        finally:
            await sqlite_engine.dispose()
        databases = [
            Database("PostgreSQL", PG_URL, prepared.client_id, prepared.client_secret),
            Database("SQLite", sqlite_url, *sqlite_client),
        ]
        for db in databases:
            await measure(db, workdir)
    busy = f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    report(databases, machine, load, busy)


if __name__ == "__main__":
    asyncio.run(main())
