"""Who is evaluated for a year (参评名单), and why each enterprise is on the list.

Nationally key-monitored enterprises always; city key-monitored enterprises
when they are among the largest emitters: for each main pollutant, the
listed enterprises' emissions must reach the configured share (80 %) of the
city's total; the national ones count first, then city-key enterprises are
taken from the largest down until the share is reached. The union over the
four pollutants is the list.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import EnterpriseStatus, SupervisionCategory
from hub.models import AnnualEmission, Enterprise
from resolvers.access import enterprise_rule

POLLUTANTS = (
    ("cod", "化学需氧量 COD"),
    ("ammonia_nitrogen", "氨氮 NH3-N"),
    ("so2", "二氧化硫 SO2"),
    ("nox", "氮氧化物 NOx"),
)


@dataclass(slots=True)
class Listed:
    enterprise_id: int
    code: str
    name: str
    district_code: str
    category: SupervisionCategory
    status: EnterpriseStatus
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class _Emitter:
    enterprise_id: int
    code: str
    category: SupervisionCategory
    amounts: tuple[Decimal | None, ...]


async def evaluation_list(
    session: AsyncSession, *, year: int, share: float, caller: Caller
) -> list[Listed]:
    """The list for `year`, in credit-code order, within the caller's rows.

    The ranking is city-wide (a county bureau's list is its part of the
    city's list), from the emissions recorded for `year`.
    """
    emitters = await _emitters(session, year)
    reasons: dict[int, list[str]] = {}
    for index, (_, label) in enumerate(POLLUTANTS):
        for enterprise_id, reason in _largest(
            emitters, index, label, Decimal(str(share))
        ):
            reasons.setdefault(enterprise_id, []).append(reason)
    rows = await session.execute(
        select(
            Enterprise.id,
            Enterprise.code,
            Enterprise.name,
            Enterprise.district_code,
            Enterprise.supervision_category,
            Enterprise.status,
        )
        .where(enterprise_rule(caller))
        .where(
            (Enterprise.supervision_category == SupervisionCategory.NATIONAL_KEY)
            | Enterprise.id.in_(
                select(AnnualEmission.enterprise_id).where(AnnualEmission.year == year)
            )
        )
        .order_by(Enterprise.code)
    )
    listed = []
    for id_, code, name, district, category, status in rows:
        why = list(reasons.get(id_, []))
        if category is SupervisionCategory.NATIONAL_KEY:
            why.insert(0, "国家重点监控企业 (nationally key-monitored)")
        if why:
            listed.append(Listed(id_, code, name, district, category, status, why))
    return listed


async def _emitters(session: AsyncSession, year: int) -> list[_Emitter]:
    rows = await session.execute(
        select(
            AnnualEmission.enterprise_id,
            Enterprise.code,
            Enterprise.supervision_category,
            AnnualEmission.cod,
            AnnualEmission.ammonia_nitrogen,
            AnnualEmission.so2,
            AnnualEmission.nox,
        )
        .join(Enterprise, Enterprise.id == AnnualEmission.enterprise_id)
        .where(AnnualEmission.year == year)
    )
    return [_Emitter(r[0], r[1], r[2], tuple(r[3:])) for r in rows]


def _largest(
    emitters: list[_Emitter], index: int, label: str, share: Decimal
) -> list[tuple[int, str]]:
    """City-key enterprises taken, largest first, until the listed share of
    the city's total reaches `share`; the one that crosses it is taken."""
    total = sum((e.amounts[index] or Decimal(0) for e in emitters), Decimal(0))
    if total <= 0:
        return []
    covered = sum(
        (
            e.amounts[index] or Decimal(0)
            for e in emitters
            if e.category is SupervisionCategory.NATIONAL_KEY
        ),
        Decimal(0),
    )
    ranked = sorted(
        (
            e
            for e in emitters
            if e.category is SupervisionCategory.CITY_KEY
            and (e.amounts[index] or 0) > 0
        ),
        key=lambda e: (-(e.amounts[index] or Decimal(0)), e.code),
    )
    taken = []
    for rank, e in enumerate(ranked, start=1):
        if covered >= share * total:
            break
        amount = e.amounts[index] or Decimal(0)
        covered += amount
        taken.append(
            (
                e.enterprise_id,
                f"{label}: rank {rank} among city-key enterprises, {_t(amount)} t; "
                f"listed share {covered / total:.1%} of the city's {_t(total)} t",
            )
        )
    return taken


def _t(tonnes: Decimal) -> str:
    """Tonnes as written: 40, 12.345 (no trailing zeros, no exponent)."""
    return f"{tonnes.normalize():f}"
