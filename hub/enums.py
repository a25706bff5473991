"""Domain vocabularies shared by the data layer and the GraphQL schema.

Plain `enum.Enum` classes: the ORM stores their names, `schema/enums.py` exposes
them as GraphQL enums. Chinese terms follow ../shared/domain.md.
"""

from enum import Enum


class Grade(Enum):
    """Credit grade colour (环保信用等级)."""

    GREEN = "GREEN"  # 绿 / 环保诚信
    BLUE = "BLUE"  # 蓝 / 环保良好
    YELLOW = "YELLOW"  # 黄 / 环保警示
    RED = "RED"  # 红 / 环保不良
    BLACK = "BLACK"  # 黑 (Jiangsu only)


GRADE_ZH: dict[Grade, str] = {
    Grade.GREEN: "绿色",
    Grade.BLUE: "蓝色",
    Grade.YELLOW: "黄色",
    Grade.RED: "红色",
    Grade.BLACK: "黑色",
}


class Scheme(Enum):
    """Rating scheme the grade was decided under."""

    JS_ANNUAL_100 = "JS_ANNUAL_100"
    JS_DYNAMIC_12 = "JS_DYNAMIC_12"
    NATIONAL_2013 = "NATIONAL_2013"


def scheme_grades(scheme: Scheme) -> tuple[Grade, ...]:
    """The grades a scheme decides, best first: the national scheme has no BLACK."""
    return tuple(
        g for g in Grade if g is not Grade.BLACK or scheme is not Scheme.NATIONAL_2013
    )


class RatingStatus(Enum):
    """Lifecycle state of one grade decision."""

    DRAFT = "DRAFT"
    PRELIMINARY = "PRELIMINARY"  # 初评, by the district bureau
    REVIEWED = "REVIEWED"  # 复核, by the city bureau
    IN_PUBLIC_NOTICE = "IN_PUBLIC_NOTICE"
    FINAL = "FINAL"
    REPAIRED = "REPAIRED"
    REVOKED = "REVOKED"


class SupervisionCategory(Enum):
    """Key-monitoring list an enterprise is on (重点监控类别)."""

    NATIONAL_KEY = "NATIONAL_KEY"  # 国家重点监控
    PROVINCIAL_KEY = "PROVINCIAL_KEY"  # 省重点监控
    CITY_KEY = "CITY_KEY"  # 市重点监控
    OTHER = "OTHER"


class EnterpriseStatus(Enum):
    """Operating status (经营状态)."""

    OPERATING = "OPERATING"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class PenaltyCategory(Enum):
    """处罚类别, Administrative Penalty Law (2021) art. 9."""

    WARNING = "WARNING"  # 警告
    CIRCULATED_CRITICISM = "CIRCULATED_CRITICISM"  # 通报批评
    FINE = "FINE"  # 罚款
    CONFISCATION_OF_ILLEGAL_GAINS = "CONFISCATION_OF_ILLEGAL_GAINS"  # 没收违法所得
    CONFISCATION_OF_ILLEGAL_PROPERTY = (
        "CONFISCATION_OF_ILLEGAL_PROPERTY"  # 没收非法财物
    )
    LICENCE_SUSPENSION = "LICENCE_SUSPENSION"  # 暂扣许可证件
    QUALIFICATION_DOWNGRADE = "QUALIFICATION_DOWNGRADE"  # 降低资质等级
    LICENCE_REVOCATION = "LICENCE_REVOCATION"  # 吊销许可证件
    RESTRICTED_OPERATIONS = "RESTRICTED_OPERATIONS"  # 限制开展生产经营活动
    ORDERED_SUSPENSION = "ORDERED_SUSPENSION"  # 责令停产停业
    ORDERED_CLOSURE = "ORDERED_CLOSURE"  # 责令关闭
    EMPLOYMENT_RESTRICTION = "EMPLOYMENT_RESTRICTION"  # 限制从业
    ADMINISTRATIVE_DETENTION = "ADMINISTRATIVE_DETENTION"  # 行政拘留
    OTHER = "OTHER"  # 其他


