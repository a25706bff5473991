"""Inputs of the write mutations: one per dataset, the same fields as a file row.

Money is in yuan (元) and emissions in tonnes; a file may use 万元 or kg in its
headers instead. Every field is checked by hub/ingest, as a file row is.
"""

from datetime import date
from decimal import Decimal

import strawberry

from hub.enums import (
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


@strawberry.input(description="An enterprise of the register (企业名录).")
class EnterpriseInput:
    code: str = strawberry.field(description="Unified social credit code.")
    name: str
    district_code: str = strawberry.field(
        description="District: 6-digit code (320205) or name (锡山区)."
    )
    address: str
    industry_code: str = strawberry.field(description="GB/T 4754 code, e.g. C2614.")
    supervision_category: SupervisionCategory | None = None
    legal_representative: str | None = None
    status: EnterpriseStatus | None = None


@strawberry.input(description="A penalty decision (行政处罚决定, 双公示).")
class PenaltyInput:
    decision_number: str = strawberry.field(description="行政处罚决定书文号.")
    enterprise_code: str
    categories: list[PenaltyCategory]
    violation_type: str
    facts: str
    legal_basis: str
    content: str | None = None
    fine_amount: Decimal | None = strawberry.field(
        default=None, description="Fine in yuan (元)."
    )
    confiscation_amount: Decimal | None = strawberry.field(
        default=None, description="Confiscated gains and property in yuan (元)."
    )
    decision_date: date
    authority_name: str
    authority_code: str
    publication_end_date: date | None = strawberry.field(
        default=None, description="公示截止期; default: three years after the decision."
    )
    status: PenaltyStatus | None = None


@strawberry.input(description="An HJ 941-2018 risk assessment (环境风险等级).")
class RiskAssessmentInput:
    enterprise_code: str
    overall_level: RiskLevel
    air_level: RiskLevel | None = None
    air_q: QClass | None = None
    air_m: MClass | None = None
    air_e: EClass | None = None
    water_level: RiskLevel | None = None
    water_q: QClass | None = None
    water_m: MClass | None = None
    water_e: EClass | None = None
    level_string: str | None = strawberry.field(
        default=None, description="e.g. 较大[一般-大气(Q1-M1-E3)+较大-水(Q2-M2-E2)]."
    )
    assessed_on: date
    plan_filing_number: str | None = None
    plan_filed_on: date | None = None
    filing_authority: str | None = None


@strawberry.input(
    description="A pollution-liability insurance policy (环责险保单). An insurer "
    "may leave out its own name and credit code."
)
class InsurancePolicyInput:
    enterprise_code: str
    insurer_name: str | None = None
    insurer_code: str | None = None
    policy_number: str
    start_date: date
    end_date: date
    cumulative_limit: Decimal = strawberry.field(description="In yuan (元).")
    per_accident_limit: Decimal = strawberry.field(description="In yuan (元).")
    premium: Decimal = strawberry.field(description="In yuan (元).")
    status: PolicyStatus | None = None


@strawberry.input(description="A year's emissions of the main pollutants, in tonnes.")
class EmissionsInput:
    enterprise_code: str
    year: int
    cod: Decimal | None = strawberry.field(default=None, description="COD, t.")
    ammonia_nitrogen: Decimal | None = strawberry.field(
        default=None, description="Ammonia nitrogen (氨氮), t."
    )
    so2: Decimal | None = strawberry.field(default=None, description="SO2, t.")
    nox: Decimal | None = strawberry.field(default=None, description="NOx, t.")


@strawberry.input(description="An environmental event (环境信用事件).")
class EventInput:
    enterprise_code: str
    kind: EventKind
    reference: str = strawberry.field(description="Document number (文书编号).")
    occurred_on: date
    authority_name: str
    authority_code: str
    severity: EmergencyLevel | None = strawberry.field(
        default=None, description="Emergencies only."
    )
    violation_code: str | None = None
    criminal: bool | None = strawberry.field(
        default=None, description="Court rulings only."
    )
    description: str
    valid_until: date | None = None
