"""The six datasets the bureau collects: their fields, business keys and checks.

A file row and a GraphQL input go through the same fields, so a record is
validated the same way however it arrives.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from auth.scopes import Scope
from hub.enums import Dataset
from hub.ingest import checks, values as v, vocabulary as words
from hub.ingest.fields import Env, Field, UnitKind
from hub.ingest.table import Cell
from hub.models import (
    AnnualEmission,
    Base,
    Enterprise,
    EnvironmentalEvent,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)

_INDUSTRY = re.compile(r"^[A-T]?\d{2,4}$")
_VIOLATION = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
# Policies are often signed before they start.
POLICY_START_LEAD = timedelta(days=366)


def _text(limit: int) -> Callable[[Cell, Env], object]:
    return lambda cell, env: v.text(cell, max_length=limit)


def _key(limit: int) -> Callable[[Cell, Env], object]:
    return lambda cell, env: v.key_text(cell, max_length=limit)


def _code(cell: Cell, env: Env) -> object:
    return v.credit_code(cell)


def _past(cell: Cell, env: Env) -> object:
    return v.calendar_date(cell, latest=env.today)


def _any_date(cell: Cell, env: Env) -> object:
    return v.calendar_date(cell)


def _policy_start(cell: Cell, env: Env) -> object:
    return v.calendar_date(cell, latest=env.today + POLICY_START_LEAD)


def _money(cell: Cell, env: Env) -> object:
    return v.amount(cell, unit=env.money)


def _mass(cell: Cell, env: Env) -> object:
    return v.quantity(cell, factor=env.mass_factor)


def _choice(vocabulary: Any) -> Callable[[Cell, Env], object]:
    return lambda cell, env: v.choice(cell, vocabulary)


def _industry(cell: Cell, env: Env) -> object:
    code = v.key_text(cell, max_length=5)
    if code is not None:
        code = code.upper()
        if not _INDUSTRY.match(code):
            raise v.ValueProblem(
                f"{code!r} is not a GB/T 4754 industry code (e.g. C2614 or 2614)",
                reason="BAD_INDUSTRY_CODE",
            )
    return code


def _violation(cell: Cell, env: Env) -> object:
    code = v.key_text(cell, max_length=40)
    if code is not None:
        code = code.upper()
        if not _VIOLATION.match(code):
            raise v.ValueProblem(
                f"{code!r} is not a violation code: capital letters, digits and _",
                reason="BAD_VIOLATION_CODE",
            )
    return code


def _year(cell: Cell, env: Env) -> object:
    return v.year(cell, earliest=2000, latest=env.today.year)


ENTERPRISE_CODE = Field(
    "enterprise_code",
    "统一社会信用代码",
    (
        "统一社会信用代码",
        "行政相对人代码_1(统一社会信用代码)",
        "行政相对人代码_1",
        "行政相对人统一社会信用代码",
        "社会信用代码",
        "企业统一社会信用代码",
        "credit_code",
        "uscc",
    ),
    _code,
    required=True,
)


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """How one dataset is collected.

    key: the value names that identify a record (its business key), after
        `check` has derived them; `enterprise_id` stands for the enterprise.
    scope: what a writer must hold.
    spellings: fields kept as first written; another spelling of the same key
        (锡山环罚决[2023]45号 for 〔2023〕) is the same record, not a change.
    """

    dataset: Dataset
    name: str  # `hub import NAME`
    label: str
    model: type[Base]
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    check: Callable[[dict[str, Any], Env], list[checks.Issue]]
    scope: Scope = Scope.data_write
    spellings: tuple[str, ...] = ()

    @property
    def has_enterprise(self) -> bool:
        return self.dataset is not Dataset.ENTERPRISES

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


ENTERPRISES = DatasetSpec(
    Dataset.ENTERPRISES,
    "enterprises",
    "企业名录",
    Enterprise,
    (
        Field(
            "code", "统一社会信用代码", ENTERPRISE_CODE.headers, _code, required=True
        ),
        Field(
            "name",
            "企业名称",
            ("企业名称", "单位名称", "主体名称", "名称", "enterprise_name"),
            _text(200),
            required=True,
        ),
        Field(
            "district_code",
            "行政区划",
            (
                "行政区划代码",
                "区划代码",
                "所属区县",
                "行政区划",
                "所属地区",
                "district",
            ),
            _text(20),
            required=True,
        ),
        Field(
            "address",
            "地址",
            ("地址", "注册地址", "生产经营地址", "经营地址"),
            _text(300),
            required=True,
        ),
        Field(
            "industry_code",
            "行业代码",
            ("行业代码", "国民经济行业代码", "行业类别代码", "industry"),
            _industry,
            required=True,
        ),
        Field(
            "supervision_category",
            "监管类别",
            ("监管类别", "重点监控类别", "重点排污单位类别", "supervision"),
            _choice(words.SUPERVISION),
        ),
        Field(
            "legal_representative",
            "法定代表人",
            ("法定代表人", "法定代表人姓名"),
            _text(100),
        ),
        Field(
            "status",
            "经营状态",
            ("经营状态", "企业状态", "状态"),
            _choice(words.ENTERPRISE_STATUS),
        ),
    ),
    ("code",),
    checks.check_enterprise,
)

PENALTIES = DatasetSpec(
    Dataset.PENALTIES,
    "penalties",
    "行政处罚决定",
    PenaltyDecision,
    (
        Field(
            "decision_number",
            "行政处罚决定书文号",
            ("行政处罚决定书文号", "处罚决定书文号", "决定书文号", "文号"),
            _key(100),
            required=True,
        ),
        ENTERPRISE_CODE,
        Field(
            "categories",
            "处罚类别",
            ("处罚类别", "处罚类别1", "category"),
            lambda cell, env: v.choices(cell, words.PENALTY_CATEGORY),
            required=True,
        ),
        Field(
            "violation_type",
            "违法行为类型",
            ("违法行为类型",),
            _text(200),
            required=True,
        ),
        Field(
            "facts", "违法事实", ("违法事实", "处罚事由"), _text(5000), required=True
        ),
        Field("legal_basis", "处罚依据", ("处罚依据",), _text(2000), required=True),
        Field("content", "处罚内容", ("处罚内容", "处罚结果"), _text(2000)),
        Field(
            "fine_amount",
            "罚款金额",
            ("罚款金额", "罚款数额", "fine"),
            _money,
            unit=UnitKind.MONEY,
        ),
        Field(
            "confiscation_amount",
            "没收违法所得、没收非法财物的金额",
            ("没收违法所得、没收非法财物的金额", "没收金额", "confiscation"),
            _money,
            unit=UnitKind.MONEY,
        ),
        Field(
            "decision_date",
            "处罚决定日期",
            ("处罚决定日期", "决定日期", "处罚日期"),
            _past,
            required=True,
        ),
        Field(
            "authority_name",
            "处罚机关",
            ("处罚机关", "authority"),
            _text(200),
            required=True,
        ),
        Field(
            "authority_code",
            "处罚机关统一社会信用代码",
            ("处罚机关统一社会信用代码",),
            _code,
            required=True,
        ),
        Field(
            "publication_end_date",
            "公示截止期",
            ("公示截止期", "公示截止日期", "公示期限"),
            _any_date,
        ),
        Field(
            "status",
            "当前状态",
            ("当前状态", "状态"),
            _choice(words.PENALTY_STATUS),
        ),
    ),
    ("authority_code", "decision_number_key"),
    checks.check_penalty,
    spellings=("decision_number",),
)


def _medium(medium: str, zh: str) -> tuple[Field, ...]:
    return (
        Field(
            f"{medium}_level",
            f"{zh}环境风险等级",
            (f"{zh}环境风险等级", f"{zh}风险等级"),
            _choice(words.RISK_LEVEL),
        ),
        Field(
            f"{medium}_q", f"{zh}Q", (f"{zh}Q", f"{zh}Q值分级"), _choice(words.Q_CLASS)
        ),
        Field(
            f"{medium}_m", f"{zh}M", (f"{zh}M", f"{zh}M值分级"), _choice(words.M_CLASS)
        ),
        Field(
            f"{medium}_e", f"{zh}E", (f"{zh}E", f"{zh}E值分级"), _choice(words.E_CLASS)
        ),
    )


RISK = DatasetSpec(
    Dataset.RISK,
    "risk",
    "环境风险等级",
    RiskAssessment,
    (
        ENTERPRISE_CODE,
        Field(
            "overall_level",
            "环境风险等级",
            ("环境风险等级", "企业环境风险等级", "风险等级", "risk_level"),
            _choice(words.RISK_LEVEL),
            required=True,
        ),
        *_medium("air", "大气"),
        *_medium("water", "水"),
        Field("level_string", "风险等级表征", ("风险等级表征", "等级表征"), _text(200)),
        Field(
            "assessed_on",
            "评估日期",
            ("评估日期", "评估时间", "划定日期"),
            _past,
            required=True,
        ),
        Field(
            "plan_filing_number",
            "应急预案备案编号",
            ("应急预案备案编号", "备案编号"),
            _key(100),
        ),
        Field("plan_filed_on", "备案日期", ("备案日期", "应急预案备案日期"), _past),
        Field("filing_authority", "备案机关", ("备案机关", "备案部门"), _text(200)),
    ),
    ("enterprise_id", "assessed_on"),
    checks.check_risk,
)

INSURANCE = DatasetSpec(
    Dataset.INSURANCE,
    "insurance",
    "环境污染责任保险",
    InsurancePolicy,
    (
        ENTERPRISE_CODE,
        Field(
            "insurer_name",
            "保险公司",
            ("保险公司", "承保机构", "保险机构", "insurer"),
            _text(200),
        ),
        Field(
            "insurer_code",
            "保险公司统一社会信用代码",
            ("保险公司统一社会信用代码", "承保机构统一社会信用代码"),
            _code,
        ),
        Field(
            "policy_number",
            "保单号",
            ("保单号", "保险单号", "policy"),
            _key(100),
            required=True,
        ),
        Field(
            "start_date",
            "保险起期",
            ("保险起期", "保险起始日期", "保险开始日期"),
            _policy_start,
            required=True,
        ),
        Field(
            "end_date",
            "保险止期",
            ("保险止期", "保险终止日期", "保险结束日期"),
            _any_date,
            required=True,
        ),
        Field(
            "cumulative_limit",
            "累计责任限额",
            ("累计责任限额", "累计赔偿限额"),
            _money,
            required=True,
            unit=UnitKind.MONEY,
        ),
        Field(
            "per_accident_limit",
            "每次事故责任限额",
            ("每次事故责任限额", "每次事故限额", "每次事故赔偿限额"),
            _money,
            required=True,
            unit=UnitKind.MONEY,
        ),
        Field(
            "premium",
            "保费",
            ("保费", "保险费"),
            _money,
            required=True,
            unit=UnitKind.MONEY,
        ),
        Field(
            "status",
            "保单状态",
            ("保单状态", "状态"),
            _choice(words.POLICY_STATUS),
        ),
    ),
    ("insurer_code", "policy_number"),
    checks.check_policy,
    scope=Scope.insurance_write,
)


def _pollutant(name: str, zh: str, *english: str) -> Field:
    return Field(name, zh, (zh, *english), _mass, unit=UnitKind.MASS)


EMISSIONS = DatasetSpec(
    Dataset.EMISSIONS,
    "emissions",
    "主要污染物年排放量",
    AnnualEmission,
    (
        ENTERPRISE_CODE,
        Field("year", "年度", ("年度", "年份", "排放年度"), _year, required=True),
        _pollutant("cod", "化学需氧量", "COD"),
        _pollutant("ammonia_nitrogen", "氨氮", "NH3-N", "NH3N"),
        _pollutant("so2", "二氧化硫", "SO2"),
        _pollutant("nox", "氮氧化物", "NOx"),
    ),
    ("enterprise_id", "year"),
    checks.check_emission,
)

EVENTS = DatasetSpec(
    Dataset.EVENTS,
    "events",
    "环境信用事件",
    EnvironmentalEvent,
    (
        ENTERPRISE_CODE,
        Field(
            "kind",
            "事件类型",
            ("事件类型", "类型", "event_type"),
            _choice(words.EVENT_KIND),
            required=True,
        ),
        Field(
            "reference",
            "文书编号",
            ("文书编号", "编号", "文号", "案号"),
            _key(100),
            required=True,
        ),
        Field(
            "occurred_on",
            "发生日期",
            ("发生日期", "认定日期", "判决日期", "日期", "date"),
            _past,
            required=True,
        ),
        Field(
            "authority_name",
            "认定机关",
            ("认定机关", "作出机关", "authority"),
            _text(200),
            required=True,
        ),
        Field(
            "authority_code",
            "认定机关统一社会信用代码",
            ("认定机关统一社会信用代码", "作出机关统一社会信用代码"),
            _code,
            required=True,
        ),
        Field(
            "severity",
            "事件等级",
            ("事件等级", "事件级别"),
            _choice(words.EMERGENCY_LEVEL),
        ),
        Field("violation_code", "违法行为代码", ("违法行为代码",), _violation),
        Field("criminal", "是否刑事", ("是否刑事", "刑事"), lambda c, e: v.flag(c)),
        Field(
            "description",
            "情况说明",
            ("情况说明", "事件描述", "内容"),
            _text(5000),
            required=True,
        ),
        Field("valid_until", "有效期至", ("有效期至",), _any_date),
    ),
    ("authority_code", "kind", "reference_key"),
    checks.check_event,
    spellings=("reference",),
)

DATASETS: dict[Dataset, DatasetSpec] = {
    s.dataset: s for s in (ENTERPRISES, PENALTIES, RISK, INSURANCE, EMISSIONS, EVENTS)
}
BY_NAME: dict[str, DatasetSpec] = {s.name: s for s in DATASETS.values()}