PENALTY_CATEGORY_ZH: dict[PenaltyCategory, str] = {
    PenaltyCategory.WARNING: "警告",
    PenaltyCategory.CIRCULATED_CRITICISM: "通报批评",
    PenaltyCategory.FINE: "罚款",
    PenaltyCategory.CONFISCATION_OF_ILLEGAL_GAINS: "没收违法所得",
    PenaltyCategory.CONFISCATION_OF_ILLEGAL_PROPERTY: "没收非法财物",
    PenaltyCategory.LICENCE_SUSPENSION: "暂扣许可证件",
    PenaltyCategory.QUALIFICATION_DOWNGRADE: "降低资质等级",
    PenaltyCategory.LICENCE_REVOCATION: "吊销许可证件",
    PenaltyCategory.RESTRICTED_OPERATIONS: "限制开展生产经营活动",
    PenaltyCategory.ORDERED_SUSPENSION: "责令停产停业",
    PenaltyCategory.ORDERED_CLOSURE: "责令关闭",
    PenaltyCategory.EMPLOYMENT_RESTRICTION: "限制从业",
    PenaltyCategory.ADMINISTRATIVE_DETENTION: "行政拘留",
    PenaltyCategory.OTHER: "其他",
}


class PenaltyStatus(Enum):
    """State of a penalty decision (当前状态)."""

    EFFECTIVE = "EFFECTIVE"
    CHANGED = "CHANGED"
    REVOKED = "REVOKED"


class RiskLevel(Enum):
    """HJ 941-2018 emergency-risk level (环境风险等级)."""

    GENERAL = "GENERAL"  # 一般
    LARGER = "LARGER"  # 较大
    MAJOR = "MAJOR"  # 重大


class QClass(Enum):
    """HJ 941 Q class: ratio of risk substance to its critical quantity."""

    Q0 = "Q0"
    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"


class MClass(Enum):
    """HJ 941 M class: production process and risk-control level."""

    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4"


class EClass(Enum):
    """HJ 941 E class: sensitivity of the receiving environment."""

    E1 = "E1"
    E2 = "E2"
    E3 = "E3"


class PolicyStatus(Enum):
    """Pollution-liability insurance policy status (有效/过期/退保)."""

    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    SURRENDERED = "SURRENDERED"


class AgencyKind(Enum):
    """Kinds of agency that hold OAuth clients; presets of scopes hang on them."""

    COMMERCIAL_BANK = "COMMERCIAL_BANK"  # 商业银行 (green credit)
    PBOC_BRANCH = "PBOC_BRANCH"  # 人民银行无锡市分行
    BANKING_REGULATOR = "BANKING_REGULATOR"  # 金融监管总局无锡监管分局
    CREDIT_OFFICE = "CREDIT_OFFICE"  # 市信用办
    INDUSTRY_REGULATOR = "INDUSTRY_REGULATOR"  # 行业主管部门
    INSURER = "INSURER"  # 保险公司
    CITY_EPB = "CITY_EPB"  # 市生态环境局
    COUNTY_EPB = "COUNTY_EPB"  # 区县生态环境分局
    ENTERPRISE = "ENTERPRISE"  # an enterprise reading its own data


class EventKind(Enum):
    """Environmental events that credit is built from, besides penalties."""

    INSPECTION_FINDING = "INSPECTION_FINDING"  # 检查发现问题
    EMERGENCY = "EMERGENCY"  # 突发环境事件
    COURT_RULING = "COURT_RULING"  # 司法判决
    CREDIT_COMMITMENT = "CREDIT_COMMITMENT"  # 环保信用承诺


class EmergencyLevel(Enum):
    """Grade of an environmental emergency (突发环境事件分级)."""

    GENERAL = "GENERAL"  # 一般
    LARGER = "LARGER"  # 较大
    MAJOR = "MAJOR"  # 重大
    ESPECIALLY_MAJOR = "ESPECIALLY_MAJOR"  # 特别重大


class Dataset(Enum):
    """What an import or a write records (归集的数据集)."""

    ENTERPRISES = "ENTERPRISES"
    PENALTIES = "PENALTIES"
    RISK = "RISK"
    INSURANCE = "INSURANCE"
    EMISSIONS = "EMISSIONS"
    EVENTS = "EVENTS"


