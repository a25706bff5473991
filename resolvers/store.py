"""Store checked records: match business keys, refuse conflicts, write all or none.

Who may write which rows is resolvers/write_access.py: the caller's row rules
apply to writes as to reads.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import BatchSource, Dataset
from hub.ingest.datasets import DatasetSpec
from hub.ingest.problems import Problem, Rejected
from hub.ingest.rows import Record
from hub.models import CollectionBatch, RecordHistory
from resolvers.feed_records import queue_batch_events
from resolvers.write_access import (
    check_writer,
    chunks,
    problem_at,
    resolve_districts,
    resolve_enterprises,
    visible_codes,
)

ANALYZE_AFTER = 10_000  # rows inserted by one batch
Progress = Callable[[int], None]


class Mode(Enum):
    CREATE = "CREATE"  # new records, or records identical to the stored ones
    CORRECT = "CORRECT"  # records that exist; their values are replaced
    UPSERT = "UPSERT"  # new records are created, differing ones corrected


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes, and how the batch arrived: kept on the batch row."""

    caller: Caller
    source: BatchSource
    actor: str
    request_id: str | None = None
    file_name: str | None = None
    file_sha256: str | None = None
    note: str | None = None


@dataclass(slots=True)
class Stored:
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    batch_id: int | None = None
    ids: list[int] = field(default_factory=list)  # of each record, when one is written
    grade_changes: int = 0  # grades moved by dynamic management (resolvers/dynamic.py)


@dataclass(slots=True)
class _Plan:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, Any], list[str]]] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)


async def store(
    session: AsyncSession,
    spec: DatasetSpec,
    records: Sequence[Record],
    *,
    writer: Writer,
    now: datetime,
    mode: Mode,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Stored:
    """Write the records in the session's transaction, or raise Rejected.

    Every record is checked against the database before anything is written,
    so a rejected batch leaves no trace; the caller commits.
    """
    problems: list[Problem] = []
    check_writer(spec, records, writer.caller, problems)
    if spec.has_enterprise:
        await resolve_enterprises(session, records, writer.caller, problems)
    else:
        await resolve_districts(session, records, writer.caller, problems)
    keyed = _keys(spec, records, problems)
    existing = await _existing(session, spec, keyed, writer.caller, problems)
    plan = _plan(spec, keyed, existing, mode, now, problems)
    if problems:
        raise Rejected(problems, rows=len(records))
    result = Stored(
        rows=len(records),
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged_ids),
    )
    if dry_run or not (plan.creates or plan.updates):
        result.ids = plan.unchanged_ids if len(records) == 1 else []
        return result
    batch = CollectionBatch(
        dataset=spec.dataset,
        source=writer.source,
        at=now,
        actor=writer.actor,
        agency_id=writer.caller.agency_id,
        client_id=writer.caller.client_id,
        request_id=writer.request_id,
        file_name=writer.file_name,
        file_sha256=writer.file_sha256,
        rows=len(records),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        note=writer.note,
    )
    session.add(batch)
    await session.flush()
    result.batch_id = batch.id
    result.ids = await _insert(session, spec, plan.creates, batch.id, progress)
    if (
        len(plan.creates) >= ANALYZE_AFTER
        and session.get_bind().dialect.name == "postgresql"
    ):
        # Fresh statistics, or the next import's key lookups may plan a scan.
        await session.execute(text(f"ANALYZE {spec.model.__tablename__}"))
    for row, values, changed in plan.updates:
        session.add(
            RecordHistory(
                dataset=spec.dataset,
                record_id=row.id,
                batch_id=batch.id,
                previous={c: _jsonable(getattr(row, c)) for c in changed},
                changed=changed,
            )
        )
        await session.execute(
            update(spec.model)
            .where(spec.model.id == row.id)  # type: ignore[attr-defined]
            .values(**{c: values[c] for c in changed}, batch_id=batch.id)
        )
        result.ids.append(row.id)
    await session.flush()
    await queue_batch_events(
        session,
        spec.dataset,
        batch_id=batch.id,
        updated={row.id for row, _, _ in plan.updates},
        now=now,
    )
    return result


