"""Every change of a grade decision goes through here, so each one is recorded.

A transition row says what changed (status and grade), who changed it, when,
in which request, and why; "what was this enterprise's grade on a date" and
"who decided it" are answered from the ratings and these rows.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from auth.caller import Caller
from hub.enums import FeedDataset, Grade, RatingBasis, RatingStatus
from hub.models import CreditRating, RatingTransition
from resolvers.feed import NewEvent, queue


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
    if (kind := _feed_kind(rating, from_status, initial)) is not None:
        queue(
            session,
            [
                NewEvent(
                    FeedDataset.RATING,
                    kind,
                    rating.enterprise_id,
                    rating.id,
                    {
                        "scheme": rating.scheme.value,
                        "grade": rating.grade.value,
                        "previousGrade": None
                        if from_grade is None
                        else from_grade.value,
                        "status": rating.status.value,
                        "validFrom": rating.valid_from.isoformat(),
                        "supersedes": rating.supersedes_id,
                        "reason": reason,
                    },
                    now,
                )
            ],
        )
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


# What a change of an official grade is called in the change feed.
_KINDS = {
    RatingBasis.DOWNGRADE: "DOWNGRADED",
    RatingBasis.DYNAMIC: "CHANGED",
    RatingBasis.REPAIR: "REPAIRED",
}


def _feed_kind(
    rating: CreditRating, from_status: RatingStatus | None, initial: bool
) -> str | None:
    """Grades become news when they become official, or stop being so."""
    if rating.status is RatingStatus.FINAL and (
        initial or from_status is not RatingStatus.FINAL
    ):
        return _KINDS.get(rating.basis, "FINALISED") if rating.basis else "FINALISED"
    if rating.status is RatingStatus.REVOKED and from_status is RatingStatus.FINAL:
        return "REVOKED"
    return None
