"""Writes through GraphQL: one record per mutation, or an uploaded file.

Each write is checked whole (hub/ingest), stored all-or-nothing
(resolvers/store.py) and committed with the request; a refused write answers
BAD_USER_INPUT with every problem in `extensions.problems`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile

from hub.enums import BatchSource, Dataset
from hub.ingest.datasets import DATASETS, DatasetSpec
from hub.ingest.problems import Problem, Rejected
from hub.ingest.rows import Parsed, parse_input, parse_table
from hub.ingest.table import FileRejected, RawTable, TableLimits, read_table
from resolvers.context import Context, writing
from resolvers.dynamic import after_batch
from resolvers.errors import BadUserInput
from resolvers.store import Mode, Stored, Writer, store
from resolvers.transitions import Actor

# Problems listed in one answer; the count says how many there were.
MAX_LISTED_PROBLEMS = 500


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    outcome: str  # CREATED, UPDATED or UNCHANGED
    id: int
    batch_id: int | None
    grade_changes: int = 0


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    rows: int
    created: int
    updated: int
    unchanged: int
    batch_id: int | None
    dry_run: bool
    format: str
    encoding: str | None
    sha256: str
    ignored_columns: list[str]
    grade_changes: int = 0


@writing
async def write_record(
    ctx: Context,
    dataset: Dataset,
    data: Mapping[str, Any],
    *,
    correction_reason: str | None = None,
) -> WriteOutcome:
    """Record one record (new, or identical to the stored one), or correct it."""
    spec = DATASETS[dataset]
    parsed = parse_input(spec, data, today=ctx.today)
    _raise_problems(parsed.problems, rows=1)
    mode = Mode.CREATE if correction_reason is None else Mode.CORRECT
    if correction_reason is not None and not correction_reason.strip():
        raise BadUserInput(
            "Give the reason for the correction.", reason="REQUIRED", field="reason"
        )
    stored = await _store(
        ctx, spec, parsed, mode, BatchSource.MUTATION, correction_reason
    )
    assert len(stored.ids) == 1, "one record in, one id out"
    outcome = (
        "CREATED" if stored.created else "UPDATED" if stored.updated else "UNCHANGED"
    )
    return WriteOutcome(outcome, stored.ids[0], stored.batch_id, stored.grade_changes)


@writing
async def import_upload(
    ctx: Context,
    dataset: Dataset,
    file: object,
    *,
    allow_updates: bool,
    dry_run: bool,
    insurance: bool = False,
) -> ImportOutcome:
    """Import a CSV or XLSX file of one dataset: every row lands, or none.

    Insurance lists come through their own mutation (`insurance=True`), which
    needs `insurance:write` rather than `data:write`.
    """
    if (dataset is Dataset.INSURANCE) is not insurance:
        raise BadUserInput(
            "Insurance lists are imported with importInsurancePolicies.",
            reason="USE_INSURANCE_IMPORT",
            field="dataset",
        )
    if not isinstance(file, UploadFile):  # a string sent in place of a file
        raise BadUserInput(
            "Send the file as a multipart upload (GraphQL multipart request).",
            reason="NOT_AN_UPLOAD",
            field="file",
        )
    spec = DATASETS[dataset]
    file_name = file.filename or ""
    table = read_upload(
        await file.read(), file_name, max_rows=ctx.settings.import_max_rows
    )
    parsed = parse_table(spec, table, today=ctx.today)
    _raise_problems(parsed.problems, rows=len(table.rows))
    mode = Mode.UPSERT if allow_updates else Mode.CREATE
    stored = await _store(
        ctx,
        spec,
        parsed,
        mode,
        BatchSource.UPLOAD,
        None,
        file_name=file_name,
        sha256=table.sha256,
        dry_run=dry_run,
    )
    return ImportOutcome(
        rows=stored.rows,
        created=stored.created,
        updated=stored.updated,
        unchanged=stored.unchanged,
        batch_id=stored.batch_id,
        dry_run=dry_run,
        format=table.format,
        encoding=table.encoding,
        sha256=table.sha256,
        ignored_columns=parsed.ignored_columns,
        grade_changes=stored.grade_changes,
    )


def read_upload(data: bytes, file_name: str, *, max_rows: int) -> RawTable:
    try:
        return read_table(data, file_name, limits=TableLimits(max_rows=max_rows))
    except FileRejected as e:
        raise BadUserInput(
            e.message,
            reason=e.reason,
            field="file",
            problems=[_listed(Problem(e.reason, e.message, e.row, e.column))],
            problemCount=1,
        ) from None


async def _store(
    ctx: Context,
    spec: DatasetSpec,
    parsed: Parsed,
    mode: Mode,
    source: BatchSource,
    note: str | None,
    *,
    file_name: str | None = None,
    sha256: str | None = None,
    dry_run: bool = False,
) -> Stored:
    writer = Writer(
        caller=ctx.caller,
        source=source,
        actor=f"client:{ctx.caller.client_id}",
        request_id=ctx.request_id,
        file_name=file_name,
        file_sha256=sha256,
        note=note,
    )
    try:
        stored = await store(
            ctx.db,
            spec,
            parsed.records,
            writer=writer,
            now=ctx.now,
            mode=mode,
            dry_run=dry_run,
        )
    except Rejected as e:
        _raise_problems(e.problems, rows=e.rows)
        raise
    if stored.batch_id is not None:
        changes = await after_batch(
            ctx.db,
            dataset=spec.dataset,
            batch_id=stored.batch_id,
            policies=ctx.policies,
            actor=Actor.of(ctx.caller, ctx.request_id),
            now=ctx.now,
            today=ctx.today,
        )
        stored.grade_changes = len(changes)
    return stored


def _raise_problems(problems: list[Problem], *, rows: int) -> None:
    if not problems:
        return
    first = problems[0]
    where = f"row {first.row}, column {first.column}: " if first.row else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise BadUserInput(
        f"Nothing was written: {where}{first.message}{more}.",
        reason=first.reason,
        field=first.field or "file",
        problems=[_listed(p) for p in problems[:MAX_LISTED_PROBLEMS]],
        problemCount=len(problems),
        rows=rows,
    )


def _listed(problem: Problem) -> dict[str, Any]:
    return {
        "row": problem.row,
        "column": problem.column,
        "field": problem.field,
        "reason": problem.reason,
        "message": problem.message,
    }
