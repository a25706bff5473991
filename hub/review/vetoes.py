"""Veto events (一票否决): events the rating schemes' veto rules select."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from hub.enums import EnterpriseStatus, Scheme, SupervisionCategory
from hub.evaluate.facts import EnterpriseFacts, EventFact
from hub.evaluate.matching import FactSource, select
from hub.evaluate.policy import PolicyError, SchemePolicy, policy_for
from hub.evaluate.rules import Rule
from hub.review.facts import VetoEvent


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def veto_rules(
    policies: Mapping[Scheme, Sequence[SchemePolicy]], on: date
) -> tuple[Rule, ...]:
    """The event veto rules of every scheme version in effect on `on`, in
    scheme order (a scheme without a version yet that day has none)."""
    found: list[Rule] = []
    for scheme in policies:
        try:
            policy = policy_for(policies, scheme, on)
        except PolicyError:
            continue
        found += [r for r in policy.vetoes if r.match.source is FactSource.EVENT]
    return tuple(found)


def veto_events(
    rules: Sequence[Rule], events: Iterable[EventFact], *, as_of: date, months: int
) -> tuple[VetoEvent, ...]:
    """Events of the last `months` up to `as_of` that one of `rules`
    selects; each event once, under the first rule that selects it."""
    facts = EnterpriseFacts(
        0,
        "",
        EnterpriseStatus.OPERATING,
        SupervisionCategory.OTHER,
        events=list(events),
    )
    if not facts.events:  # most enterprises: nothing to match
        return ()
    by_id = {e.id: e for e in facts.events}
    first = months_before(as_of, months)
    found: dict[int, VetoEvent] = {}
    for rule in rules:
        for hit in select(rule.match, facts, first, as_of):
            event = by_id[hit.record[1]]
            found.setdefault(
                event.id,
                VetoEvent(
                    event.id, event.kind, event.occurred_on, rule.code, rule.label
                ),
            )
    return tuple(sorted(found.values(), key=lambda v: (v.occurred_on, v.id)))
