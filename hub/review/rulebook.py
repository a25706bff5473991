"""The review policy files: measures, review tables and subsidy programmes.

Every `*.toml` of the directory is one version of one kind of file (`kind =
"measures"`, `"review"` or `"subsidy"`); a review on a date uses the version of
each kind in effect then. The hub refuses to start if any file has an error,
naming the file, the line and the reason (hub.evaluate.policy_source).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from auth.scopes import Purpose
from hub.enums import (
    AgencyKind,
    Eligibility,
    Grade,
    InspectionBand,
    LoanRecommendation,
    MeasureDomain,
    Scheme,
)
from hub.evaluate.policy_source import PolicyError, Table, read_document
from hub.evaluate.rules import read_code
from hub.evaluate.toml_lines import line_of
from hub.review.measures import Measure, read_measure
from hub.review.tables import DecisionTable, read_table

POLICY_DIR = Path(__file__).parent / "policy"
MAX_LOOKBACK_MONTHS = 60
MAX_ANSWERS = 1024


class FileKind(Enum):
    MEASURES = "measures"
    REVIEW = "review"
    SUBSIDY = "subsidy"


_HEADER = ("kind", "version", "effective_from", "title")
# Review sections: the purposes each may serve, and its scale of outcomes.
_SECTIONS: dict[str, type[Enum]] = {
    "loan": LoanRecommendation,
    "supervision": InspectionBand,
}


class _Versioned(Protocol):
    @property
    def header(self) -> "Header": ...


V = TypeVar("V", bound=_Versioned)


@dataclass(frozen=True, slots=True)
class Header:
    path: Path
    kind: FileKind
    version: str
    effective_from: date
    title: str


@dataclass(frozen=True, slots=True)
class MeasuresCatalogue:
    header: Header
    measures: tuple[Measure, ...]
    # A batch of 1,000 reviews asks the same few questions: answered once.
    _answers: dict[tuple[object, ...], tuple[Measure, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def applying(
        self,
        *,
        scheme: Scheme | None,
        grade: Grade | None,
        domains: frozenset[MeasureDomain] | None,
        agency: AgencyKind | None,
        on: date,
    ) -> tuple[Measure, ...]:
        """The measures in effect on `on` for the scheme, grade and domains,
        that `agency` applies (None: any agency)."""
        key = (scheme, grade, domains, agency, on)
        found = self._answers.get(key)
        if found is None:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            found = self._answers[key] = tuple(
                m
                for m in self.measures
                if m.applies(scheme=scheme, grade=grade, domains=domains, on=on)
                and (agency is None or agency in m.agency_kinds)
            )
        return found


@dataclass(frozen=True, slots=True)
class PurposeTable:
    """How one purpose is decided, and which measure domains it concerns."""

    purposes: frozenset[Purpose]
    domains: frozenset[MeasureDomain]
    table: DecisionTable[Any]


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    header: Header
    veto_lookback_months: int
    loan: PurposeTable
    supervision: PurposeTable

    def for_purpose(self, purpose: Purpose) -> PurposeTable | None:
        return next(
            (t for t in (self.loan, self.supervision) if purpose in t.purposes), None
        )


@dataclass(frozen=True, slots=True)
class Programme:
    code: str
    name: str
    table: DecisionTable[Eligibility]
    version: str  # of the subsidy file it is in
    domains: frozenset[MeasureDomain]  # the measures a check lists


@dataclass(frozen=True, slots=True)
class SubsidyPolicy:
    header: Header
    default_programme: str
    domains: frozenset[MeasureDomain]
    programmes: dict[str, Programme]


@dataclass(frozen=True, slots=True)
class Rulebook:
    """Every version of each kind, oldest first."""

    measures: Sequence[MeasuresCatalogue]
    reviews: Sequence[ReviewPolicy]
    subsidies: Sequence[SubsidyPolicy]

    def measures_on(self, on: date) -> MeasuresCatalogue | None:
        return _in_effect(self.measures, on)

    def review_on(self, on: date) -> ReviewPolicy | None:
        return _in_effect(self.reviews, on)

    def subsidy_on(self, on: date) -> SubsidyPolicy | None:
        return _in_effect(self.subsidies, on)


def _in_effect(versions: Sequence[V], on: date) -> V | None:
    """The version that took effect last by `on`; None before the first."""
    started = [v for v in versions if v.header.effective_from <= on]
    return max(started, key=lambda v: v.header.effective_from) if started else None


def load_rulebook(directory: Path | None = None) -> Rulebook:
    """Every file of `directory` (default: the shipped policy); PolicyError
    names the file and line of the first error."""
    directory = directory or POLICY_DIR
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise PolicyError(directory, None, "no policy files (*.toml) in the directory")
    loaded: dict[FileKind, list[Any]] = {kind: [] for kind in FileKind}
    for path in paths:
        root = read_document(path)
        header = _header(root)
        for other in loaded[header.kind]:
            for key in ("effective_from", "version"):
                value = getattr(header, key)
                if getattr(other.header, key) == value:
                    raise PolicyError(
                        path,
                        line_of(root.source.text, (key,)),
                        f"{header.kind.value} {key} {value} is also in {other.header.path.name}",
                    )
        loaded[header.kind].append(_READERS[header.kind](root, header))
    for kind, versions in loaded.items():
        if not versions:
            raise PolicyError(
                directory, None, f'no policy file of kind = "{kind.value}"'
            )
        versions.sort(key=lambda v: v.header.effective_from)
    return Rulebook(
        measures=loaded[FileKind.MEASURES],
        reviews=loaded[FileKind.REVIEW],
        subsidies=loaded[FileKind.SUBSIDY],
    )


def _header(root: Table) -> Header:
    return Header(
        path=root.source.path,
        kind=root.choice("kind", FileKind),
        version=root.text("version"),
        effective_from=root.day("effective_from"),
        title=root.text("title"),
    )


def _measures(root: Table, header: Header) -> MeasuresCatalogue:
    root.allow((*_HEADER, "measures"))
    measures = tuple(read_measure(t) for t in root.tables("measures"))
    _unique_codes(root, "measures", [m.code for m in measures])
    return MeasuresCatalogue(header, measures)


def _review(root: Table, header: Header) -> ReviewPolicy:
    root.allow((*_HEADER, "veto_lookback_months", *_SECTIONS))
    months = root.integer("veto_lookback_months")
    if not 1 <= months <= MAX_LOOKBACK_MONTHS:
        raise root.error(
            "veto_lookback_months",
            f"veto_lookback_months {months} is out of range 1..{MAX_LOOKBACK_MONTHS}",
        )
    sections = {
        name: _purpose_table(root.table(name), scale)
        for name, scale in _SECTIONS.items()
    }
    loan, supervision = sections["loan"], sections["supervision"]
    shared = loan.purposes & supervision.purposes
    if shared:
        raise root.error(
            "supervision",
            f"purpose {min(shared).value} is in both [loan] and [supervision]",
        )
    return ReviewPolicy(header, months, loan, supervision)


def _purpose_table(table: Table, scale: type[Enum]) -> PurposeTable:
    extra = ("purposes", "domains")
    decision = read_table(table, scale, extra)
    purposes = table.choices("purposes", Purpose)
    if Purpose.SUBSIDY_REVIEW in purposes:
        raise table.error(
            "purposes", "SUBSIDY_REVIEW is decided by the subsidy programmes"
        )
    return PurposeTable(purposes, table.choices("domains", MeasureDomain), decision)


def _subsidy(root: Table, header: Header) -> SubsidyPolicy:
    root.allow((*_HEADER, "default_programme", "domains", "programmes"))
    domains = root.choices("domains", MeasureDomain)
    programmes: dict[str, Programme] = {}
    for table in root.tables("programmes"):
        code = read_code(table)
        if code in programmes:
            raise table.error("code", f"programme {code} is listed twice")
        name = table.text("name")
        programmes[code] = Programme(
            code,
            name,
            read_table(table, Eligibility, ("code", "name")),
            header.version,
            domains,
        )
    if not programmes:
        raise root.error(None, "no [[programmes]]")
    default = root.text("default_programme")
    if default not in programmes:
        raise root.error(
            "default_programme",
            f"default_programme {default!r} is not one of the [[programmes]]",
        )
    return SubsidyPolicy(header, default, domains, programmes)


def _unique_codes(root: Table, key: str, codes: list[str]) -> None:
    for index, code in enumerate(codes):
        if code in codes[:index]:
            raise root.source.error((key, index, "code"), f"code {code} is used twice")


_READERS: dict[FileKind, Any] = {
    FileKind.MEASURES: _measures,
    FileKind.REVIEW: _review,
    FileKind.SUBSIDY: _subsidy,
}
