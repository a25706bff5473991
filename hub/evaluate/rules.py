"""A scheme's rules: deductions, bonuses and vetoes, and weighted indicators."""

import re
from dataclasses import dataclass
from decimal import Decimal

from hub.evaluate.matching import Match, read_match
from hub.evaluate.policy_source import Table

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
HUNDRED = Decimal(100)
MAX_VALID_MONTHS = 60


@dataclass(frozen=True, slots=True)
class Rule:
    """A deduction, a bonus or a veto. `points` count once per matching
    fact, up to `cap` per rule; a veto has no points."""

    code: str
    label: str
    match: Match
    points: Decimal = Decimal(0)
    cap: Decimal | None = None
    valid_months: int | None = None  # dynamic schemes: how long a deduction holds
    indicator: str = ""  # annual schemes: the indicator the rule belongs to


@dataclass(frozen=True, slots=True)
class Condition:
    """Lowers an indicator to `score` when `match` selects at least
    `min_count` facts or, with `missing`, when it selects none."""

    code: str
    label: str
    score: Decimal
    match: Match
    missing: bool = False
    min_count: int = 1


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    category: str
    label: str
    weight: Decimal  # percent of the total
    default_score: Decimal  # out of 100, when no condition holds
    conditions: tuple[Condition, ...] = ()
    # Precomputed: most enterprises meet most indicators in full.
    default_points: Decimal = Decimal(0)
    default_note: str = ""


def read_code(table: Table) -> str:
    code = table.text("code")
    if not _CODE.match(code):
        raise table.error(
            "code", f"code {code!r} must be capital letters, digits, - and _"
        )
    return code


def read_rule(
    table: Table, *, max_points: Decimal, points: bool, months: bool, annual: bool
) -> Rule:
    """Read one rule. The flags say which keys this kind of rule has: a veto
    has no `points`; dynamic rules need `valid_months`; annual rules may
    have a `cap` and an `indicator`."""
    keys = ["code", "label", "match"]
    keys += ["points"] if points else []
    keys += ["valid_months"] if months else []
    keys += ["cap", "indicator"] if annual and points else []
    table.allow(keys)
    code = read_code(table)
    label = table.text("label")
    amount = Decimal(0)
    cap = None
    if points:
        amount = _in_range(table, "points", Decimal(0), max_points, low_open=True)
        if table.has("cap"):
            cap = _in_range(table, "cap", amount, max_points)
    valid_months = None
    if months:
        valid_months = table.integer("valid_months")
        if not 1 <= valid_months <= MAX_VALID_MONTHS:
            raise table.error(
                "valid_months",
                f"valid_months {valid_months} is out of range 1..{MAX_VALID_MONTHS}",
            )
    group = table.text("indicator") if table.has("indicator") else ""
    match = read_match(table.table("match"))
    return Rule(code, label, match, amount, cap, valid_months, group)


def read_indicator(table: Table, categories: tuple[str, ...]) -> Indicator:
    table.allow(("code", "category", "label", "weight", "default_score", "conditions"))
    code = read_code(table)
    category = table.text("category")
    if category not in categories:
        raise table.error(
            "category",
            f"category {category!r} is not one of the scheme's categories: "
            + ", ".join(categories),
        )
    label = table.text("label")
    weight = _in_range(table, "weight", Decimal(0), HUNDRED, low_open=True)
    default = HUNDRED
    if table.has("default_score"):
        default = _in_range(table, "default_score", Decimal(0), HUNDRED)
    conditions = tuple(_read_condition(t) for t in table.tables("conditions"))
    points = weight * default / HUNDRED
    note = f"{default} × {weight}%"
    return Indicator(code, category, label, weight, default, conditions, points, note)


def _read_condition(table: Table) -> Condition:
    table.allow(("code", "label", "score", "match", "missing", "min_count"))
    code = read_code(table)
    label = table.text("label")
    score = _in_range(table, "score", Decimal(0), HUNDRED)
    if table.has("match") == table.has("missing"):
        raise table.error(None, "a condition needs exactly one of match and missing")
    missing = table.has("missing")
    min_count = 1
    if table.has("min_count"):
        if missing:
            raise table.error("min_count", "min_count does not apply to missing")
        min_count = table.integer("min_count")
        if min_count < 1:
            raise table.error("min_count", "min_count must be at least 1")
    match = read_match(table.table("missing" if missing else "match"))
    return Condition(code, label, score, match, missing, min_count)


def _in_range(
    table: Table, key: str, low: Decimal, high: Decimal, *, low_open: bool = False
) -> Decimal:
    value = table.number(key)
    if value > high or value < low or (low_open and value == low):
        bound = "above" if low_open else "from"
        raise table.error(
            key, f"{key} {value} is out of range ({bound} {low} up to {high})"
        )
    return value