class BatchSource(Enum):
    """How a batch of records arrived."""

    MUTATION = "MUTATION"  # one record through GraphQL
    UPLOAD = "UPLOAD"  # a file uploaded through GraphQL
    CLI = "CLI"  # `hub import` by the bureau's staff


class RatingBasis(Enum):
    """Why a grade decision exists (评价依据)."""

    EVALUATION = "EVALUATION"  # an evaluation run (annual, or the dynamic score)
    DOWNGRADE = "DOWNGRADE"  # at once, after a serious event (动态降级)
    DYNAMIC = "DYNAMIC"  # the dynamic score moved to another band
    REPAIR = "REPAIR"  # raised after credit repair (信用修复)


class ObjectionStatus(Enum):
    OPEN = "OPEN"
    UPHELD = "UPHELD"  # the grade is re-scored and noticed again
    REJECTED = "REJECTED"


class RepairStatus(Enum):
    """Credit repair (信用修复): district opinion → city approval → notice → done."""

    APPLIED = "APPLIED"
    DISTRICT_AGREED = "DISTRICT_AGREED"
    IN_PUBLIC_NOTICE = "IN_PUBLIC_NOTICE"
    DONE = "DONE"
    REFUSED = "REFUSED"


class FeedDataset(Enum):
    """What a change-feed event is about."""

    RATING = "RATING"
    PENALTY = "PENALTY"
    RISK = "RISK"
    INSURANCE = "INSURANCE"


class LoanRecommendation(Enum):
    """What a credit review recommends to a lender, mildest first (绿色信贷)."""

    SUPPORT = "SUPPORT"  # 积极支持: preferential rates, simplified procedures
    NORMAL = "NORMAL"  # 正常授信
    TIGHTEN = "TIGHTEN"  # 严格贷款条件
    NO_NEW_CREDIT = "NO_NEW_CREDIT"  # 审慎授信: no new loans until the grade improves
    STOP_LENDING = "STOP_LENDING"  # 停止贷款, reduce until exit


class InspectionBand(Enum):
    """How often the bureau should inspect (双随机 frequency), lightest first."""

    REDUCED = "REDUCED"  # 信任保护: fewer random inspections
    NORMAL = "NORMAL"
    INCREASED = "INCREASED"  # 提高检查频次
    INTENSIVE = "INTENSIVE"  # 重点监管


class Eligibility(Enum):
    """Outcome of the credit benchmark check for a subsidy (信用基准评价)."""

    PASS = "PASS"
    CONDITIONAL = "CONDITIONAL"  # stricter review (从严审核)
    FAIL = "FAIL"


class MeasureDomain(Enum):
    """Where a reward or punishment measure (奖惩措施) applies."""

    CREDIT = "CREDIT"  # 信贷
    SUBSIDY = "SUBSIDY"  # 专项资金、补贴
    INSPECTION = "INSPECTION"  # 监督检查
    PERMITS = "PERMITS"  # 行政许可
    PRICING = "PRICING"  # 差别电价、污水处理费
    INSURANCE = "INSURANCE"  # 环责险费率
    PROCUREMENT = "PROCUREMENT"  # 政府采购
    HONOURS = "HONOURS"  # 评优评先


class MeasureDirection(Enum):
    REWARD = "REWARD"  # 守信激励
    NEUTRAL = "NEUTRAL"
    PUNISHMENT = "PUNISHMENT"  # 失信惩戒


class RecordType(Enum):
    """The kind of record a review reason cites, so an auditor can follow it."""

    CREDIT_RATING = "CREDIT_RATING"
    PENALTY_DECISION = "PENALTY_DECISION"
    ENVIRONMENTAL_EVENT = "ENVIRONMENTAL_EVENT"
    RISK_ASSESSMENT = "RISK_ASSESSMENT"
    COMPULSORY_INSURANCE = "COMPULSORY_INSURANCE"  # id: credit code/year
    INSURANCE_POLICY = "INSURANCE_POLICY"
    REPAIR_APPLICATION = "REPAIR_APPLICATION"
