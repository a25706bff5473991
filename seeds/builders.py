"""Small builders for hand-made records: tests tell a story with them.

Each returns an unsaved ORM object with realistic defaults; pass only what
the story is about.
"""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from hub.credit_code import complete_credit_code
from hub.decision_number import canonical_decision_number
from hub.enums import (
    EnterpriseStatus,
    Grade,
    PenaltyStatus,
    PolicyStatus,
    RatingStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from hub.models import (
    CompulsoryInsurance,
    CreditRating,
    Enterprise,
    InsurancePolicy,
    PenaltyDecision,
    RiskAssessment,
)

_serial = itertools.count(1)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
CITY_BUREAU_CODE = complete_credit_code("1132020001417" + "000")


def credit_code(n: int, district: str = "320205") -> str:
    """A checksum-valid enterprise credit code, distinct for each n."""
    return complete_credit_code(f"91{district}{n:08d}")


def enterprise(
    *,
    code: str | None = None,
    name: str | None = None,
    district_code: str = "320205",
    status: EnterpriseStatus = EnterpriseStatus.OPERATING,
    category: SupervisionCategory = SupervisionCategory.CITY_KEY,
) -> Enterprise:
    n = next(_serial)
    return Enterprise(
        code=code or credit_code(n, district_code),
        name=name or f"无锡测试{n}化工有限公司",
        district_code=district_code,
        address=f"江苏省无锡市锡山区东亭街道春晖中路{n}号",
        industry_code="C2614",
        supervision_category=category,
        legal_representative="张伟",
        status=status,
        created_at=EPOCH,
        updated_at=EPOCH,
    )


def rating(
    owner: Enterprise,
    *,
    grade: Grade = Grade.BLUE,
    scheme: Scheme = Scheme.JS_DYNAMIC_12,
    status: RatingStatus = RatingStatus.FINAL,
    valid_from: date = date(2025, 1, 1),
    valid_to: date | None = None,
    year: int | None = None,
    score: Decimal | None = Decimal("8"),
) -> CreditRating:
    return CreditRating(
        enterprise_id=owner.id,
        scheme=scheme,
        year=year,
        grade=grade,
        score=score,
        status=status,
        reason="动态记分",
        decided_by="无锡市生态环境局",
        decided_at=datetime(
            valid_from.year, valid_from.month, valid_from.day, tzinfo=UTC
        ),
        valid_from=valid_from,
        valid_to=valid_to,
    )


def penalty(
    owner: Enterprise,
    *,
    number: str | None = None,
    decision_date: date = date(2026, 3, 1),
    publication_end_date: date = date(2027, 3, 1),
    status: PenaltyStatus = PenaltyStatus.EFFECTIVE,
    fine: Decimal = Decimal("50000.00"),
    categories: tuple[str, ...] = ("FINE",),
) -> PenaltyDecision:
    n = next(_serial)
    number = number or f"锡山环罚决〔{decision_date.year}〕{n}号"
    return PenaltyDecision(
        enterprise_id=owner.id,
        decision_number=number,
        decision_number_key=canonical_decision_number(number),
        categories=list(categories),
        violation_type="超标排放大气污染物",
        facts="2026年2月执法监测发现废气排放口颗粒物浓度超标。",
        legal_basis="《中华人民共和国大气污染防治法》第九十九条第二项",
        content="罚款人民币伍万元整",
        fine_amount=fine,
        confiscation_amount=Decimal("0"),
        decision_date=decision_date,
        authority_name="无锡市锡山生态环境局",
        authority_code=CITY_BUREAU_CODE,
        publication_end_date=publication_end_date,
        status=status,
    )


def risk(
    owner: Enterprise,
    *,
    level: RiskLevel = RiskLevel.LARGER,
    assessed_on: date = date(2025, 6, 1),
) -> RiskAssessment:
    return RiskAssessment(
        enterprise_id=owner.id,
        overall_level=level,
        air_level=RiskLevel.GENERAL,
        water_level=level,
        level_string=f"{level.name}[一般-大气(Q1-M1-E3)+{level.name}-水(Q2-M2-E2)]",
        assessed_on=assessed_on,
        plan_filing_number="320205-2025-031-M",
        plan_filed_on=assessed_on,
        filing_authority="无锡市锡山生态环境局",
    )


def policy(
    owner: Enterprise,
    *,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    status: PolicyStatus = PolicyStatus.ACTIVE,
) -> InsurancePolicy:
    n = next(_serial)
    return InsurancePolicy(
        enterprise_id=owner.id,
        insurer_name="中国人民财产保险股份有限公司无锡市分公司",
        insurer_code=complete_credit_code("91320200" + "71401234"),
        policy_number=f"PICC-WX-{start.year}-{n:06d}",
        start_date=start,
        end_date=end,
        cumulative_limit=Decimal("2000000.00"),
        per_accident_limit=Decimal("1000000.00"),
        premium=Decimal("30000.00"),
        status=status,
    )


def compulsory(owner: Enterprise, year: int) -> CompulsoryInsurance:
    return CompulsoryInsurance(enterprise_id=owner.id, year=year)
