"""Rules across the fields of one record: defaults, derived keys, consistency.

Each check fills in what may be left out and returns what is wrong as
(field, reason, message); it runs only when every field parsed.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from hub.decision_number import canonical_decision_number
from hub.enums import (
    EnterpriseStatus,
    EventKind,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    RiskLevel,
    SupervisionCategory,
)
from hub.ingest.fields import Env

Issue = tuple[str, str, str]
Values = dict[str, Any]

# NDRC 2023: penalty information is published for at most three years.
PUBLICATION_YEARS = 3
RISK_ORDER = (RiskLevel.GENERAL, RiskLevel.LARGER, RiskLevel.MAJOR)
RISK_ZH = {RiskLevel.GENERAL: "一般", RiskLevel.LARGER: "较大", RiskLevel.MAJOR: "重大"}
MEDIA = (("air", "大气"), ("water", "水"))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_enterprise(v: Values, env: Env) -> list[Issue]:
    v["supervision_category"] = (
        v.get("supervision_category") or SupervisionCategory.OTHER
    )
    v["status"] = v.get("status") or EnterpriseStatus.OPERATING
    return []


def check_penalty(v: Values, env: Env) -> list[Issue]:
    issues: list[Issue] = []
    v["decision_number_key"] = canonical_decision_number(v["decision_number"])
    v["fine_amount"] = v.get("fine_amount") or Decimal("0.00")
    v["confiscation_amount"] = v.get("confiscation_amount") or Decimal("0.00")
    v["status"] = v.get("status") or PenaltyStatus.EFFECTIVE
    categories: list[PenaltyCategory] = v["categories"]
    fined = PenaltyCategory.FINE in categories
    if fined and v["fine_amount"] <= 0:
        issues.append(
            (
                "fine_amount",
                "FINE_MISSING",
                "处罚类别 includes 罚款 but no fine is given",
            )
        )
    if not fined and v["fine_amount"] > 0:
        issues.append(
            (
                "categories",
                "FINE_NOT_IN_CATEGORIES",
                "a fine is given but 处罚类别 does not include 罚款",
            )
        )
    v["categories"] = [c.value for c in categories]
    decided: date = v["decision_date"]
    latest = add_years(decided, PUBLICATION_YEARS)
    end = v.get("publication_end_date") or latest
    v["publication_end_date"] = end
    if end < decided:
        issues.append(
            (
                "publication_end_date",
                "BEFORE_DECISION",
                f"公示截止期 {end} is before the decision date {decided}",
            )
        )
    elif end > latest:
        issues.append(
            (
                "publication_end_date",
                "PUBLICATION_TOO_LONG",
                f"公示截止期 {end} is more than {PUBLICATION_YEARS} years after the "
                f"decision date (latest {latest})",
            )
        )
    return issues


def check_risk(v: Values, env: Env) -> list[Issue]:
    issues: list[Issue] = []
    parts = []
    levels = []
    for medium, zh in MEDIA:
        level = v.get(f"{medium}_level")
        classes = [v.get(f"{medium}_{c}") for c in ("q", "m", "e")]
        if level is None and any(classes):
            issues.append(
                (
                    f"{medium}_level",
                    "LEVEL_MISSING",
                    f"Q/M/E classes for {zh} are given without its risk level",
                )
            )
        if level is not None:
            levels.append(level)
            named = "-".join(c.value for c in classes if c is not None)
            parts.append(f"{RISK_ZH[level]}-{zh}" + (f"({named})" if named else ""))
    overall: RiskLevel = v["overall_level"]
    if levels and overall is not max(levels, key=RISK_ORDER.index):
        highest = max(levels, key=RISK_ORDER.index)
        issues.append(
            (
                "overall_level",
                "LEVEL_MISMATCH",
                f"the enterprise level must be the higher of the air and water "
                f"levels ({RISK_ZH[highest]}), got {RISK_ZH[overall]}",
            )
        )
    if not v.get("level_string"):
        v["level_string"] = RISK_ZH[overall] + (f"[{'+'.join(parts)}]" if parts else "")
    if (v.get("plan_filing_number") is None) != (v.get("plan_filed_on") is None):
        issues.append(
            (
                "plan_filed_on",
                "PLAN_INCOMPLETE",
                "the emergency-plan filing number and filing date go together",
            )
        )
    return issues


def check_policy(v: Values, env: Env) -> list[Issue]:
    issues: list[Issue] = []
    if v["end_date"] < v["start_date"]:
        issues.append(
            (
                "end_date",
                "BEFORE_START",
                f"保险止期 {v['end_date']} is before 保险起期 {v['start_date']}",
            )
        )
    if v["per_accident_limit"] > v["cumulative_limit"]:
        issues.append(
            (
                "per_accident_limit",
                "ABOVE_CUMULATIVE",
                "the per-accident limit exceeds the cumulative limit",
            )
        )
    if v.get("status") is None:
        v["status"] = (
            PolicyStatus.EXPIRED if v["end_date"] < env.today else PolicyStatus.ACTIVE
        )
    return issues


def check_emission(v: Values, env: Env) -> list[Issue]:
    if all(v.get(p) is None for p in ("cod", "ammonia_nitrogen", "so2", "nox")):
        return [("cod", "NO_POLLUTANT", "give at least one pollutant's emissions")]
    return []


def check_event(v: Values, env: Env) -> list[Issue]:
    issues: list[Issue] = []
    v["reference_key"] = canonical_decision_number(v["reference"])
    kind: EventKind = v["kind"]
    if kind is EventKind.EMERGENCY and v.get("severity") is None:
        issues.append(
            ("severity", "SEVERITY_MISSING", "an emergency needs its level (事件等级)")
        )
    if kind is not EventKind.EMERGENCY and v.get("severity") is not None:
        issues.append(
            ("severity", "SEVERITY_NOT_EMERGENCY", "only emergencies carry a level")
        )
    if kind is not EventKind.COURT_RULING and v.get("criminal") is not None:
        issues.append(
            (
                "criminal",
                "CRIMINAL_NOT_RULING",
                "only court rulings are criminal or not",
            )
        )
    until = v.get("valid_until")
    if until is not None and until < v["occurred_on"]:
        issues.append(
            (
                "valid_until",
                "BEFORE_OCCURRED",
                f"有效期至 {until} is before the date {v['occurred_on']}",
            )
        )
    return issues
