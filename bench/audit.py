"""What the audit log costs: `python -m bench.audit [appends] [requests]`.

1. Raw group commit: appends/s with 32 concurrent appenders, and the batch
   sizes the writer formed.
2. Requests/s of a public GraphQL lookup through the real app (httpx ASGI
   transport, 32 concurrent clients): create_app as it is (audited), and the
   same routes and middleware without the audit middleware (unaudited).
3. Verification speed over the entries written.

SQLite uses a temp file; PostgreSQL the database named by
BENCH_AUDIT_DATABASE_URL (default `bench_audit` on the local server, dropped
and created by this script).
"""

import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.types import ASGIApp

from bench.databases import fresh_pg
from hub.app import create_app
from hub.audit.checkpoint import public_keys
from hub.audit.middleware import AuditMiddleware
from hub.audit.record import AuditRecord, EntryKind, Outcome
from hub.audit.verify import verify_database
from hub.audit.writer import AuditWriter
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from hub.models import Enterprise
from seeds.loader import load_demo

PG_URL = os.environ.get(
    "BENCH_AUDIT_DATABASE_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_audit",
)
CONCURRENCY = 32
RUNS = 5
LOOKUP = "query Lookup($code: String!) { enterprise(code: $code) { name currentRating { grade } } }"


def record(n: int) -> AuditRecord:
    return AuditRecord(
        at=datetime.now(UTC),
        kind=EntryKind.GRAPHQL,
        request_id=f"bench-{n:010d}",
        outcome=Outcome.OK,
        latency_ms=4,
        client_address="127.0.0.1",
        client_id="bench-client",
        agency_id=1,
        agency_name="演示银行无锡分行 (bench)",
        agency_kind="COMMERCIAL_BANK",
        scopes=("enterprises:read", "ratings:read"),
        purpose="CREDIT_APPROVAL",
        operation_name="Lookup",
        document_sha256="0" * 64,
        variables={"code": "91320205MA1W7XXX0A"},
        enterprises=("91320205MA1W7XXX0A",),
        fields=("Query.enterprise", "Enterprise.name"),
    )


async def appends(writer: AuditWriter, n: int) -> float:
    counter = itertools.count()

    async def appender() -> None:
        while (i := next(counter)) < n:
            await writer.append(record(i))

    started = time.perf_counter()
    await asyncio.gather(*(appender() for _ in range(CONCURRENCY)))
    return n / (time.perf_counter() - started)


def batches(writer: AuditWriter) -> str:
    stats = writer.stats
    mean = stats.entries_written / max(1, stats.batches_written)
    return (
        f"{stats.batches_written} batches, mean {mean:.1f}, max {stats.max_batch_size}"
    )


async def requests_per_second(app: ASGIApp, codes: list[str], n: int) -> float:
    counter = itertools.count()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

        async def caller() -> None:
            while (i := next(counter)) < n:
                body = {"query": LOOKUP, "variables": {"code": codes[i % len(codes)]}}
                response = await client.post("/graphql", json=body)
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
        return n / (time.perf_counter() - started)


async def run(url: str, keys: Path, n_appends: int, n_requests: int) -> None:
    settings = Settings(
        database_url=url,
        db_pool_size=CONCURRENCY,  # the default 10 (+10) makes requests queue for it
        audit_keys_dir=keys / "keys",
        audit_checkpoint_file=keys / "checkpoints.jsonl",
    )
    engine = create_engine(settings)
    await upgrade(engine)
    writer = AuditWriter(engine, settings)
    await writer.start()
    rate = await appends(writer, n_appends)
    print(f"  appends/s: {rate:,.0f} ({batches(writer)})")
    await load_demo(engine, enterprises=200, seed=2026, today=date(2026, 11, 27))
    async with engine.connect() as conn:
        codes = list((await conn.scalars(select(Enterprise.code))).all())
    audited = create_app(settings, sessionmaker=create_sessionmaker(engine))
    plain = Starlette(  # the same routes and middleware, minus the audit
        routes=audited.routes,
        middleware=[
            m
            for m in audited.user_middleware
            if cast(object, m.cls) is not AuditMiddleware
        ],
    )
    await requests_per_second(plain, codes, 200)  # warm up
    await requests_per_second(audited, codes, 200)
    rates: dict[str, list[float]] = {"plain": [], "audited": []}
    for _ in range(RUNS):
        rates["plain"].append(await requests_per_second(plain, codes, n_requests))
        rates["audited"].append(await requests_per_second(audited, codes, n_requests))
    await audited.state.audit.aclose()
    print(f"  app writer: {batches(audited.state.audit)}")
    best = {k: statistics.median(v) for k, v in rates.items()}
    ratio = best["audited"] / best["plain"]
    runs = ", ".join(f"{k} {' '.join(f'{r:.0f}' for r in v)}" for k, v in rates.items())
    print(
        f"  requests/s (median of {RUNS}): unaudited {best['plain']:,.0f}, "
        f"audited {best['audited']:,.0f}"
        f" (ratio {ratio:.2f}; runs: {runs})"
    )
    await writer.aclose()
    started = time.perf_counter()
    report = await verify_database(engine, keys=public_keys(keys / "keys"))
    elapsed = time.perf_counter() - started
    print(
        f"  verify: {report.entries:,} entries in {elapsed:.2f} s"
        f" ({report.entries / elapsed:,.0f}/s) ok={report.ok}"
    )
    await engine.dispose()


async def main(n_appends: int, n_requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (file, WAL, synchronous=FULL)")
        await run(
            f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp), n_appends, n_requests
        )
    await fresh_pg(PG_URL)
    with tempfile.TemporaryDirectory() as tmp:
        print("PostgreSQL")
        await run(PG_URL, Path(tmp), n_appends, n_requests)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [10_000, 2_000][len(args) :])))
