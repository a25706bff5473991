"""Bulk-load generated demo data into an empty database, all or nothing.

Rows go in through the raw driver connection, inside the one SQLAlchemy
transaction: COPY on PostgreSQL, multi-row INSERTs on SQLite. Values are converted
by the columns' own SQLAlchemy bind processors (Money to fen, enums to names,
dates and datetimes as the dialect stores them), so the stored form is exactly
what the ORM would have written.
"""

import asyncio
import itertools
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.models import Base
from seeds.generator import BATCH_SIZE, TABLES, Row, generate

# SQLite rows per INSERT statement; larger groups measured no faster.
ROWS_PER_STATEMENT = 256
Records = list[tuple[Any, ...]]
Writer = Callable[[Table, Records], Awaitable[None]]
# Enterprises done so far, and each table's rows as tuples in column order.
Encoded = tuple[int, list[tuple[Table, Records]]]


class SeedError(Exception):
    """The demo data cannot be loaded into this database."""


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """Rows written per table."""

    enterprise: int = 0
    credit_rating: int = 0
    penalty_decision: int = 0
    risk_assessment: int = 0
    compulsory_insurance: int = 0
    insurance_policy: int = 0


async def load_demo(
    engine: AsyncEngine,
    *,
    enterprises: int,
    seed: int,
    today: date,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> SeedSummary:
    """Generate and write `enterprises` enterprises with all their rows.

    Refuses (SeedError) unless the enterprise table is empty. Runs in one
    transaction, so a failure, or an exception from `progress`, leaves the
    database as it was. `progress` gets the number of enterprises written so far,
    after every batch of `batch_size`.
    """
    tables = [Base.metadata.tables[name] for name in TABLES]
    async with engine.begin() as conn:
        await _claim(conn)
        write = await _writer(conn, tables)
        encoders = [_Encoder(table, conn.dialect) for table in tables]
        batches = (
            (
                batch.enterprises_done,
                [(e.table, e.records(batch.rows[e.table.name])) for e in encoders],
            )
            for batch in generate(
                enterprises, seed=seed, today=today, batch_size=batch_size
            )
        )
        # PostgreSQL inserts in its own process, so building the next batch in
        # a thread overlaps with it. SQLite's writer needs the GIL back after
        # every statement: a busy thread beside it only slows it down.
        postgres = conn.dialect.name == "postgresql"
        counts = await _write_all(batches, write, progress, read_ahead=postgres)
        if postgres:
            await _reset_sequences(conn, tables)
    return SeedSummary(**counts)


async def _write_all(
    batches: Iterator[Encoded],
    write: Writer,
    progress: Callable[[int], None] | None,
    *,
    read_ahead: bool,
) -> dict[str, int]:
    """Write every batch; with `read_ahead`, a thread builds the next one meanwhile."""
    counts = dict.fromkeys(TABLES, 0)

    async def write_batch(item: Encoded) -> None:
        done, encoded = item
        for table, records in encoded:
            if records:
                await write(table, records)
                counts[table.name] += len(records)
        if progress is not None:
            progress(done)

    if not read_ahead:
        for item in batches:
            await write_batch(item)
        return counts
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed") as pool:
        pending = loop.run_in_executor(pool, next, batches, None)
        try:
            while (built := await pending) is not None:
                pending = loop.run_in_executor(pool, next, batches, None)
                await write_batch(built)
        finally:
            pending.cancel()  # drop a batch still being built; the pool waits for it
    return counts


async def _claim(conn: AsyncConnection) -> None:
    """Fail unless the enterprise table is empty; on PostgreSQL, keep it so."""
    if conn.dialect.name == "postgresql":
        # A bulk load outlives the per-request statement timeout; a concurrent
        # load waits here and then sees our rows.
        await conn.execute(text("SET LOCAL statement_timeout = 0"))
        await conn.execute(text("LOCK TABLE enterprise IN SHARE ROW EXCLUSIVE MODE"))
    enterprise = Base.metadata.tables["enterprise"]
    existing = await conn.scalar(select(func.count()).select_from(enterprise))
    if existing:
        raise SeedError(f"database already holds {existing} enterprises")


class _Encoder:
    """Turns row dicts into tuples in column order, through the bind processors."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.names = [c.name for c in table.columns]
        # Demo rows leave out what they do not set (batch_id): NULL.
        self.optional = {c.name for c in table.columns if c.nullable}
        self.processors = [
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns
        ]

    def records(self, rows: Sequence[Row]) -> Records:
        columns: list[list[Any]] = []
        for name, process in zip(self.names, self.processors, strict=True):
            values = (
                [row.get(name) for row in rows]
                if name in self.optional
                else [row[name] for row in rows]
            )
            if process is not None:
                values = _convert(process, values)
            columns.append(values)
        return list(zip(*columns, strict=True))


def _convert(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """Apply a bind processor; each distinct value is processed only once.

    Enums, dates and amounts repeat a lot and processors are Python calls,
    while set() and dict lookups through map() run at C speed.
    """
    try:
        done = {v: process(v) for v in set(values)}
    except TypeError:  # unhashable, e.g. JSON lists
        return list(map(process, values))
    return list(map(done.__getitem__, values))


async def _writer(conn: AsyncConnection, tables: Sequence[Table]) -> Writer:
    """A function writing encoded records through the driver, in this transaction."""
    # Same connection, same transaction: asyncpg's was opened by the count in
    # _claim, sqlite3 opens one at our first INSERT; SQLAlchemy ends either.
    raw: Any = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        columns = {t.name: [c.name for c in t.columns] for t in tables}

        async def copy(table: Table, records: Records) -> None:
            await raw.copy_records_to_table(
                table.name, records=records, columns=columns[table.name]
            )

        return copy
    if conn.dialect.name == "sqlite":
        statements = {t.name: _MultiRowInsert(t, conn.dialect) for t in tables}

        async def insert_rows(table: Table, records: Records) -> None:
            for sql, params in statements[table.name].chunks(records):
                async with raw.execute(sql, params):
                    pass  # closes the cursor

        return insert_rows
    raise SeedError(f"bulk loading is not implemented for {conn.dialect.name}")


async def _reset_sequences(conn: AsyncConnection, tables: Sequence[Table]) -> None:
    """Move each id sequence past the explicit ids we wrote."""
    for table in tables:
        if "id" in table.columns:
            await conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                    f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table.name}"
                ),
                {"t": table.name},
            )


class _MultiRowInsert:
    """INSERT ... VALUES (...), (...), ... for SQLite, in power-of-two groups.

    One statement per group beats executemany's statement step per row. The
    power-of-two group sizes keep the statement shapes few: sqlite3 caches each
    prepared shape, and a big multi-row statement costs megabytes.
    """

    def __init__(self, table: Table, dialect: Dialect) -> None:
        # INSERT INTO t (a, b, ...) VALUES (?, ?, ...), columns in table order.
        single = str(insert(table).compile(dialect=dialect))
        self.head, _, self.group = single.rpartition(" VALUES ")
        fits = min(ROWS_PER_STATEMENT, _max_variables() // len(table.columns))
        self.largest = 1 << (fits.bit_length() - 1)
        self.statements: dict[int, str] = {}

    def _sql(self, rows: int) -> str:
        if rows not in self.statements:
            self.statements[rows] = (
                f"{self.head} VALUES {', '.join([self.group] * rows)}"
            )
        return self.statements[rows]

    def chunks(self, records: Records) -> Iterator[tuple[str, list[Any]]]:
        start, size = 0, self.largest
        while start < len(records):
            while size > len(records) - start:
                size //= 2
            chunk = records[start : start + size]
            yield self._sql(size), list(itertools.chain.from_iterable(chunk))
            start += size


def _max_variables() -> int:
    # SQLITE_MAX_VARIABLE_NUMBER defaults to 32766 since SQLite 3.32, 999 before.
    return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
