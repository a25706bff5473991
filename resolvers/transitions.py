"""Every change of a grade decision goes through here, so each one is recorded.

A transition row says what changed (status and grade), who changed it, when,
in which request, and why; "what was this enterprise's grade on a date" and
"who decided it" are answered from the ratings and these rows.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import Grade, RatingStatus
from hub.models import CreditRating, RatingTransition


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an agency's client, or the bureau's staff at the command line."""

    name: str  # "client:<id>" or "cli:<user>"
    agency_id: int | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, caller: Caller, request_id: str | None) -> "Actor":
        return cls(f"client:{caller.client_id}", caller.agency_id, request_id)


def transition(
    session: AsyncSession,
    rating: CreditRating,
    *,
    to_status: RatingStatus,
    actor: Actor,
    now: datetime,
    reason: str | None,
    to_grade: Grade | None = None,
    initial: bool = False,
) -> None:
    """Move `rating` to `to_status` (and `to_grade`), recording the change.

    `initial`: the rating is new (flushed, so it has its id); its transition
    starts from nothing.
    """
    assert rating.id is not None, "flush a new rating before its first transition"
    from_status = None if initial else rating.status
    from_grade = None if initial else rating.grade
    rating.status = to_status
    if to_grade is not None:
        rating.grade = to_grade
    session.add(
        RatingTransition(
            rating_id=rating.id,
            from_status=from_status,
            to_status=to_status,
            from_grade=from_grade,
            to_grade=rating.grade,
            at=now,
            actor=actor.name,
            agency_id=actor.agency_id,
            request_id=actor.request_id,
            reason=reason,
        )
    )
