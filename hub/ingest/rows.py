"""Turn file rows and GraphQL inputs into checked records of one dataset."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from hub.ingest.columns import map_columns
from hub.ingest.datasets import DatasetSpec
from hub.ingest.fields import MASS_UNITS, MONEY_UNITS, Env, Field, UnitKind
from hub.ingest.problems import Problem
from hub.ingest.table import RawTable
from hub.ingest.values import MoneyUnit, ValueProblem

Progress = Callable[[int], None]


@dataclass(slots=True)
class Record:
    """One row's parsed values; `where` names each field's column or input path."""

    row: int | None
    values: dict[str, Any]
    where: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Parsed:
    records: list[Record]
    problems: list[Problem]
    ignored_columns: list[str]


def parse_table(
    spec: DatasetSpec, table: RawTable, *, today: date, progress: Progress | None = None
) -> Parsed:
    """Every row of the file, each field parsed and each record checked.

    Parsing goes on after a bad row, so one pass reports every problem.
    """
    columns = map_columns(spec.fields, table.header, table.header_row)
    if columns.problems:
        return Parsed([], columns.problems, columns.ignored)
    envs = [_env(today, c.field, c.unit) for c in columns.columns]
    where = {c.field.name: c.header for c in columns.columns}
    records: list[Record] = []
    problems: list[Problem] = []
    for done, (row, cells) in enumerate(table.rows, start=1):
        values: dict[str, Any] = {}
        bad = False
        for column, env in zip(columns.columns, envs, strict=True):
            spec_field = column.field
            try:
                values[spec_field.name] = spec_field.parse(cells[column.index], env)
            except ValueProblem as e:
                bad = True
                problems.append(
                    Problem(
                        e.reason,
                        f"{spec_field.label}: {e.message}",
                        row,
                        column.header,
                        spec_field.name,
                    )
                )
        bad = _finish(spec, values, Env(today), row, where, problems, failed=bad)
        if not bad:
            records.append(Record(row, values, where))
        if progress is not None and done % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(len(table.rows) % 1000)
    return Parsed(records, problems, columns.ignored)


def parse_input(
    spec: DatasetSpec, data: Mapping[str, Any], *, today: date, path: str = "input"
) -> Parsed:
    """One GraphQL input (money in yuan, masses in tonnes) checked as a row is."""
    values: dict[str, Any] = {}
    where = {f.name: f"{path}.{f.input_name}" for f in spec.fields}
    problems: list[Problem] = []
    env = Env(today)
    for spec_field in spec.fields:
        raw = data.get(spec_field.name)
        if isinstance(raw, list):  # a list of enum members, e.g. categories
            raw = "、".join(m.name if isinstance(m, Enum) else str(m) for m in raw)
        try:
            values[spec_field.name] = spec_field.parse(raw, env)
        except ValueProblem as e:
            problems.append(
                Problem(
                    e.reason,
                    f"{spec_field.label}: {e.message}",
                    field=where[spec_field.name],
                )
            )
    if _finish(spec, values, env, None, where, problems, failed=bool(problems)):
        return Parsed([], problems, [])
    return Parsed([Record(None, values, where)], [], [])


def _finish(
    spec: DatasetSpec,
    values: dict[str, Any],
    env: Env,
    row: int | None,
    where: dict[str, str],
    problems: list[Problem],
    *,
    failed: bool,
) -> bool:
    """Required fields, then the dataset's checks; True when the record is bad.

    A field that failed to parse is not in `values`, so it is not also
    reported as empty; the checks run only on a fully parsed record.
    """
    missing = [
        f
        for f in spec.fields
        if f.required and f.name in values and values[f.name] is None
    ]
    for f in missing:
        problems.append(
            Problem("REQUIRED", f"{f.label} is empty", row, *_place(f.name, where, row))
        )
    if failed or missing:
        return True
    issues = spec.check(values, env)
    for name, reason, message in issues:
        problems.append(Problem(reason, message, row, *_place(name, where, row)))
    return bool(issues)


def _place(name: str, where: dict[str, str], row: int | None) -> tuple[str | None, str]:
    """(column, field) of a problem: a file names the column, an input its path."""
    if row is None:
        return None, where.get(name, name)
    return where.get(name), name


def _env(today: date, spec_field: Field, unit: str | None) -> Env:
    if spec_field.unit is UnitKind.MONEY and unit is not None:
        return Env(today, money=MONEY_UNITS[unit])
    if spec_field.unit is UnitKind.MASS and unit is not None:
        return Env(today, mass_factor=MASS_UNITS[unit])
    return Env(today, money=MoneyUnit.YUAN)
