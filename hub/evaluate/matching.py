"""Which recorded facts a rule's `match` table selects, and inside which dates."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from hub.enums import (
    EmergencyLevel,
    EventKind,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    RiskLevel,
)
from hub.evaluate.facts import EnterpriseFacts
from hub.evaluate.policy_source import E, Table

# The same alphabet hub/ingest accepts for 违法行为代码.
_VIOLATION_CODE = re.compile(r"^[A-Z0-9_]+$")


class FactSource(Enum):
    PENALTY = "penalty"
    EVENT = "event"
    POLICY = "policy"
    RISK = "risk"


# The match keys each source understands; any other key is refused.
_KEYS: dict[FactSource, tuple[str, ...]] = {
    FactSource.PENALTY: ("categories", "fine_at_least", "fine_below"),
    FactSource.EVENT: ("kinds", "severities", "criminal", "violation_codes"),
    FactSource.POLICY: ("policy_statuses", "covers_whole_period"),
    FactSource.RISK: ("risk_levels", "plan_filed"),
}


@dataclass(frozen=True, slots=True)
class Match:
    """A conjunction of tests; an empty set or None means "any"."""

    source: FactSource
    categories: frozenset[PenaltyCategory] = frozenset()  # any of
    fine_at_least: Decimal | None = None  # yuan, inclusive
    fine_below: Decimal | None = None  # yuan, exclusive: bands never share a fine
    kinds: frozenset[EventKind] = frozenset()
    severities: frozenset[EmergencyLevel] = frozenset()
    criminal: bool | None = None
    violation_codes: frozenset[str] = frozenset()
    policy_statuses: frozenset[PolicyStatus] = frozenset()
    covers_whole_period: bool = False
    risk_levels: frozenset[RiskLevel] = frozenset()
    plan_filed: bool | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One fact a match selected: the record, the day it arose, and the last
    day it holds by itself (a commitment's valid_until, a policy's end)."""

    record: tuple[str, int]
    start: date
    end: date | None = None


def read_match(table: Table) -> Match:
    source = table.choice("source", FactSource)
    allowed = _KEYS[source]
    for key in (k for keys in _KEYS.values() for k in keys if k not in allowed):
        if table.has(key):
            raise table.error(key, f"{key} does not apply to source {source.value!r}")
    table.allow(("source", *allowed))
    fine_at_least = _fine(table, "fine_at_least")
    fine_below = _fine(table, "fine_below")
    if (
        fine_at_least is not None
        and fine_below is not None
        and fine_below <= fine_at_least
    ):
        raise table.error("fine_below", "fine_below must be above fine_at_least")
    codes = (
        frozenset(table.texts("violation_codes"))
        if table.has("violation_codes")
        else frozenset()
    )
    for index, code in enumerate(sorted(codes)):
        if not _VIOLATION_CODE.match(code):
            raise table.source.error(
                (*table.at, "violation_codes", index),
                f"violation code {code!r} must be capital letters, digits and _",
            )
    match = Match(
        source=source,
        categories=_set(table, "categories", PenaltyCategory),
        fine_at_least=fine_at_least,
        fine_below=fine_below,
        kinds=_set(table, "kinds", EventKind),
        severities=_set(table, "severities", EmergencyLevel),
        criminal=table.flag("criminal") if table.has("criminal") else None,
        violation_codes=codes,
        policy_statuses=_set(table, "policy_statuses", PolicyStatus),
        covers_whole_period=(
            table.flag("covers_whole_period")
            if table.has("covers_whole_period")
            else False
        ),
        risk_levels=_set(table, "risk_levels", RiskLevel),
        plan_filed=table.flag("plan_filed") if table.has("plan_filed") else None,
    )
    return match


def _set(table: Table, key: str, enum: type[E]) -> frozenset[E]:
    return table.choices(key, enum) if table.has(key) else frozenset()


def _fine(table: Table, key: str) -> Decimal | None:
    if not table.has(key):
        return None
    value = table.number(key)
    if value < 0:
        raise table.error(key, f"{key} must not be negative")
    return value


def select(match: Match, facts: EnterpriseFacts, first: date, last: date) -> list[Hit]:
    """The facts `match` selects that fall inside [first, last].

    Penalties and events fall inside by their date. A policy falls inside
    when its cover overlaps the window, or spans all of it with
    `covers_whole_period`. A risk assessment stays on file: the latest one
    made by `last` is the one that counts, whenever it was made. Revoked
    penalties never match.
    """
    if match.source is FactSource.PENALTY:
        return [
            Hit(("PENALTY", p.id), p.decision_date)
            for p in facts.penalties
            if first <= p.decision_date <= last
            and p.status is not PenaltyStatus.REVOKED
            and (not match.categories or not match.categories.isdisjoint(p.categories))
            and (match.fine_at_least is None or p.fine_amount >= match.fine_at_least)
            and (match.fine_below is None or p.fine_amount < match.fine_below)
        ]
    if match.source is FactSource.EVENT:
        return [
            Hit(("EVENT", e.id), e.occurred_on, e.valid_until)
            for e in facts.events
            if first <= e.occurred_on <= last
            and (not match.kinds or e.kind in match.kinds)
            and (not match.severities or e.severity in match.severities)
            and (match.criminal is None or bool(e.criminal) is match.criminal)
            and (not match.violation_codes or e.violation_code in match.violation_codes)
        ]
    if match.source is FactSource.POLICY:
        return [
            Hit(("POLICY", p.id), p.start_date, p.end_date)
            for p in facts.policies
            if (not match.policy_statuses or p.status in match.policy_statuses)
            and (
                p.start_date <= first and p.end_date >= last
                if match.covers_whole_period
                else p.start_date <= last and p.end_date >= first
            )
        ]
    on_file = [r for r in facts.risks if r.assessed_on <= last]
    if not on_file:
        return []
    latest = max(on_file, key=lambda r: (r.assessed_on, r.id))
    filed = latest.plan_filed_on is not None and latest.plan_filed_on <= last
    if (match.risk_levels and latest.overall_level not in match.risk_levels) or (
        match.plan_filed is not None and filed is not match.plan_filed
    ):
        return []
    return [Hit(("RISK", latest.id), latest.assessed_on)]
