"""Match a file's header row to a dataset's fields, units included."""

from dataclasses import dataclass, field

from hub.ingest.fields import (
    MASS_UNITS,
    MONEY_UNITS,
    Field,
    UnitKind,
    normalise_header,
    split_unit,
    unit_suffix,
)
from hub.ingest.problems import Problem


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str  # as written in the file
    field: Field
    unit: str | None  # the unit word, for MONEY and MASS fields


@dataclass(slots=True)
class ColumnMap:
    columns: list[Column] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def map_columns(
    fields: tuple[Field, ...], header: list[str], header_row: int
) -> ColumnMap:
    """Which column feeds which field; unknown columns are ignored and listed.

    A money or mass column must name its unit (罚款金额（万元）, fine_amount_yuan,
    化学需氧量（吨）): a bare 罚款金额 is refused, since a ×10,000 error would
    otherwise pass unnoticed.
    """
    index = {normalise_header(h): f for f in fields for h in (f.name, *f.headers)}
    result = ColumnMap()
    seen: dict[str, str] = {}
    for i, text in enumerate(header):
        if not text:
            continue
        found = _match(index, normalise_header(text))
        if found is None:
            result.ignored.append(text)
            continue
        spec, unit = found
        if spec.name in seen:
            result.problems.append(
                Problem(
                    "DUPLICATE_COLUMN",
                    f"columns {seen[spec.name]!r} and {text!r} both give {spec.label}",
                    header_row,
                    text,
                    spec.name,
                )
            )
            continue
        seen[spec.name] = text
        problem = _unit_problem(spec, unit)
        if problem:
            result.problems.append(
                Problem("UNIT_REQUIRED", problem, header_row, text, spec.name)
            )
            continue
        result.columns.append(Column(i, text, spec, unit))
    for spec in fields:
        if spec.required and spec.name not in seen:
            names = "、".join(spec.headers[:3])
            result.problems.append(
                Problem(
                    "MISSING_COLUMN",
                    f"no column for {spec.label}; name it one of: {names} "
                    f"(or {spec.name})",
                    row=header_row,
                    field=spec.name,
                )
            )
    return result


def _match(index: dict[str, Field], header: str) -> tuple[Field, str | None] | None:
    if header in index:
        return index[header], None
    base, unit = split_unit(header)
    if unit is not None and base in index:
        return index[base], unit
    suffixed = unit_suffix(header)
    if suffixed and suffixed[0] in index and index[suffixed[0]].unit is not None:
        return index[suffixed[0]], suffixed[1]
    return None


def _unit_problem(spec: Field, unit: str | None) -> str | None:
    if spec.unit is UnitKind.MONEY and unit not in MONEY_UNITS:
        return (
            f"the header of {spec.label} must name its unit, e.g. {spec.headers[0]}（万元）"
            f" or {spec.headers[0]}（元）"
            + (f"; {unit!r} is not a unit" if unit else "")
        )
    if spec.unit is UnitKind.MASS and unit not in MASS_UNITS:
        return (
            f"the header of {spec.label} must name its unit, e.g. {spec.headers[0]}（吨）"
            + (f"; {unit!r} is not a unit" if unit else "")
        )
    return None
