"""A credit review: the decision for one enterprise, purpose and day.

Pure: it reads the facts (hub/review/facts.py) and the policy in effect on
the review date (hub/review/rulebook.py), never the database.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from auth.scopes import Purpose
from hub.enums import (
    AgencyKind,
    Eligibility,
    InspectionBand,
    LoanRecommendation,
    MeasureDomain,
)
from hub.review.facts import ReviewFacts
from hub.review.measures import Measure
from hub.review.rulebook import Programme, Rulebook
from hub.review.tables import Decision, DecisionTable

# The bureau administers every measure, so it sees them all.
_ADMINISTERS_ALL = frozenset({AgencyKind.CITY_EPB, AgencyKind.COUNTY_EPB})


class ReviewError(Exception):
    """A review that cannot be made as asked; safe to show the caller."""

    def __init__(self, message: str, *, reason: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field


@dataclass(frozen=True, slots=True)
class PurposeRules:
    """A review section's table for one purpose, from the version in effect."""

    table: DecisionTable[Any]
    domains: frozenset[MeasureDomain]
    version: str
    loan: bool  # the loan scale; otherwise the inspection bands


@dataclass(frozen=True, slots=True)
class CreditReview:
    facts: ReviewFacts
    purpose: Purpose
    policy_version: str  # the review or subsidy file's version
    measures: tuple[Measure, ...]
    loan: Decision[LoanRecommendation] | None = None
    inspection: Decision[InspectionBand] | None = None
    subsidy: Decision[Eligibility] | None = None
    programme: Programme | None = None

    @property
    def decision(self) -> Decision[Any]:
        found = self.loan or self.inspection or self.subsidy
        assert found is not None, "a review always decides its purpose"
        return found


def review(
    rulebook: Rulebook,
    facts: ReviewFacts,
    *,
    purpose: Purpose,
    programme: str | None = None,
    agency: AgencyKind | None = None,
) -> CreditReview:
    """Decide `purpose` for the enterprise whose facts these are."""
    rules = rules_for(rulebook, purpose=purpose, programme=programme, on=facts.as_of)
    measures = _measures(rulebook, facts, rules.domains, agency)
    if isinstance(rules, Programme):
        return CreditReview(
            facts,
            purpose,
            rules.version,
            measures,
            subsidy=rules.table.decide(facts),
            programme=rules,
        )
    decision = rules.table.decide(facts)
    if rules.loan:
        return CreditReview(facts, purpose, rules.version, measures, loan=decision)
    return CreditReview(facts, purpose, rules.version, measures, inspection=decision)


def rules_for(
    rulebook: Rulebook, *, purpose: Purpose, programme: str | None, on: date
) -> "PurposeRules | Programme":
    """The rules that decide `purpose` on `on`, or ReviewError saying why there
    are none: asked before any fact is read, so a refusal never depends on
    whether an enterprise exists."""
    if purpose is Purpose.SUBSIDY_REVIEW:
        return _programme(rulebook, on, programme)
    if programme is not None:
        raise ReviewError(
            "programme applies only to the purpose SUBSIDY_REVIEW",
            reason="PROGRAMME_NOT_APPLICABLE",
            field="programme",
        )
    policy = rulebook.review_on(on)
    section = policy.for_purpose(purpose) if policy else None
    if policy is None or section is None:
        raise ReviewError(
            f"no review rules for the purpose {purpose.value} on {on}",
            reason="PURPOSE_NOT_REVIEWED",
            field="purpose",
        )
    return PurposeRules(
        section.table, section.domains, policy.header.version, section is policy.loan
    )


def _programme(rulebook: Rulebook, on: date, code: str | None) -> Programme:
    policy = rulebook.subsidy_on(on)
    if policy is None:
        raise ReviewError(
            f"no subsidy programmes are in effect on {on}",
            reason="PURPOSE_NOT_REVIEWED",
            field="asOf",
        )
    wanted = (code or policy.default_programme).strip().upper()
    found = policy.programmes.get(wanted)
    if found is None:
        known = ", ".join(sorted(policy.programmes))
        raise ReviewError(
            f"programme {wanted!r} is not one of: {known}",
            reason="UNKNOWN_PROGRAMME",
            field="programme",
        )
    return found


def _measures(
    rulebook: Rulebook,
    facts: ReviewFacts,
    domains: frozenset[MeasureDomain] | None,
    agency: AgencyKind | None,
) -> tuple[Measure, ...]:
    """The measures for the grade in force that the caller's agency applies."""
    grade = facts.grade
    catalogue = rulebook.measures_on(facts.as_of)
    if grade is None or catalogue is None:
        return ()
    return catalogue.applying(
        scheme=grade.scheme,
        grade=grade.grade,
        domains=domains,
        agency=None if agency in _ADMINISTERS_ALL else agency,
        on=facts.as_of,
    )
