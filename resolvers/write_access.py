"""Who may write which rows: insurers, county bureaus, districts, enterprises.

The caller's row rules apply to writes as to reads; an enterprise the caller
may not see is reported exactly as an unknown one.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import AgencyKind, Dataset
from hub.ingest.datasets import DatasetSpec
from hub.ingest.problems import Problem
from hub.ingest.rows import Record
from hub.models import District, Enterprise
from resolvers.access import enterprise_rule

CHUNK = 1000


def check_writer(
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
                    problem_at(
                        record, name, "REQUIRED", f"{spec.field(name).label} is empty"
                    )
                )
        if insurer and (
            caller.org_code is None or values["insurer_code"] != caller.org_code
        ):
            problems.append(
                problem_at(
                    record,
                    "insurer_code",
                    "OTHER_INSURER",
                    "an insurer may submit only its own policies: the insurer's "
                    "credit code must be the one registered for your agency",
                )
            )


async def resolve_enterprises(
    session: AsyncSession,
    records: Sequence[Record],
    caller: Caller,
    problems: list[Problem],
) -> None:
    codes = sorted({r.values["enterprise_code"] for r in records})
    ids: dict[str, int] = {}
    for chunk in chunks(codes):
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
                problem_at(
                    record,
                    "enterprise_code",
                    "UNKNOWN_ENTERPRISE",
                    f"no enterprise with credit code {code} is registered in your "
                    "jurisdiction; record the enterprise first",
                )
            )


async def resolve_districts(
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
                problem_at(
                    record,
                    "district_code",
                    "UNKNOWN_DISTRICT",
                    f"{given!r} is not a district of Wuxi; give a 6-digit code such as "
                    "320205 or a name such as 锡山区",
                )
            )
        elif district.valid_to is not None:
            problems.append(
                problem_at(
                    record,
                    "district_code",
                    "ABOLISHED_DISTRICT",
                    f"{district.code} {district.name} was abolished on "
                    f"{district.valid_to}; use {district.successor_code}",
                )
            )
        elif caller.districts is not None and district.code not in caller.districts:
            problems.append(
                problem_at(
                    record,
                    "district_code",
                    "OUTSIDE_JURISDICTION",
                    f"your bureau records enterprises of {', '.join(sorted(caller.districts))} only",
                )
            )
        else:
            record.values["district_code"] = district.code


async def visible_codes(
    session: AsyncSession, codes: list[str], caller: Caller
) -> set[str]:
    visible: set[str] = set()
    for chunk in chunks(codes):
        visible.update(
            await session.scalars(
                select(Enterprise.code).where(
                    Enterprise.code.in_(chunk), enterprise_rule(caller)
                )
            )
        )
    return visible


def problem_at(record: Record, name: str, reason: str, message: str) -> Problem:
    where = record.where.get(name)
    if record.row is None:
        return Problem(reason, message, field=where or name)
    return Problem(reason, message, record.row, where, name)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
