"""Rating schemes as data: versioned TOML files, validated (see schemes/README.md)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path

from hub.enums import Grade, Scheme
from hub.evaluate.bands import Band, grade_for, read_bands
from hub.evaluate.policy_source import PolicyError, Table, read_document
from hub.evaluate.rules import (
    HUNDRED,
    Indicator,
    Rule,
    read_code,
    read_indicator,
    read_rule,
)
from hub.evaluate.toml_lines import line_of

__all__ = [
    "SCHEMES_DIR",
    "Band",
    "Kind",
    "PolicyError",
    "SchemePolicy",
    "load_policies",
    "load_policy",
    "policy_for",
]

SCHEMES_DIR = Path(__file__).parent / "schemes"


class Kind(Enum):
    ANNUAL_DEDUCTION = "annual_deduction"
    DYNAMIC_SCORE = "dynamic_score"
    WEIGHTED_INDICATORS = "weighted_indicators"


@dataclass(frozen=True, slots=True)
class SchemePolicy:
    path: Path
    scheme: Scheme
    version: str
    effective_from: date
    title: str
    kind: Kind
    bands: tuple[Band, ...]  # highest first
    max_score: Decimal
    start_score: Decimal
    min_score: Decimal | None  # None: no floor (a dynamic score may go below zero)
    veto_grade: Grade | None = None
    deductions: tuple[Rule, ...] = ()
    bonuses: tuple[Rule, ...] = ()
    vetoes: tuple[Rule, ...] = ()
    categories: tuple[str, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    validity_starts_after_days: int = 15
    longest_valid_months: int = 0  # over deductions; bounds the facts to look at

    def grade_for(self, score: Decimal) -> Grade:
        return grade_for(self.bands, score)


_COMMON = ("scheme", "version", "effective_from", "title", "kind", "bands")
_TOP_KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.ANNUAL_DEDUCTION: (
        *_COMMON,
        *("max_score", "start_score", "min_score", "deductions", "bonuses"),
        *("veto_grade", "vetoes"),
    ),
    Kind.DYNAMIC_SCORE: (
        *_COMMON,
        *("max_score", "start_score", "min_score", "deductions", "bonuses"),
        "validity_starts_after_days",
    ),
    Kind.WEIGHTED_INDICATORS: (
        *_COMMON,
        *("categories", "indicators", "veto_grade", "vetoes"),
    ),
}


@dataclass(frozen=True, slots=True)
class _Header:
    path: Path
    scheme: Scheme
    version: str
    effective_from: date
    title: str
    kind: Kind


def load_policy(path: Path) -> SchemePolicy:
    """Read and validate one policy file; PolicyError names the line."""
    root = read_document(path)
    kind = root.choice("kind", Kind)
    root.allow(_TOP_KEYS[kind])
    header = _Header(
        path=path,
        scheme=root.choice("scheme", Scheme),
        version=root.text("version"),
        effective_from=root.day("effective_from"),
        title=root.text("title"),
        kind=kind,
    )
    if header.kind is Kind.WEIGHTED_INDICATORS:
        policy = _weighted(root, header)
    else:
        policy = _points(root, header)
    _check_codes(root)
    return policy


def load_policies(directory: Path) -> dict[Scheme, list[SchemePolicy]]:
    """Every `*.toml` in `directory`, by scheme, oldest version first."""
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise PolicyError(directory, None, "no policy files (*.toml) in the directory")
    found: dict[Scheme, list[SchemePolicy]] = {}
    for path in paths:
        policy = load_policy(path)
        for other in found.get(policy.scheme, []):
            for key in ("effective_from", "version"):
                value = getattr(policy, key)
                if getattr(other, key) == value:
                    raise PolicyError(
                        path,
                        line_of(path.read_text(encoding="utf-8"), (key,)),
                        f"{policy.scheme.value} {key} {value} is also in {other.path.name}",
                    )
        found.setdefault(policy.scheme, []).append(policy)
    for versions in found.values():
        versions.sort(key=lambda p: p.effective_from)
    return found


def policy_for(
    policies: Mapping[Scheme, Sequence[SchemePolicy]], scheme: Scheme, on: date
) -> SchemePolicy:
    """The version of `scheme` in effect on `on`: the latest that took effect by then."""
    versions = policies.get(scheme, ())
    in_effect = [p for p in versions if p.effective_from <= on]
    if in_effect:
        return max(in_effect, key=lambda p: p.effective_from)
    if not versions:
        raise PolicyError(Path("."), None, f"no policy file for {scheme.value}")
    first = min(versions, key=lambda p: p.effective_from)
    raise PolicyError(
        first.path,
        None,
        f"no version of {scheme.value} in effect on {on}: "
        f"the first takes effect on {first.effective_from}",
    )


def _points(root: Table, header: _Header) -> SchemePolicy:
    dynamic = header.kind is Kind.DYNAMIC_SCORE
    max_score = root.number("max_score")
    if max_score <= 0:
        raise root.error("max_score", "max_score must be above 0")
    min_score = root.number("min_score") if root.has("min_score") else None
    if min_score is not None and min_score >= max_score:
        raise root.error("min_score", "min_score must be below max_score")
    start = root.number("start_score") if root.has("start_score") else max_score
    if start > max_score or (min_score is not None and start < min_score):
        raise root.error("start_score", f"start_score {start} is out of range")
    delay = 15  # domain.md §1.2: validity runs from 15 days after the information
    if root.has("validity_starts_after_days"):
        delay = root.integer("validity_starts_after_days")
        if not 0 <= delay <= 366:
            raise root.error(
                "validity_starts_after_days",
                "validity_starts_after_days must be 0..366",
            )
    deductions = _rules(root, "deductions", max_score, dynamic=dynamic)
    bonuses = _rules(root, "bonuses", max_score, dynamic=dynamic)
    bands = read_bands(root, max_score)
    vetoes, veto_grade = ((), None) if dynamic else _vetoes(root, bands, max_score)
    return SchemePolicy(
        path=header.path,
        scheme=header.scheme,
        version=header.version,
        effective_from=header.effective_from,
        title=header.title,
        kind=header.kind,
        bands=bands,
        max_score=max_score,
        start_score=start,
        min_score=min_score,
        veto_grade=veto_grade,
        deductions=deductions,
        bonuses=bonuses,
        vetoes=vetoes,
        validity_starts_after_days=delay,
        longest_valid_months=max((r.valid_months or 0 for r in deductions), default=0),
    )


def _weighted(root: Table, header: _Header) -> SchemePolicy:
    categories = root.texts("categories")
    if len(set(categories)) < len(categories):
        raise root.error("categories", "categories must not repeat")
    if not root.has("indicators"):
        raise root.error(None, "missing key 'indicators'")
    indicators = tuple(read_indicator(t, categories) for t in root.tables("indicators"))
    total = sum((i.weight for i in indicators), Decimal(0))
    if total != HUNDRED:
        raise root.error(
            "indicators", f"the indicator weights add up to {total} %, not 100 %"
        )
    for category in categories:
        if not any(i.category == category for i in indicators):
            raise root.error("categories", f"category {category!r} has no indicator")
    bands = read_bands(root, HUNDRED)
    vetoes, veto_grade = _vetoes(root, bands, HUNDRED)
    return SchemePolicy(
        path=header.path,
        scheme=header.scheme,
        version=header.version,
        effective_from=header.effective_from,
        title=header.title,
        kind=header.kind,
        bands=bands,
        max_score=HUNDRED,
        start_score=HUNDRED,
        min_score=Decimal(0),
        veto_grade=veto_grade,
        vetoes=vetoes,
        categories=categories,
        indicators=indicators,
    )


def _rules(
    root: Table, key: str, max_score: Decimal, *, dynamic: bool
) -> tuple[Rule, ...]:
    return tuple(
        read_rule(
            t, max_points=max_score, points=True, months=dynamic, annual=not dynamic
        )
        for t in root.tables(key)
    )


def _vetoes(
    root: Table, bands: tuple[Band, ...], max_score: Decimal
) -> tuple[tuple[Rule, ...], Grade | None]:
    vetoes = tuple(
        read_rule(t, max_points=max_score, points=False, months=False, annual=False)
        for t in root.tables("vetoes")
    )
    if not root.has("veto_grade"):
        if vetoes:
            raise root.error("vetoes", "vetoes need a veto_grade: the grade they force")
        return vetoes, None
    grade = root.choice("veto_grade", Grade)
    if all(b.grade is not grade for b in bands):
        known = ", ".join(b.grade.value for b in bands)
        raise root.error(
            "veto_grade",
            f"veto_grade {grade.value} is not a grade of this scheme ({known})",
        )
    return vetoes, grade


def _check_codes(root: Table) -> None:
    """Rule codes name lines of an explanation: each must be unique in the file."""
    first_line: dict[str, int] = {}
    for key in ("deductions", "bonuses", "vetoes", "indicators"):
        for table in root.tables(key):
            for entry in (
                [table, *table.tables("conditions")] if key == "indicators" else [table]
            ):
                code = read_code(entry)
                at = (*entry.at, "code")
                if code in first_line:
                    raise entry.error(
                        "code",
                        f"duplicate rule code {code!r} (first at line {first_line[code]})",
                    )
                first_line[code] = line_of(root.source.text, at)
