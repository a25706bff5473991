"""Row rules: which rows a caller may see, applied in SQL.

Every query for enterprise data goes through one of the `readable_*` helpers,
so lists, counts, cursors and batch lookups cannot leak rows, and a hidden row
is indistinguishable from a missing one.
"""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import QueryableAttribute

from auth.caller import Caller
from hub.enums import PenaltyStatus, RatingStatus
from hub.models import CreditRating, District, Enterprise, PenaltyDecision

# Any select, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]

# A column as a model attribute (Enterprise.id) or a plain column expression.
IntColumn = ColumnElement[int] | QueryableAttribute[int]
StrColumn = ColumnElement[str] | QueryableAttribute[str]

# Statuses a grade may have once it has been published: the official grades.
PUBLISHED_RATING_STATUSES = (RatingStatus.FINAL, RatingStatus.REPAIRED)
# What the public sees: the official grades, and the grades in public notice
# (公示), shown as preliminary so that objections can be made.
PUBLIC_RATING_STATUSES = (*PUBLISHED_RATING_STATUSES, RatingStatus.IN_PUBLIC_NOTICE)


def in_districts(column: StrColumn, codes: frozenset[str]) -> ColumnElement[bool]:
    """Match a division and the abolished codes merged into it (320202 -> 320213)."""
    merged = select(District.code).where(District.successor_code.in_(codes))
    return or_(column.in_(codes), column.in_(merged.scalar_subquery()))


def access_key(caller: Caller) -> tuple[object, ...]:
    """Everything the rules of this module read from a caller.

    A statement built by these rules for one caller is the same statement for
    every caller with the same key, so it may be cached under it. A rule that
    reads another attribute must add it here.
    """
    return (caller.published_only, caller.districts, caller.enterprise_code)


def enterprise_rule(caller: Caller) -> ColumnElement[bool]:
    """A county bureau sees its district; an enterprise sees itself."""
    rule: ColumnElement[bool] = true()
    if caller.districts is not None:
        rule = in_districts(Enterprise.district_code, caller.districts)
    if caller.enterprise_code is not None:
        rule = and_(rule, Enterprise.code == caller.enterprise_code)
    return rule


def readable_enterprises(stmt: AnySelect, caller: Caller) -> AnySelect:
    """Restrict a select over `enterprise` to the caller's jurisdiction."""
    return stmt.where(enterprise_rule(caller))


def rating_rule(caller: Caller) -> ColumnElement[bool]:
    if caller.published_only:
        return CreditRating.status.in_(PUBLIC_RATING_STATUSES)
    return true()


def penalty_rule(caller: Caller, today: date) -> ColumnElement[bool]:
    if caller.published_only:
        return and_(
            PenaltyDecision.status != PenaltyStatus.REVOKED,
            PenaltyDecision.publication_end_date >= today,
        )
    return true()


def readable_datasets(
    stmt: AnySelect,
    caller: Caller,
    *,
    rule: ColumnElement[bool],
    enterprise_id: IntColumn,
) -> AnySelect:
    """Restrict a select over a dataset table by its own rule and its enterprise's."""
    stmt = stmt.where(rule)
    if caller.districts is None and caller.enterprise_code is None:
        return stmt
    return stmt.where(
        enterprise_id.in_(
            select(Enterprise.id).where(enterprise_rule(caller)).scalar_subquery()
        )
    )
