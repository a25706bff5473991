"""Veto events (一票否决): events the rating schemes' veto rules select."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from hub.enums import EnterpriseStatus, Scheme, SupervisionCategory
from hub.evaluate.facts import EnterpriseFacts, EventFact
from hub.evaluate.matching import FactSource, select
from hub.evaluate.policy import PolicyError, SchemePolicy, policy_for
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


def veto_events(
    policies: Mapping[Scheme, Sequence[SchemePolicy]],
    events: Iterable[EventFact],
    *,
    as_of: date,
    months: int,
) -> tuple[VetoEvent, ...]:
    """Events of the last `months` up to `as_of` that a veto rule of any
    scheme version in effect on `as_of` selects; each event once, under the
    first rule (in scheme order) that selects it."""
    facts = EnterpriseFacts(
        0,
        "",
        EnterpriseStatus.OPERATING,
        SupervisionCategory.OTHER,
        events=list(events),
    )
    by_id = {e.id: e for e in facts.events}
    first = months_before(as_of, months)
    found: dict[int, VetoEvent] = {}
    for scheme in policies:
        try:
            policy = policy_for(policies, scheme, as_of)
        except PolicyError:
            continue  # the scheme had no version yet on that day
        for rule in policy.vetoes:
            if rule.match.source is not FactSource.EVENT:
                continue
            for hit in select(rule.match, facts, first, as_of):
                event = by_id[hit.record[1]]
                found.setdefault(
                    event.id,
                    VetoEvent(
                        event.id, event.kind, event.occurred_on, rule.code, rule.label
                    ),
                )
    return tuple(sorted(found.values(), key=lambda v: (v.occurred_on, v.id)))
