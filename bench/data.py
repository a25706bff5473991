"""The API benchmark's database: 100,000 demo enterprises, a change feed, a bank.

`prepare(url)` makes the database `make bench` and `make soak` read, and
reuses it when it is already right (seeding takes 20-30 s):

- the demo register of 100,000 enterprises (seed 2026, 2026-11-27), as
  `hub seed --enterprises 100000` loads it; rebuilt when the count differs or
  other benchmarks left their imports or evaluation runs in it;
- a change feed: 2,000 penalty decisions imported through the path of
  `hub import penalties` (dynamic management included), so that `changes`
  has a few thousand events to page through;
- `enterprises_by_codes(codes text[])`, a STABLE SQL function PostGraphile
  exposes as `enterprisesByCodes(codes:)` (its batch field);
- an agency of kind COMMERCIAL_BANK with a client holding the bank preset of
  scopes; its secret is rotated on every run, since only the hash is stored;
- an empty audit log, as a new database has it. Each run writes hundreds of
  thousands of index rows (a batch of 1,000 codes writes 1,000), and their
  index inserts land at random places in a B-tree keyed by enterprise code:
  once it outgrows PostgreSQL's buffers every insert costs more, so runs on
  a log left by earlier runs would not compare (BENCHMARKS.md measures it).
"""

import sys
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.clients import create_agency, create_client, find_agency, rotate_secret
from bench.databases import PG_ADMIN_URL, fresh_pg
from bench.imports import csv_file, import_once, rows_for
from bench.servers import AUDIT_CHECKPOINTS
from hub.audit.chain import genesis_head
from hub.config import Settings
from hub.db import commit, create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.migrate import upgrade
from hub.models import CollectionBatch, Enterprise, EvaluationRun, OAuthClient
from seeds.loader import load_demo

ENTERPRISES = 100_000
SEED = 2026
TODAY = date(2026, 11, 27)
FEED_FILE = "bench-api-feed.csv"
FEED_ROWS = 2_000
BANK = "基准测试银行 (bench)"

ENTERPRISES_BY_CODES = """
CREATE OR REPLACE FUNCTION enterprises_by_codes(codes text[])
RETURNS SETOF enterprise LANGUAGE sql STABLE AS $$
  SELECT e.* FROM unnest(codes) WITH ORDINALITY AS c(code, n)
  JOIN enterprise e ON e.code = c.code
  ORDER BY c.n
$$
"""


# Current districts with enterprises and no abolished code merged into them:
# a filter on one means the same to the hub and to PostGraphile.
PLAIN_DISTRICTS = """
SELECT d.code FROM district d
WHERE d.successor_code IS NULL
  AND EXISTS (SELECT 1 FROM enterprise e WHERE e.district_code = d.code)
  AND NOT EXISTS (SELECT 1 FROM district m WHERE m.successor_code = d.code)
ORDER BY d.code
"""


@dataclass(frozen=True, slots=True)
class Prepared:
    codes: list[str]  # every enterprise's credit code, in id order
    districts: list[str]  # PLAIN_DISTRICTS
    feed_seqs: list[int]  # every change event's seq, ascending
    client_id: str
    client_secret: str
    rebuilt: bool


async def ensure_database(url: str) -> None:
    """Create the database `url` names when the server has none of that name."""
    name = make_url(url).database
    admin = create_engine(Settings(database_url=PG_ADMIN_URL))
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": name},
            )
            if not found:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def holds_demo(engine: AsyncEngine) -> bool:
    """The demo register and nothing another benchmark put there."""
    async with engine.connect() as conn:
        enterprises = await conn.scalar(select(func.count()).select_from(Enterprise))
        foreign_batches = await conn.scalar(
            select(func.count())
            .select_from(CollectionBatch)
            .where(CollectionBatch.file_name.is_distinct_from(FEED_FILE))
        )
        runs = await conn.scalar(select(func.count()).select_from(EvaluationRun))
    return enterprises == ENTERPRISES and not foreign_batches and not runs


async def has_feed(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(func.count())
            .select_from(CollectionBatch)
            .where(CollectionBatch.file_name == FEED_FILE)
        )
    return bool(found)


async def import_feed(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        codes = list(
            (
                await conn.scalars(
                    select(Enterprise.code).order_by(Enterprise.id).limit(FEED_ROWS)
                )
            ).all()
        )
    timing = await import_once(engine, csv_file(rows_for(codes)), FEED_FILE)
    assert timing.created == FEED_ROWS, timing


async def bank_client(engine: AsyncEngine) -> tuple[str, str]:
    """The bench bank's client id and a fresh secret (made on first use)."""
    now = Settings().clock()
    async with create_sessionmaker(engine)() as session:
        agency = await find_agency(session, BANK)
        if agency is None:
            agency = await create_agency(
                session, name=BANK, kind=AgencyKind.COMMERCIAL_BANK, now=now
            )
        client_id = await session.scalar(
            select(OAuthClient.client_id)
            .where(OAuthClient.agency_id == agency.id)
            .order_by(OAuthClient.id)
            .limit(1)
        )
        if client_id is None:
            made = await create_client(session, agency=agency, now=now)
            assert made.secret is not None
            client_id, secret = made.client.client_id, made.secret
        else:
            secret = await rotate_secret(session, client_id, now=now)
        await commit(session)
    return client_id, secret


async def empty_audit_log(engine: AsyncEngine) -> int:
    """Drop every audit entry and its index rows; the entries dropped."""
    async with engine.begin() as conn:
        entries = await conn.scalar(text("SELECT count(*) FROM audit_entry"))
        await conn.execute(
            text("TRUNCATE audit_entry, audit_enterprise, audit_checkpoint, audit_head")
        )
        await conn.execute(genesis_head())
    # The servers' copy of the signed checkpoints would no longer match.
    AUDIT_CHECKPOINTS.unlink(missing_ok=True)
    return int(entries or 0)


async def prepare(url: str) -> Prepared:
    """Make the database right (see the module docstring) and describe it."""
    await ensure_database(url)
    engine = create_engine(Settings(database_url=url))
    rebuilt = False
    try:
        await upgrade(engine)
        if not await holds_demo(engine):
            await engine.dispose()
            await fresh_pg(url)
            await upgrade(engine)
            await load_demo(engine, enterprises=ENTERPRISES, seed=SEED, today=TODAY)
            rebuilt = True
        changed = rebuilt
        if not await has_feed(engine):
            await import_feed(engine)
            changed = True
        dropped = await empty_audit_log(engine)
        if dropped:
            print(
                f"emptied the audit log of earlier runs ({dropped:,} entries)",
                file=sys.stderr,
            )
        async with engine.begin() as conn:
            await conn.execute(text(ENTERPRISES_BY_CODES))
            if changed:  # fresh statistics, as after any bulk load
                await conn.execute(text("ANALYZE"))
        async with engine.connect() as conn:
            codes = list(
                await conn.scalars(select(Enterprise.code).order_by(Enterprise.id))
            )
            districts = list(await conn.scalars(text(PLAIN_DISTRICTS)))
            seqs = list(
                await conn.scalars(text("SELECT seq FROM change_event ORDER BY seq"))
            )
        client_id, secret = await bank_client(engine)
    finally:
        await engine.dispose()
    return Prepared(codes, districts, seqs, client_id, secret, rebuilt)
