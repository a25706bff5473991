"""Decision tables: a purpose's outcome from the grade, raised by rules on facts.

Each purpose has an ordered scale of outcomes, mildest first (a loan's SUPPORT
… STOP_LENDING, a subsidy's PASS … FAIL). The grade in force sets the base; a
rule whose `when` holds raises the outcome to at least its `at_least`. The
outcome is the harshest of them, and every step cites the records behind it.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from hub.enums import GRADE_ZH, Grade
from hub.evaluate.policy_source import Table
from hub.evaluate.rules import read_code
from hub.review.conditions import When, holds, read_when
from hub.review.facts import Citation, ReviewFacts

OutcomeT = TypeVar("OutcomeT", bound=Enum)


@dataclass(frozen=True, slots=True)
class DecisionRule(Generic[OutcomeT]):
    code: str
    label: str
    at_least: OutcomeT
    when: When


@dataclass(frozen=True, slots=True)
class Reason(Generic[OutcomeT]):
    """One step of a decision: what held, the outcome it asks for, its records."""

    code: str
    label: str
    outcome: OutcomeT
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Decision(Generic[OutcomeT]):
    outcome: OutcomeT
    reasons: tuple[Reason[OutcomeT], ...]


@dataclass(frozen=True, slots=True)
class DecisionTable(Generic[OutcomeT]):
    scale: type[OutcomeT]
    by_grade: dict[Grade, OutcomeT]
    unrated: OutcomeT
    rules: tuple[DecisionRule[OutcomeT], ...]

    def decide(self, facts: ReviewFacts) -> Decision[OutcomeT]:
        order = list(self.scale)
        grade = facts.grade
        if grade is None:
            base = Reason("UNRATED", "无有效的信用等级", self.unrated, ())
        else:
            label = f"信用等级：{GRADE_ZH[grade.grade]}（{grade.scheme.value}）"
            base = Reason(
                f"GRADE-{grade.grade.value}",
                label,
                self.by_grade[grade.grade],
                facts.grade_citation(),
            )
        reasons = [base]
        for rule in self.rules:
            cited = holds(rule.when, facts)
            if cited is not None:
                reasons.append(Reason(rule.code, rule.label, rule.at_least, cited))
        outcome = max((r.outcome for r in reasons), key=order.index)
        return Decision(outcome, tuple(reasons))


def read_table(
    table: Table, scale: type[OutcomeT], extra_keys: tuple[str, ...]
) -> DecisionTable[OutcomeT]:
    """A decision table from `grades`, `unrated` and `[[rules]]`."""
    table.allow(("grades", "unrated", "rules", *extra_keys))
    grades = table.table("grades")
    grades.allow(g.value for g in Grade)
    by_grade = {g: grades.choice(g.value, scale) for g in Grade}
    rules = []
    for rule in table.tables("rules"):
        rule.allow(("code", "label", "at_least", "when"))
        rules.append(
            DecisionRule(
                code=read_code(rule),
                label=rule.text("label"),
                at_least=rule.choice("at_least", scale),
                when=read_when(rule.table("when")),
            )
        )
    codes = [r.code for r in rules]
    for index, code in enumerate(codes):
        if code in codes[:index]:
            raise table.source.error(
                (*table.at, "rules", index, "code"), f"rule code {code} is used twice"
            )
    return DecisionTable(scale, by_grade, table.choice("unrated", scale), tuple(rules))