def _keys(
    spec: DatasetSpec, records: Sequence[Record], problems: list[Problem]
) -> dict[tuple[Any, ...], Record]:
    """Records by business key; a key given twice in one batch is refused."""
    keyed: dict[tuple[Any, ...], Record] = {}
    for record in records:
        if spec.has_enterprise and "enterprise_id" not in record.values:
            continue
        key = tuple(record.values[k] for k in spec.key)
        first = keyed.get(key)
        if first is not None:
            problems.append(
                problem_at(
                    record,
                    spec.fields[0].name,
                    "DUPLICATE_KEY",
                    f"the same {spec.label} as row {first.row}; each record once per file",
                )
            )
        else:
            keyed[key] = record
    return keyed


async def _existing(
    session: AsyncSession,
    spec: DatasetSpec,
    keyed: dict[tuple[Any, ...], Record],
    caller: Caller,
    problems: list[Problem],
) -> dict[tuple[Any, ...], Any]:
    columns = [getattr(spec.model, k) for k in spec.key]
    found: dict[tuple[Any, ...], Any] = {}
    for chunk in chunks(list(keyed)):
        # One IN list per key column, then the exact keys here: a row-value
        # IN list over a composite index is far slower on PostgreSQL.
        condition = and_(*(c.in_({k[i] for k in chunk}) for i, c in enumerate(columns)))
        # Plain rows, not ORM objects: a whole file's worth is compared here.
        table_columns = spec.model.__table__.columns
        for row in (
            await session.execute(select(*table_columns).where(condition))
        ).all():
            key = tuple(getattr(row, k) for k in spec.key)
            if key in keyed:
                found[key] = row
    if caller.districts is not None and not spec.has_enterprise:
        visible = await visible_codes(session, [k[0] for k in found], caller)
        for key, row in list(found.items()):
            if row.code not in visible:
                problems.append(
                    problem_at(
                        keyed[key],
                        "code",
                        "OUTSIDE_JURISDICTION",
                        "this enterprise is registered outside your jurisdiction",
                    )
                )
                del found[key]
    return found


def _plan(
    spec: DatasetSpec,
    keyed: dict[tuple[Any, ...], Record],
    existing: dict[tuple[Any, ...], Any],
    mode: Mode,
    now: datetime,
    problems: list[Problem],
) -> _Plan:
    plan = _Plan()
    columns = set(spec.model.__table__.columns.keys())
    for key, record in keyed.items():
        values = {k: v for k, v in record.values.items() if k in columns}
        row = existing.get(key)
        if row is None:
            if mode is Mode.CORRECT:
                problems.append(
                    problem_at(
                        record,
                        spec.fields[0].name,
                        "NOT_RECORDED",
                        f"no such {spec.label} is recorded; record it first",
                    )
                )
                continue
            if spec.dataset is Dataset.ENTERPRISES:
                values |= {"created_at": now, "updated_at": now}
            plan.creates.append(values)
            continue
        changed = [
            c
            for c in values
            if c not in spec.spellings and getattr(row, c) != values[c]
        ]
        if not changed:
            plan.unchanged_ids.append(row.id)
        elif mode is Mode.CREATE:
            problems.append(_conflict(spec, record, row, changed))
        else:
            if spec.dataset is Dataset.ENTERPRISES:
                values["updated_at"] = now
                changed.append("updated_at")
            plan.updates.append((row, values, changed))
    return plan


def _conflict(
    spec: DatasetSpec, record: Record, row: Any, changed: list[str]
) -> Problem:
    shown = [c for c in changed if c != "enterprise_id"]
    detail = "; ".join(
        f"{c}: {_shown(getattr(row, c))} recorded, {_shown(record.values[c])} given"
        for c in shown[:5]
    )
    if "enterprise_id" in changed:
        # The other enterprise may lie outside the writer's jurisdiction: no values.
        detail = "it is recorded for another enterprise"
    return problem_at(
        record,
        shown[0] if shown else spec.fields[0].name,
        "CONFLICT",
        f"this {spec.label} is already recorded with other values ({detail}); "
        "send a correction to change it",
    )


async def _insert(
    session: AsyncSession,
    spec: DatasetSpec,
    creates: list[dict[str, Any]],
    batch_id: int,
    progress: Progress | None,
) -> list[int]:
    ids: list[int] = []
    for chunk in chunks(creates, 5000):
        rows = [c | {"batch_id": batch_id} for c in chunk]
        if len(creates) == 1:
            statement = insert(spec.model).returning(spec.model.id)  # type: ignore[attr-defined]
            ids.extend((await session.scalars(statement, rows)).all())
        else:
            await session.execute(insert(spec.model), rows)
        if progress is not None:
            progress(len(chunk))
    return ids


def _shown(value: Any) -> str:
    if isinstance(value, Enum):
        return value.name
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
