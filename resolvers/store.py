"""Store checked records: match business keys, refuse conflicts, write all or none.

The caller's row rules apply to writes as to reads: a county bureau writes
only for enterprises of its district, an insurer only its own policies, and an
enterprise it may not see is reported exactly as an unknown one.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import AgencyKind, BatchSource, Dataset
from hub.ingest.datasets import DatasetSpec
from hub.ingest.problems import Problem, Rejected
from hub.ingest.rows import Record
from hub.models import CollectionBatch, District, Enterprise, RecordHistory
from resolvers.access import enterprise_rule

CHUNK = 1000
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
    _check_writer(spec, records, writer.caller, problems)
    if spec.has_enterprise:
        await _resolve_enterprises(session, records, writer.caller, problems)
    else:
        await _resolve_districts(session, records, writer.caller, problems)
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
    return result


def _check_writer(
    spec: DatasetSpec,
    records: Sequence[Record],
    caller: Caller,
    problems: list[Problem],
) -> None:
    """Name the insurer of each policy: an insurer may leave out its own and may
    submit no other's; everyone else must name it."""
    if spec.dataset is not Dataset.INSURANCE:
        return
    insurer = caller.kind is AgencyKind.INSURER
    for record in records:
        values = record.values
        if insurer and values.get("insurer_code") is None:
            values["insurer_code"] = caller.org_code
        if insurer and values.get("insurer_name") is None:
            values["insurer_name"] = caller.agency_name
        for name in ("insurer_code", "insurer_name"):
            if values.get(name) is None and not insurer:
                problems.append(
                    _problem(
                        record, name, "REQUIRED", f"{spec.field(name).label} is empty"
                    )
                )
        if insurer and (
            caller.org_code is None or values["insurer_code"] != caller.org_code
        ):
            problems.append(
                _problem(
                    record,
                    "insurer_code",
                    "OTHER_INSURER",
                    "an insurer may submit only its own policies: the insurer's "
                    "credit code must be the one registered for your agency",
                )
            )


async def _resolve_enterprises(
    session: AsyncSession,
    records: Sequence[Record],
    caller: Caller,
    problems: list[Problem],
) -> None:
    codes = sorted({r.values["enterprise_code"] for r in records})
    ids: dict[str, int] = {}
    for chunk in _chunks(codes):
        rows = await session.execute(
            select(Enterprise.code, Enterprise.id).where(
                Enterprise.code.in_(chunk), enterprise_rule(caller)
            )
        )
        ids.update({code: id_ for code, id_ in rows})
    for record in records:
        code = record.values["enterprise_code"]
        if code in ids:
            record.values["enterprise_id"] = ids[code]
        else:
            problems.append(
                _problem(
                    record,
                    "enterprise_code",
                    "UNKNOWN_ENTERPRISE",
                    f"no enterprise with credit code {code} is registered in your "
                    "jurisdiction; record the enterprise first",
                )
            )


async def _resolve_districts(
    session: AsyncSession,
    records: Sequence[Record],
    caller: Caller,
    problems: list[Problem],
) -> None:
    """A district given by code or Chinese name; abolished codes name their successor."""
    districts = (await session.scalars(select(District))).all()
    by_code = {d.code: d for d in districts}
    by_name = {d.name: d for d in districts if d.valid_to is None}
    for record in records:
        given = record.values["district_code"]
        district = by_code.get(given) or by_name.get(given)
        if district is None:
            problems.append(
                _problem(
                    record,
                    "district_code",
                    "UNKNOWN_DISTRICT",
                    f"{given!r} is not a district of Wuxi; give a 6-digit code such as "
                    "320205 or a name such as 锡山区",
                )
            )
        elif district.valid_to is not None:
            problems.append(
                _problem(
                    record,
                    "district_code",
                    "ABOLISHED_DISTRICT",
                    f"{district.code} {district.name} was abolished on "
                    f"{district.valid_to}; use {district.successor_code}",
                )
            )
        elif caller.districts is not None and district.code not in caller.districts:
            problems.append(
                _problem(
                    record,
                    "district_code",
                    "OUTSIDE_JURISDICTION",
                    f"your bureau records enterprises of {', '.join(sorted(caller.districts))} only",
                )
            )
        else:
            record.values["district_code"] = district.code


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
                _problem(
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
    for chunk in _chunks(list(keyed)):
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
        visible = await _visible_codes(session, [k[0] for k in found], caller)
        for key, row in list(found.items()):
            if row.code not in visible:
                problems.append(
                    _problem(
                        keyed[key],
                        "code",
                        "OUTSIDE_JURISDICTION",
                        "this enterprise is registered outside your jurisdiction",
                    )
                )
                del found[key]
    return found


async def _visible_codes(
    session: AsyncSession, codes: list[str], caller: Caller
) -> set[str]:
    visible: set[str] = set()
    for chunk in _chunks(codes):
        visible.update(
            await session.scalars(
                select(Enterprise.code).where(
                    Enterprise.code.in_(chunk), enterprise_rule(caller)
                )
            )
        )
    return visible


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
                    _problem(
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
            if c not in spec.spellings and not _same(getattr(row, c), values[c])
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
    return _problem(
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
    for chunk in _chunks(creates, 5000):
        rows = [c | {"batch_id": batch_id} for c in chunk]
        if len(creates) == 1:
            statement = insert(spec.model).returning(spec.model.id)  # type: ignore[attr-defined]
            ids.extend((await session.scalars(statement, rows)).all())
        else:
            await session.execute(insert(spec.model), rows)
        if progress is not None:
            progress(len(chunk))
    return ids


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, Decimal) and isinstance(given, Decimal):
        return stored == given
    return bool(stored == given)


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


def _problem(record: Record, name: str, reason: str, message: str) -> Problem:
    where = record.where.get(name)
    if record.row is None:
        return Problem(reason, message, field=where or name)
    return Problem(reason, message, record.row, where, name)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
