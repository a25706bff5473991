"""Words files use for the domain's enums, in Chinese and English.

Every vocabulary also accepts the enum member names (NATIONAL_KEY, FINE, ...),
matched case-insensitively by hub.ingest.values.choice.
"""

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from hub.enums import (
    PENALTY_CATEGORY_ZH,
    EClass,
    EmergencyLevel,
    EnterpriseStatus,
    EventKind,
    MClass,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    QClass,
    RiskLevel,
    SupervisionCategory,
)

E = TypeVar("E", bound=Enum)


def _with_names(enum: type[E], words: Mapping[str, E]) -> dict[str, E]:
    return {**{m.name: m for m in enum}, **words}


SUPERVISION = _with_names(
    SupervisionCategory,
    {
        "国家重点监控": SupervisionCategory.NATIONAL_KEY,
        "国家重点监控企业": SupervisionCategory.NATIONAL_KEY,
        "国控": SupervisionCategory.NATIONAL_KEY,
        "省重点监控": SupervisionCategory.PROVINCIAL_KEY,
        "省重点监控企业": SupervisionCategory.PROVINCIAL_KEY,
        "省控": SupervisionCategory.PROVINCIAL_KEY,
        "市重点监控": SupervisionCategory.CITY_KEY,
        "市重点监控企业": SupervisionCategory.CITY_KEY,
        "市控": SupervisionCategory.CITY_KEY,
        "其他": SupervisionCategory.OTHER,
        "一般": SupervisionCategory.OTHER,
    },
)

ENTERPRISE_STATUS = _with_names(
    EnterpriseStatus,
    {
        "在营": EnterpriseStatus.OPERATING,
        "正常": EnterpriseStatus.OPERATING,
        "存续": EnterpriseStatus.OPERATING,
        "开业": EnterpriseStatus.OPERATING,
        "停产": EnterpriseStatus.SUSPENDED,
        "停业": EnterpriseStatus.SUSPENDED,
        "歇业": EnterpriseStatus.SUSPENDED,
        "关闭": EnterpriseStatus.CLOSED,
        "注销": EnterpriseStatus.CLOSED,
        "吊销": EnterpriseStatus.CLOSED,
    },
)

PENALTY_CATEGORY = _with_names(
    PenaltyCategory, {zh: category for category, zh in PENALTY_CATEGORY_ZH.items()}
)

PENALTY_STATUS = _with_names(
    PenaltyStatus,
    {
        "有效": PenaltyStatus.EFFECTIVE,
        "正常": PenaltyStatus.EFFECTIVE,
        "生效": PenaltyStatus.EFFECTIVE,
        "变更": PenaltyStatus.CHANGED,
        "已变更": PenaltyStatus.CHANGED,
        "撤销": PenaltyStatus.REVOKED,
        "已撤销": PenaltyStatus.REVOKED,
    },
)

RISK_LEVEL = _with_names(
    RiskLevel,
    {
        "一般": RiskLevel.GENERAL,
        "一般环境风险": RiskLevel.GENERAL,
        "L": RiskLevel.GENERAL,
        "较大": RiskLevel.LARGER,
        "较大环境风险": RiskLevel.LARGER,
        "M": RiskLevel.LARGER,
        "重大": RiskLevel.MAJOR,
        "重大环境风险": RiskLevel.MAJOR,
        "H": RiskLevel.MAJOR,
    },
)

Q_CLASS = _with_names(QClass, {})
M_CLASS = _with_names(MClass, {})
E_CLASS = _with_names(EClass, {})

POLICY_STATUS = _with_names(
    PolicyStatus,
    {
        "有效": PolicyStatus.ACTIVE,
        "生效": PolicyStatus.ACTIVE,
        "在保": PolicyStatus.ACTIVE,
        "过期": PolicyStatus.EXPIRED,
        "到期": PolicyStatus.EXPIRED,
        "失效": PolicyStatus.EXPIRED,
        "退保": PolicyStatus.SURRENDERED,
        "已退保": PolicyStatus.SURRENDERED,
    },
)

EVENT_KIND = _with_names(
    EventKind,
    {
        "检查发现问题": EventKind.INSPECTION_FINDING,
        "现场检查": EventKind.INSPECTION_FINDING,
        "检查": EventKind.INSPECTION_FINDING,
        "突发环境事件": EventKind.EMERGENCY,
        "环境事件": EventKind.EMERGENCY,
        "司法判决": EventKind.COURT_RULING,
        "法院判决": EventKind.COURT_RULING,
        "判决": EventKind.COURT_RULING,
        "信用承诺": EventKind.CREDIT_COMMITMENT,
        "环保信用承诺": EventKind.CREDIT_COMMITMENT,
    },
)

EMERGENCY_LEVEL = _with_names(
    EmergencyLevel,
    {
        "一般": EmergencyLevel.GENERAL,
        "一般突发环境事件": EmergencyLevel.GENERAL,
        "较大": EmergencyLevel.LARGER,
        "较大突发环境事件": EmergencyLevel.LARGER,
        "重大": EmergencyLevel.MAJOR,
        "重大突发环境事件": EmergencyLevel.MAJOR,
        "特别重大": EmergencyLevel.ESPECIALLY_MAJOR,
        "特别重大突发环境事件": EmergencyLevel.ESPECIALLY_MAJOR,
    },
)
