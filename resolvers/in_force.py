"""The rating in force in SQL: what rating_in_force picks in memory."""

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, not_, or_
from sqlalchemy.orm import aliased

from hub.enums import Scheme
from hub.models import CreditRating
from resolvers.access import PUBLISHED_RATING_STATUSES


def latest_in_force(
    rating: type[CreditRating], *, scheme: Scheme, as_of: date
) -> list[ColumnElement[bool]]:
    """Conditions on `rating`: the published decision of `scheme` in force on
    `as_of` that took effect last (no later overlapping one exists), as
    rating_in_force picks it. An anti-join, not a ranking: the database can
    filter the rows first (e.g. by grade) and probe only those."""
    later = aliased(CreditRating)

    def covering(r: type[CreditRating]) -> list[ColumnElement[bool]]:
        return [
            r.scheme == scheme,
            r.status.in_(PUBLISHED_RATING_STATUSES),
            r.valid_from <= as_of,
            or_(r.valid_to.is_(None), r.valid_to >= as_of),
        ]

    superseded = exists().where(
        later.enterprise_id == rating.enterprise_id,
        *covering(later),
        or_(
            later.valid_from > rating.valid_from,
            and_(later.valid_from == rating.valid_from, later.id > rating.id),
        ),
    )
    return [*covering(rating), not_(superseded)]
