"""The measures catalogue: rewards and punishments by scheme and grade (奖惩措施)."""

from dataclasses import dataclass
from datetime import date

from hub.enums import (
    AgencyKind,
    Grade,
    MeasureDirection,
    MeasureDomain,
    Scheme,
    scheme_grades,
)
from hub.evaluate.policy_source import Table
from hub.evaluate.rules import read_code

_KEYS = (
    *("code", "direction", "domain", "schemes", "grades", "agency_kinds"),
    *("zh", "en", "legal_source", "effective_from", "effective_to"),
)


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    direction: MeasureDirection
    domain: MeasureDomain
    schemes: frozenset[Scheme]
    grades: frozenset[Grade]
    agency_kinds: frozenset[AgencyKind]  # the agencies that apply it
    zh: str
    en: str
    legal_source: str
    effective_from: date
    effective_to: date | None = None

    def in_effect(self, on: date) -> bool:
        return self.effective_from <= on and (
            self.effective_to is None or on <= self.effective_to
        )

    def applies(
        self,
        *,
        scheme: Scheme | None,
        grade: Grade | None,
        domains: frozenset[MeasureDomain] | None,
        on: date,
    ) -> bool:
        return (
            self.in_effect(on)
            and (domains is None or self.domain in domains)
            and any(
                (scheme is None or s is scheme)
                and (
                    grade is None
                    or (grade in self.grades and grade in scheme_grades(s))
                )
                for s in self.schemes
            )
        )


def read_measure(table: Table) -> Measure:
    table.allow(_KEYS)
    starts = table.day("effective_from")
    ends = table.day("effective_to") if table.has("effective_to") else None
    if ends is not None and ends < starts:
        raise table.error("effective_to", "effective_to is before effective_from")
    return Measure(
        code=read_code(table),
        direction=table.choice("direction", MeasureDirection),
        domain=table.choice("domain", MeasureDomain),
        schemes=table.choices("schemes", Scheme),
        grades=table.choices("grades", Grade),
        agency_kinds=table.choices("agency_kinds", AgencyKind),
        zh=table.text("zh"),
        en=table.text("en"),
        legal_source=table.text("legal_source"),
        effective_from=starts,
        effective_to=ends,
    )
