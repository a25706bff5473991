"""Object types of the read API.

Types declare shape and documentation only. Their roots are the plain views of
resolvers.views; nested datasets are already attached, so most fields are
plain attributes and the rest pick from in-memory lists.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

import schema.enums  # noqa: F401 - registers the domain enums with their docs
from auth.scopes import Scope
from hub.enums import (
    EClass,
    EnterpriseStatus,
    Grade,
    MClass,
    PenaltyCategory,
    PenaltyStatus,
    PolicyStatus,
    QClass,
    RatingStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from resolvers.audit import (
    CURSOR_KIND as AUDIT_CURSOR_KIND,
    AuditEntryView,
    list_accesses,
)
from resolvers.context import Context
from resolvers.insurance import policy_in_force
from resolvers.penalty import penalties_between
from resolvers.rating import rating_history, rating_in_force
from resolvers.risk import risk_as_of
from resolvers.views import (
    EnterpriseView,
    PenaltyView,
    PolicyView,
    RatingView,
    RiskView,
)
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for

Info = strawberry.Info[Context, None]


@strawberry.type(description="Administrative division (行政区划, GB/T 2260).")
class District:
    code: str = strawberry.field(description="6-digit division code, e.g. 320205.")
    name: str = strawberry.field(description="Chinese name, e.g. 锡山区.")
    name_en: str = strawberry.field(description="English name.")


@strawberry.type(
    description="One credit grade decision (信用评价结果); never overwritten."
)
class Rating:
    id: strawberry.ID
    scheme: Scheme
    year: int | None = strawberry.field(
        description="Rated year (评价年度) for annual schemes; null for dynamic grades."
    )
    grade: Grade
    score: Decimal | None = strawberry.field(
        description="Score (评价分值) under the scheme."
    )
    status: RatingStatus
    reason: str | None = strawberry.field(description="Reason or basis (评价依据).")
    decided_by: str = strawberry.field(description="Deciding organisation (评价机构).")
    decided_at: datetime = strawberry.field(
        description="When the decision was made (UTC)."
    )
    valid_from: date = strawberry.field(description="First day in force (有效期起).")
    valid_to: date | None = strawberry.field(
        description="Last day in force (有效期止); null while open-ended."
    )
    notice_until: date | None = strawberry.field(
        description="Last day of the public notice (公示截止): while the status is "
        "IN_PUBLIC_NOTICE, objections are taken until then."
    )
    enterprise: "Enterprise" = strawberry.field(description="The rated enterprise.")


@strawberry.type(description="Administrative penalty decision (行政处罚决定, 双公示).")
class PenaltyDecision:
    id: strawberry.ID
    decision_number: str = strawberry.field(
        description="Decision document number (行政处罚决定书文号)."
    )
    categories: list[PenaltyCategory] = strawberry.field(
        description="Penalty categories (处罚类别)."
    )
    violation_type: str = strawberry.field(
        description="Type of violation (违法行为类型)."
    )
    facts: str | None = strawberry.field(
        description="Facts of the violation (违法事实).",
        directives=requires(Scope.penalties_detail),
    )
    legal_basis: str | None = strawberry.field(
        description="Legal basis (处罚依据).",
        directives=requires(Scope.penalties_detail),
    )
    content: str | None = strawberry.field(
        description="Content of the penalty (处罚内容).",
        directives=requires(Scope.penalties_detail),
    )
    fine_amount: Decimal | None = strawberry.field(
        description="Fine in yuan (罚款金额, 元).",
        directives=requires(Scope.penalties_detail),
    )
    confiscation_amount: Decimal | None = strawberry.field(
        description="Confiscated gains or property in yuan (没收金额, 元).",
        directives=requires(Scope.penalties_detail),
    )
    decision_date: date = strawberry.field(description="Decision date (处罚决定日期).")
    authority_name: str = strawberry.field(
        description="Penalising authority (处罚机关)."
    )
    authority_code: str = strawberry.field(
        description="Authority's credit code (处罚机关统一社会信用代码)."
    )
    publication_end_date: date = strawberry.field(
        description="Publication end date (公示截止期)."
    )
    status: PenaltyStatus
    enterprise: "Enterprise" = strawberry.field(
        description="The penalised enterprise (行政相对人)."
    )


@strawberry.type(
    description="Risk of one medium (air 大气 or water 水) under HJ 941-2018."
)
class MediumRisk:
    level: RiskLevel
    q: QClass | None
    m: MClass | None
    e: EClass | None


@strawberry.type(
    description="Environmental emergency risk assessment (突发环境事件风险等级, HJ 941-2018)."
)
class RiskAssessment:
    id: strawberry.ID
    overall_level: RiskLevel = strawberry.field(
        description="Overall level: the higher of air and water."
    )
    air: MediumRisk | None
    water: MediumRisk | None
    level_string: str = strawberry.field(
        description="Level notation, e.g. 较大[一般-大气(Q1-M1-E3)+较大-水(Q2-M2-E2)]."
    )
    assessed_on: date = strawberry.field(description="Assessment date.")
    plan_filing_number: str | None = strawberry.field(
        description="Emergency-plan filing number (应急预案备案编号)."
    )
    plan_filed_on: date | None = strawberry.field(
        description="Emergency-plan filing date (备案日期)."
    )
    filing_authority: str | None = strawberry.field(
        description="Authority the plan was filed with."
    )
    enterprise: "Enterprise"


@strawberry.type(
    description="Environmental pollution liability insurance policy (环责险保单)."
)
class InsurancePolicy:
    id: strawberry.ID
    insurer_name: str = strawberry.field(description="Insurer (保险公司).")
    insurer_code: str = strawberry.field(description="Insurer's credit code.")
    policy_number: str = strawberry.field(description="Policy number (保单号).")
    start_date: date = strawberry.field(description="Cover starts (保险起期).")
    end_date: date = strawberry.field(description="Cover ends (保险止期).")
    cumulative_limit: Decimal = strawberry.field(
        description="Cumulative liability limit in yuan (累计责任限额)."
    )
    per_accident_limit: Decimal = strawberry.field(
        description="Per-accident limit in yuan (每次事故限额)."
    )
    premium: Decimal = strawberry.field(description="Premium in yuan (保费).")
    status: PolicyStatus


@strawberry.type(
    description="An enterprise's pollution-liability insurance position in one year (环责险投保情况)."
)
class InsuranceEnrollment:
    year: int
    compulsory: bool = strawberry.field(
        description="On the year's compulsory list (应投保名单)."
    )
    insured: bool = strawberry.field(
        description="Held a policy covering part of the year."
    )
    policies: list[InsurancePolicy] = strawberry.field(
        description="Policies covering the year."
    )
    enterprise: "Enterprise"


@strawberry.type(
    description="One access to an enterprise's data (查询记录), as the enterprise sees it."
)
class AccessLogEntry:
    at: datetime = strawberry.field(description="When (UTC).")
    agency_name: str | None = strawberry.field(description="Who: the agency.")
    agency_kind: str | None
    purpose: str | None = strawberry.field(description="Why: the declared purpose.")
    outcome: str


@strawberry.type(
    description="A supervised enterprise (企业) and its environmental credit."
)
class Enterprise:
    code: str = strawberry.field(
        description="Unified social credit code (统一社会信用代码), 18 characters."
    )
    name: str = strawberry.field(description="Registered name (企业名称).")
    district: District = strawberry.field(
        description="District under whose bureau it falls (所属区县)."
    )
    industry: str = strawberry.field(
        description="Industry code, GB/T 4754 (行业代码), e.g. C2614."
    )
    supervision_category: SupervisionCategory
    status: EnterpriseStatus
    address: str = strawberry.field(description="Registered address (注册地址).")
    legal_representative: str | None = strawberry.field(
        description="Legal representative (法定代表人). Personal data.",
        directives=requires(Scope.penalties_detail),
    )

    @strawberry.field(
        graphql_type=list[int] | None,
        description="The compulsory-insurance list years (应投保年度) the enterprise is on, newest first.",
        directives=requires(Scope.insurance_read),
    )
    @staticmethod
    def compulsory_insurance_years(
        parent: strawberry.Parent[EnterpriseView],
    ) -> list[int]:
        return parent.compulsory_years

    @strawberry.field(
        graphql_type=Rating | None,
        description=(
            "The published grade in force on `asOf` (today, China Standard Time, by default) "
            "under `scheme` (the city's official scheme by default)."
        ),
        directives=requires(Scope.ratings_read),
    )
    @staticmethod
    def current_rating(
        parent: strawberry.Parent[EnterpriseView],
        info: Info,
        as_of: date | None = None,
        scheme: Scheme | None = None,
    ) -> RatingView | None:
        ctx = info.context
        return rating_in_force(
            parent.ratings,
            as_of=as_of or ctx.today,
            scheme=scheme or ctx.settings.official_scheme,
        )

    @strawberry.field(
        graphql_type=list[Rating] | None,
        description="Every grade decision the caller may see, newest first.",
        directives=requires(Scope.ratings_history),
    )
    @staticmethod
    def rating_history(
        parent: strawberry.Parent[EnterpriseView], scheme: Scheme | None = None
    ) -> list[RatingView]:
        return rating_history(parent.ratings, scheme=scheme)

    @strawberry.field(
        graphql_type=list[PenaltyDecision] | None,
        description="Penalty decisions dated within [from, to] (both optional), newest first.",
        directives=requires(Scope.penalties_read),
    )
    @staticmethod
    def penalties(
        parent: strawberry.Parent[EnterpriseView],
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        status: PenaltyStatus | None = None,
    ) -> list[PenaltyView]:
        return penalties_between(parent.penalties, start=from_, end=to, status=status)

    @strawberry.field(
        graphql_type=RiskAssessment | None,
        description="The latest risk assessment made on or before `asOf` (today by default).",
        directives=requires(Scope.risk_read),
    )
    @staticmethod
    def risk_level(
        parent: strawberry.Parent[EnterpriseView], info: Info, as_of: date | None = None
    ) -> RiskView | None:
        return risk_as_of(parent.risks, as_of=as_of or info.context.today)

    @strawberry.field(
        graphql_type=InsurancePolicy | None,
        description="The insurance policy covering `asOf` (today by default).",
        directives=requires(Scope.insurance_read),
    )
    @staticmethod
    def insurance(
        parent: strawberry.Parent[EnterpriseView], info: Info, as_of: date | None = None
    ) -> PolicyView | None:
        return policy_in_force(parent.policies, as_of=as_of or info.context.today)

    @strawberry.field(
        graphql_type=Connection[AccessLogEntry] | None,
        description=(
            "Who read this enterprise's data, oldest first (like Estonia's data tracker): "
            "agency, purpose and time. " + PAGE_SIZE_NOTE
        ),
        directives=requires(Scope.access_log_read),
    )
    @staticmethod
    async def access_log(
        parent: strawberry.Parent[EnterpriseView],
        info: Info,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AuditEntryView]:
        page = page_request_for(info, AUDIT_CURSOR_KIND, first, after)
        return Connection.from_page(
            await list_accesses(info.context, parent.code, page)
        )
