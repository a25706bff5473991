"""GraphQL enums, backed by the domain enums of hub.enums."""

import strawberry

from auth import scopes
from hub import enums

Grade = strawberry.enum(
    enums.Grade,
    description=(
        "Environmental credit grade (环保信用等级): GREEN 绿/环保诚信, BLUE 蓝/环保良好, "
        "YELLOW 黄/环保警示, RED 红/环保不良, BLACK 黑 (Jiangsu schemes only)."
    ),
)
Scheme = strawberry.enum(
    enums.Scheme,
    description=(
        "Rating scheme (评价办法): JS_ANNUAL_100 Jiangsu annual 100-point standard, "
        "JS_DYNAMIC_12 Jiangsu dynamic 12-point scoring (2019/2020), "
        "NATIONAL_2013 national measures 环发〔2013〕150号 (four grades)."
    ),
)
RatingStatus = strawberry.enum(
    enums.RatingStatus,
    description=(
        "State of a grade decision: DRAFT 草稿, PRELIMINARY 初评, REVIEWED 复核, "
        "IN_PUBLIC_NOTICE 公示中, "
        "FINAL 终评/发布, REPAIRED 已修复 (superseded by a repair), REVOKED 撤销."
    ),
)
SupervisionCategory = strawberry.enum(
    enums.SupervisionCategory,
    description=(
        "Key-monitoring category (重点监控类别): NATIONAL_KEY 国家重点监控, "
        "PROVINCIAL_KEY 省重点监控, CITY_KEY 市重点监控, OTHER 其他."
    ),
)
EnterpriseStatus = strawberry.enum(
    enums.EnterpriseStatus,
    description="Operating status (经营状态): OPERATING 在营, SUSPENDED 停产, CLOSED 关闭.",
)
PenaltyCategory = strawberry.enum(
    enums.PenaltyCategory,
    description=(
        "Penalty category (处罚类别), Administrative Penalty Law art. 9: "
        + ", ".join(f"{c.name} {zh}" for c, zh in enums.PENALTY_CATEGORY_ZH.items())
        + "."
    ),
)
PenaltyStatus = strawberry.enum(
    enums.PenaltyStatus,
    description="State of a penalty decision (当前状态): EFFECTIVE 有效, CHANGED 变更, REVOKED 撤销.",
)
RiskLevel = strawberry.enum(
    enums.RiskLevel,
    description="HJ 941-2018 environmental risk level: GENERAL 一般, LARGER 较大, MAJOR 重大.",
)
QClass = strawberry.enum(
    enums.QClass,
    description="HJ 941 Q class: risk-substance quantity / critical quantity.",
)
MClass = strawberry.enum(
    enums.MClass,
    description="HJ 941 M class: process and risk-control level (M1 <25 ... M4 ≥60).",
)
EClass = strawberry.enum(
    enums.EClass,
    description="HJ 941 E class: sensitivity of the receiving environment.",
)
PolicyStatus = strawberry.enum(
    enums.PolicyStatus,
    description="Insurance policy status: ACTIVE 有效, EXPIRED 过期, SURRENDERED 退保.",
)
EventKind = strawberry.enum(
    enums.EventKind,
    description=(
        "Environmental event (环境信用事件): INSPECTION_FINDING 检查发现问题, "
        "EMERGENCY 突发环境事件, COURT_RULING 司法判决, CREDIT_COMMITMENT 环保信用承诺."
    ),
)
EmergencyLevel = strawberry.enum(
    enums.EmergencyLevel,
    description=(
        "Emergency level (突发环境事件分级): GENERAL 一般, LARGER 较大, MAJOR 重大, "
        "ESPECIALLY_MAJOR 特别重大."
    ),
)
Dataset = strawberry.enum(
    enums.Dataset,
    description=(
        "A collected dataset (归集): ENTERPRISES 企业名录, PENALTIES 行政处罚, "
        "RISK 环境风险等级, INSURANCE 环责险, EMISSIONS 年排放量, EVENTS 环境信用事件."
    ),
)
Purpose = strawberry.enum(
    scopes.Purpose,
    description=(
        "Why an agency asks (查询目的): LOAN_APPROVAL 授信审批, POST_LOAN_MONITORING "
        "贷后管理, SUBSIDY_REVIEW 专项资金审核, SUPERVISION 监管, INSURANCE_UNDERWRITING "
        "承保, STATISTICS 统计分析, SELF_INQUIRY 企业自查."
    ),
)
LoanRecommendation = strawberry.enum(
    enums.LoanRecommendation,
    description=(
        "A credit review's advice to a lender, mildest first: SUPPORT 积极支持, NORMAL "
        "正常, TIGHTEN 严格贷款条件, NO_NEW_CREDIT 不予新增贷款, STOP_LENDING 停止贷款."
    ),
)
InspectionBand = strawberry.enum(
    enums.InspectionBand,
    description=(
        "Inspection frequency band, lightest first: REDUCED 信任保护/减少检查, NORMAL, "
        "INCREASED 提高频次, INTENSIVE 重点监管."
    ),
)
Eligibility = strawberry.enum(
    enums.Eligibility,
    description="Credit benchmark check (信用基准评价): PASS, CONDITIONAL 从严审核, FAIL.",
)
MeasureDomain = strawberry.enum(
    enums.MeasureDomain,
    description=(
        "Where a measure applies: CREDIT 信贷, SUBSIDY 专项资金, INSPECTION 监督检查, "
        "PERMITS 行政许可, PRICING 差别电价/水价, INSURANCE 环责险, PROCUREMENT 政府采购, "
        "HONOURS 评优评先."
    ),
)
MeasureDirection = strawberry.enum(
    enums.MeasureDirection,
    description="REWARD 守信激励, NEUTRAL, PUNISHMENT 失信惩戒.",
)
RecordType = strawberry.enum(
    enums.RecordType,
    description=(
        "The kind of record a review reason cites. COMPULSORY_INSURANCE ids are "
        "`credit code/year` (the compulsory-insurance list entry)."
    ),
)
