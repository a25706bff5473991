"""The four datasets as exported: their columns, titles and which rows "as of" a day.

What "as of" means per dataset:
    ratings    the published decision in force on the day, per enterprise and
               scheme; of overlapping decisions the one that took effect last
               (as Enterprise.currentRating and the red and black lists)
    penalties  the decisions made on or before the day
    risk       the latest assessment made on or before the day, per enterprise
    insurance  the policies covering the day (a surrendered policy covers nothing)
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, true
from sqlalchemy.orm import QueryableAttribute, aliased

from auth.caller import Caller
from auth.scopes import Scope
from hub.enums import PenaltyCategory, PolicyStatus, Scheme
from hub.models import (
    Base,
    CreditRating,
    District,
    Enterprise,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)
from resolvers.access import PUBLISHED_RATING_STATUSES, penalty_rule, rating_rule

# Aliases, so the row rules' own subqueries over enterprise and district
# (readable_datasets, in_districts) are not correlated with these joins.
OWNER = aliased(Enterprise, name="owner")
PLACE = aliased(District, name="place")


class Unit(Enum):
    """How a money column (stored in yuan) is written in CSV and XLSX files."""

    YUAN = "元"
    WAN = "万元"  # 10,000 yuan, the 双公示 template's unit


@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """One exported column.

    field: the JSON Lines key, and the field name `hub import` knows.
    title: the CSV and XLSX header, as in the national template (and the
        import titles, so an export can be imported again).
    needs: a scope the caller needs for this column beyond the dataset's
        (the same @requiresScopes as the GraphQL field); without it the column
        is left out, never sent empty.
    unit: for money, the unit of the files (JSON Lines is always in yuan).
    """

    field: str
    title: str
    expr: Any
    needs: Scope | None = None
    unit: Unit | None = None
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """Whose view, and of which day."""

    caller: Caller
    as_of: date
    today: date  # the publication window of penalties is judged today
    scheme: Scheme | None = None


@dataclass(frozen=True, slots=True)
class ExportSpec:
    name: str  # in `hub export NAME` and /exports/NAME.csv
    label: str  # Chinese name: sheet title and file name
    scope: Scope  # what the caller needs to export it at all
    model: type[Base]
    key: QueryableAttribute[int]  # the row id: order and chunks
    owner: QueryableAttribute[int]  # the enterprise id
    columns: tuple[Column, ...]
    conditions: Callable[[Selection], list[ColumnElement[bool]]]
    rule: Callable[[Selection], ColumnElement[bool]] = field(default=lambda s: true())


def _code(title: str = "统一社会信用代码") -> Column:
    return Column("enterprise_code", title, OWNER.code)


def _district() -> tuple[Column, Column]:
    return (
        Column("district_code", "行政区划代码", PLACE.code),
        Column("district_name", "地区名称", PLACE.name),
    )


def _categories(names: list[str]) -> list[PenaltyCategory]:
    return [PenaltyCategory[n] for n in names]


def _rating_in_force(r: Any, as_of: date) -> ColumnElement[bool]:
    return and_(
        r.status.in_(PUBLISHED_RATING_STATUSES),
        r.valid_from <= as_of,
        or_(r.valid_to.is_(None), r.valid_to >= as_of),
    )


def _ratings(s: Selection) -> list[ColumnElement[bool]]:
    r, later = CreditRating, aliased(CreditRating, name="later")
    superseded = exists().where(
        later.enterprise_id == r.enterprise_id,
        later.scheme == r.scheme,
        _rating_in_force(later, s.as_of),
        or_(
            later.valid_from > r.valid_from,
            and_(later.valid_from == r.valid_from, later.id > r.id),
        ),
    )
    found = [_rating_in_force(r, s.as_of), not_(superseded)]
    if s.scheme is not None:
        found.append(r.scheme == s.scheme)
    return found


def _penalties(s: Selection) -> list[ColumnElement[bool]]:
    return [PenaltyDecision.decision_date <= s.as_of]


def _risks(s: Selection) -> list[ColumnElement[bool]]:
    r, later = RiskAssessment, aliased(RiskAssessment, name="later")
    newer = exists().where(
        later.enterprise_id == r.enterprise_id,
        later.assessed_on > r.assessed_on,
        later.assessed_on <= s.as_of,
    )
    return [r.assessed_on <= s.as_of, not_(newer)]


def _policies(s: Selection) -> list[ColumnElement[bool]]:
    p = InsurancePolicy
    return [
        p.status != PolicyStatus.SURRENDERED,
        p.start_date <= s.as_of,
        p.end_date >= s.as_of,
    ]


_R, _P, _K, _I = CreditRating, PenaltyDecision, RiskAssessment, InsurancePolicy
_DETAIL = Scope.penalties_detail

RATINGS = ExportSpec(
    "ratings",
    "企业环境信用评价结果",
    Scope.ratings_read,
    CreditRating,
    _R.id,
    _R.enterprise_id,
    (
        Column("rating_id", "主键", _R.id),
        _code(),
        Column("enterprise_name", "主体名称", OWNER.name),
        *_district(),
        Column("scheme", "评价名称", _R.scheme),
        Column("year", "评价年度", _R.year),
        Column("grade", "评价等级", _R.grade),
        Column("score", "评价分值", _R.score),
        Column("status", "评价状态", _R.status),
        Column("decided_by", "评价机构", _R.decided_by),
        Column("published_at", "发布时间", _R.published_at),
        Column("valid_from", "有效期起", _R.valid_from),
        Column("valid_to", "有效期止", _R.valid_to),
    ),
    _ratings,
    lambda s: rating_rule(s.caller),
)

PENALTIES = ExportSpec(
    "penalties",
    "行政处罚决定",
    Scope.penalties_read,
    PenaltyDecision,
    _P.id,
    _P.enterprise_id,
    (
        Column("enterprise_name", "行政相对人名称", OWNER.name),
        _code(),
        Column("decision_number", "行政处罚决定书文号", _P.decision_number),
        Column("violation_type", "违法行为类型", _P.violation_type),
        Column("facts", "违法事实", _P.facts, needs=_DETAIL),
        Column("legal_basis", "处罚依据", _P.legal_basis, needs=_DETAIL),
        Column("categories", "处罚类别", _P.categories, convert=_categories),
        Column("content", "处罚内容", _P.content, needs=_DETAIL),
        Column("fine_amount", "罚款金额（万元）", _P.fine_amount, _DETAIL, Unit.WAN),
        Column(
            "confiscation_amount",
            "没收违法所得、没收非法财物的金额（万元）",
            _P.confiscation_amount,
            _DETAIL,
            Unit.WAN,
        ),
        Column("decision_date", "处罚决定日期", _P.decision_date),
        Column("authority_name", "处罚机关", _P.authority_name),
        Column("authority_code", "处罚机关统一社会信用代码", _P.authority_code),
        Column("publication_end_date", "公示截止期", _P.publication_end_date),
        Column("status", "当前状态", _P.status),
        *_district(),
    ),
    _penalties,
    lambda s: penalty_rule(s.caller, s.today),
)

RISK = ExportSpec(
    "risk",
    "环境风险等级",
    Scope.risk_read,
    RiskAssessment,
    _K.id,
    _K.enterprise_id,
    (
        _code(),
        Column("enterprise_name", "企业名称", OWNER.name),
        Column("overall_level", "环境风险等级", _K.overall_level),
        Column("air_level", "大气环境风险等级", _K.air_level),
        Column("air_q", "大气Q", _K.air_q),
        Column("air_m", "大气M", _K.air_m),
        Column("air_e", "大气E", _K.air_e),
        Column("water_level", "水环境风险等级", _K.water_level),
        Column("water_q", "水Q", _K.water_q),
        Column("water_m", "水M", _K.water_m),
        Column("water_e", "水E", _K.water_e),
        Column("level_string", "风险等级表征", _K.level_string),
        Column("assessed_on", "评估日期", _K.assessed_on),
        Column("plan_filing_number", "应急预案备案编号", _K.plan_filing_number),
        Column("plan_filed_on", "备案日期", _K.plan_filed_on),
        Column("filing_authority", "备案机关", _K.filing_authority),
        *_district(),
    ),
    _risks,
)

INSURANCE = ExportSpec(
    "insurance",
    "环境污染责任保险",
    Scope.insurance_read,
    InsurancePolicy,
    _I.id,
    _I.enterprise_id,
    (
        _code(),
        Column("enterprise_name", "企业名称", OWNER.name),
        Column("insurer_name", "保险公司", _I.insurer_name),
        Column("insurer_code", "保险公司统一社会信用代码", _I.insurer_code),
        Column("policy_number", "保单号", _I.policy_number),
        Column("start_date", "保险起期", _I.start_date),
        Column("end_date", "保险止期", _I.end_date),
        Column(
            "cumulative_limit",
            "累计责任限额（万元）",
            _I.cumulative_limit,
            unit=Unit.WAN,
        ),
        Column(
            "per_accident_limit",
            "每次事故责任限额（万元）",
            _I.per_accident_limit,
            unit=Unit.WAN,
        ),
        Column("premium", "保费（元）", _I.premium, unit=Unit.YUAN),
        Column("status", "保单状态", _I.status),
        *_district(),
    ),
    _policies,
)

EXPORTS: dict[str, ExportSpec] = {
    s.name: s for s in (RATINGS, PENALTIES, RISK, INSURANCE)
}
