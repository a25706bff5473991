"""One enterprise's score, grade and explanation under a policy: pure, no I/O."""

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from hub.enums import Grade
from hub.evaluate.facts import EnterpriseFacts
from hub.evaluate.matching import select
from hub.evaluate.policy import Kind, SchemePolicy
from hub.evaluate.rules import HUNDRED, Rule

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the explanation."""

    rule: str  # the rule's code in the policy file, e.g. "JS12-FINE"
    label: str  # its Chinese label
    points: Decimal  # deductions negative, bonuses positive; NATIONAL: weighted
    records: tuple[tuple[str, int], ...]  # ("PENALTY", id), ("EVENT", id), ...
    note: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    score: Decimal
    grade: Grade
    veto: str | None  # the veto rule's code when a veto decided the grade
    lines: tuple[Line, ...]


def evaluate(
    policy: SchemePolicy,
    facts: EnterpriseFacts,
    *,
    period_start: date,
    period_end: date,
) -> Outcome:
    """Score one enterprise. Annual and weighted schemes count the facts
    dated in [period_start, period_end]; a dynamic scheme scores as of
    period_end, counting each deduction while it is in force."""
    if period_start > period_end:
        raise ValueError(f"period_start {period_start} is after {period_end}")
    if policy.kind is Kind.DYNAMIC_SCORE:
        return _dynamic(policy, facts, period_end)
    if policy.kind is Kind.WEIGHTED_INDICATORS:
        score, lines = _weighted(policy, facts, period_start, period_end)
    else:
        score, lines = _annual(policy, facts, period_start, period_end)
    return _decide(policy, facts, period_start, period_end, score, lines)


def _annual(
    policy: SchemePolicy, facts: EnterpriseFacts, first: date, last: date
) -> tuple[Decimal, list[Line]]:
    score = policy.start_score
    lines: list[Line] = []
    for rules, sign in ((policy.deductions, -1), (policy.bonuses, 1)):
        # A fact counts under the first rule it matches: files list the
        # heavier rules first, so one penalty is not deducted twice.
        claimed: set[tuple[str, int]] = set()
        for rule in rules:
            hits = [
                h
                for h in select(rule.match, facts, first, last)
                if h.record not in claimed
            ]
            if not hits:
                continue
            claimed.update(h.record for h in hits)
            raw = rule.points * len(hits)
            points = raw if rule.cap is None else min(raw, rule.cap)
            note = f"{len(hits)} × {rule.points}"
            if points < raw:
                note += f", capped at {rule.cap}"
            if rule.indicator:
                note = f"{rule.indicator}: {note}"
            score += sign * points
            records = tuple(h.record for h in hits)
            lines.append(Line(rule.code, rule.label, sign * points, records, note))
    return _bounded(policy, score, lines)


def _dynamic(policy: SchemePolicy, facts: EnterpriseFacts, as_of: date) -> Outcome:
    delay = timedelta(days=policy.validity_starts_after_days)
    # Older facts are out of force under every rule (a month is ≤ 31 days).
    earliest = as_of - delay - timedelta(days=31 * policy.longest_valid_months)
    score = policy.start_score
    lines: list[Line] = []
    claimed: set[tuple[str, int]] = set()
    for rule in policy.deductions:
        for hit in select(rule.match, facts, earliest, as_of - delay):
            if hit.record in claimed:
                continue
            claimed.add(hit.record)
            starts = hit.start + delay
            ends = _valid_until(starts, rule)
            if as_of <= ends:
                score -= rule.points
                note = f"valid {starts} to {ends}"
                lines.append(
                    Line(rule.code, rule.label, -rule.points, (hit.record,), note)
                )
    claimed.clear()
    for rule in policy.bonuses:
        for hit in select(rule.match, facts, date.min, as_of):
            if hit.record in claimed:
                continue
            claimed.add(hit.record)
            ends = hit.end if hit.end is not None else _valid_until(hit.start, rule)
            if as_of <= ends:
                score += rule.points
                note = f"valid {hit.start} to {ends}"
                lines.append(
                    Line(rule.code, rule.label, rule.points, (hit.record,), note)
                )
    score, lines = _bounded(policy, score, lines)
    return Outcome(score, policy.grade_for(score), None, tuple(lines))


def _valid_until(starts: date, rule: Rule) -> date:
    """The last day of `valid_months` from `starts`: the day before the same
    day of the month, or the month's last day when it has no such day
    (from 31 August, six months run to the end of February)."""
    year, month = divmod(
        starts.year * 12 + starts.month - 1 + (rule.valid_months or 0), 12
    )
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    if starts.day > last_day:
        return date(year, month, last_day)
    return date(year, month, starts.day) - _ONE_DAY


def _weighted(
    policy: SchemePolicy, facts: EnterpriseFacts, first: date, last: date
) -> tuple[Decimal, list[Line]]:
    total = Decimal(0)
    lines: list[Line] = []
    for indicator in policy.indicators:
        # The lowest score among the conditions that hold decides the indicator.
        score = indicator.default_score
        decided_by = None
        records: tuple[tuple[str, int], ...] = ()
        for condition in indicator.conditions:
            hits = select(condition.match, facts, first, last)
            holds = not hits if condition.missing else len(hits) >= condition.min_count
            if holds and condition.score < score:
                score = condition.score
                decided_by = condition
                records = tuple(h.record for h in hits)
        if decided_by is None:
            points, note = indicator.default_points, indicator.default_note
        else:
            points = indicator.weight * score / HUNDRED
            note = (
                f"{score} × {indicator.weight}%: {decided_by.code} {decided_by.label}"
            )
        total += points
        lines.append(Line(indicator.code, indicator.label, points, records, note))
    return total, lines


def _bounded(
    policy: SchemePolicy, score: Decimal, lines: list[Line]
) -> tuple[Decimal, list[Line]]:
    """Clamp to the scheme's range, saying so on the lines that overshot."""
    if score > policy.max_score:
        score = policy.max_score
        note = f"; score capped at {score}"
        return score, [
            _noted(line, note) if line.points > 0 else line for line in lines
        ]
    if policy.min_score is not None and score < policy.min_score:
        score = policy.min_score
        note = f"; score floored at {score}"
        return score, [
            _noted(line, note) if line.points < 0 else line for line in lines
        ]
    return score, lines


def _noted(line: Line, note: str) -> Line:
    return replace(line, note=line.note + note)


def _decide(
    policy: SchemePolicy,
    facts: EnterpriseFacts,
    first: date,
    last: date,
    score: Decimal,
    lines: list[Line],
) -> Outcome:
    """Grade by the bands unless a veto rule matched a fact in the period."""
    grade = policy.grade_for(score)
    veto = None
    for rule in policy.vetoes:
        hits = select(rule.match, facts, first, last)
        if hits and policy.veto_grade is not None:  # loading ensures the grade
            veto = veto or rule.code
            grade = policy.veto_grade
            records = tuple(h.record for h in hits)
            note = f"veto: {grade.value} whatever the score"
            lines.append(Line(rule.code, rule.label, Decimal(0), records, note))
    return Outcome(score, grade, veto, tuple(lines))
