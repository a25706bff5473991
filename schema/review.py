"""Credit reviews, subsidy checks and the measures catalogue (信用审查、奖惩措施)."""

import functools
from datetime import date
from typing import Any

import strawberry

from auth.scopes import Purpose, Scope
from hub.enums import (
    Eligibility,
    EventKind,
    Grade,
    InspectionBand,
    LoanRecommendation,
    MeasureDirection,
    MeasureDomain,
    PenaltyCategory,
    RecordType,
    RepairStatus,
    RiskLevel,
    Scheme,
)
from hub.review import facts as f
from hub.review.measures import Measure as MeasureData
from hub.review.rulebook import Programme
from hub.review.tables import Reason as ReasonData
from resolvers import review as resolve
from resolvers.views import EnterpriseView
from schema.directives import list_size, requires
from schema.types import District, Info

REVIEW_NOTE = (
    " Reviews read through the caller's row rules: a county bureau reviews its "
    "district, other agencies see published grades and penalties inside their "
    "publication window only. asOf defaults to today and may not be later."
)


@strawberry.type(description="The enterprise a review is about.")
class ReviewedEnterprise:
    code: str = strawberry.field(description="统一社会信用代码.")
    name: str
    district: District

    @classmethod
    def of(cls, view: EnterpriseView) -> "ReviewedEnterprise":
        d = view.district
        return cls(
            code=view.code,
            name=view.name,
            district=District(code=d.code, name=d.name, name_en=d.name_en),
        )


@strawberry.type(description="A record behind a reason, for an auditor to follow.")
class Citation:
    type: RecordType
    id: strawberry.ID


@strawberry.type(description="One step of a decision: what held, and what it asks for.")
class ReviewReason:
    code: str = strawberry.field(description="The rule's code in the policy file.")
    label: str = strawberry.field(description="Chinese label.")
    outcome: str = strawberry.field(
        description="The outcome this step asks for at least, on the decision's scale."
    )
    citations: list[Citation] = strawberry.field(directives=list_size(2))

    @classmethod
    def of(cls, r: ReasonData[Any]) -> "ReviewReason":
        cited = [Citation(type=c.type, id=strawberry.ID(c.id)) for c in r.citations]
        return cls(code=r.code, label=r.label, outcome=r.outcome.value, citations=cited)


@strawberry.type(description="A reward or punishment measure (奖惩措施).")
class Measure:
    code: str
    direction: MeasureDirection
    domain: MeasureDomain
    schemes: list[Scheme]
    grades: list[Grade]
    agency_kinds: list[str] = strawberry.field(
        description="Kinds of agency that apply it."
    )
    zh: str
    en: str
    legal_source: str
    effective_from: date
    effective_to: date | None

    @classmethod
    def of(cls, m: MeasureData) -> "Measure":
        return _measure(m)

    @classmethod
    def build(cls, m: MeasureData) -> "Measure":
        return cls(
            code=m.code,
            direction=m.direction,
            domain=m.domain,
            schemes=sorted(m.schemes, key=lambda s: s.value),
            grades=[g for g in Grade if g in m.grades],
            agency_kinds=sorted(k.value for k in m.agency_kinds),
            zh=m.zh,
            en=m.en,
            legal_source=m.legal_source,
            effective_from=m.effective_from,
            effective_to=m.effective_to,
        )


@functools.lru_cache(maxsize=256)
def _measure(m: MeasureData) -> Measure:
    """Measures are policy, the same in every review: converted once."""
    return Measure.build(m)


@strawberry.type(description="The published grade in force on the review date.")
class ReviewGrade:
    rating_id: strawberry.ID
    scheme: Scheme
    grade: Grade
    valid_from: date
    valid_to: date | None


@strawberry.type(description="A penalty decision inside its publication window.")
class ReviewPenalty:
    id: strawberry.ID
    decision_number: str
    decision_date: date
    categories: list[PenaltyCategory]
    publication_end_date: date


@strawberry.type(description="An event a rating scheme's veto rule selects (一票否决).")
class VetoEvent:
    id: strawberry.ID
    kind: EventKind
    occurred_on: date
    rule_code: str
    rule_label: str


@strawberry.type(description="The latest HJ 941 assessment made by the review date.")
class ReviewRisk:
    assessment_id: strawberry.ID
    level: RiskLevel
    assessed_on: date
    emergency_plan_filed: bool = strawberry.field(
        description="An emergency plan (应急预案) was filed by the review date."
    )


@strawberry.type(description="A credit repair application not yet decided.")
class ReviewRepair:
    application_id: strawberry.ID
    status: RepairStatus
    applied_on: date


@strawberry.type(description="A subsidy programme with its own benchmark rules.")
class SubsidyProgramme:
    code: str
    name: str


@strawberry.type(
    description="One decision for one enterprise, purpose and day, with the facts "
    "that matter, the measures that apply and a reason for every step."
)
class CreditReview:
    enterprise: ReviewedEnterprise
    as_of: date
    purpose: Purpose
    grade: ReviewGrade | None = strawberry.field(
        description="Null: no published grade of the official scheme in force."
    )
    penalties: list[ReviewPenalty] = strawberry.field(directives=list_size(5))
    veto_events: list[VetoEvent] = strawberry.field(directives=list_size(2))
    risk: ReviewRisk | None
    compulsory_insurance: bool = strawberry.field(
        description="On the compulsory 环责险 list for the review date's year."
    )
    insurance_policy_id: strawberry.ID | None = strawberry.field(
        description="The policy covering the review date, if any."
    )
    compulsory_insurance_missing: bool
    open_repair: ReviewRepair | None
    loan: LoanRecommendation | None = strawberry.field(
        description="For LOAN_APPROVAL and POST_LOAN_MONITORING."
    )
    inspection: InspectionBand | None = strawberry.field(description="For SUPERVISION.")
    subsidy: Eligibility | None = strawberry.field(description="For SUBSIDY_REVIEW.")
    programme: SubsidyProgramme | None
    reasons: list[ReviewReason] = strawberry.field(
        directives=list_size(6),
        description="The grade's step first, then every rule that held.",
    )
    measures: list[Measure] = strawberry.field(
        directives=list_size(6),
        description="Measures for the grade in force that the caller's agency "
        "applies, in the purpose's domains.",
    )
    policy_version: str

    @classmethod
    def of(cls, result: resolve.ReviewResult) -> "CreditReview":
        r = result.review
        facts = r.facts
        g = facts.grade
        risk = facts.risk
        repair = facts.open_repair
        return cls(
            enterprise=ReviewedEnterprise.of(result.enterprise),
            as_of=facts.as_of,
            purpose=r.purpose,
            grade=ReviewGrade(
                rating_id=strawberry.ID(str(g.rating_id)),
                scheme=g.scheme,
                grade=g.grade,
                valid_from=g.valid_from,
                valid_to=g.valid_to,
            )
            if g
            else None,
            penalties=[_penalty(p) for p in facts.penalties],
            veto_events=[_veto(v) for v in facts.vetoes],
            risk=ReviewRisk(
                assessment_id=strawberry.ID(str(risk.id)),
                level=risk.level,
                assessed_on=risk.assessed_on,
                emergency_plan_filed=risk.plan_filed,
            )
            if risk
            else None,
            compulsory_insurance=facts.compulsory_insurance,
            insurance_policy_id=strawberry.ID(str(facts.policy_in_force))
            if facts.policy_in_force is not None
            else None,
            compulsory_insurance_missing=facts.insurance_missing,
            open_repair=ReviewRepair(
                application_id=strawberry.ID(str(repair.id)),
                status=repair.status,
                applied_on=repair.applied_on,
            )
            if repair
            else None,
            loan=r.loan.outcome if r.loan else None,
            inspection=r.inspection.outcome if r.inspection else None,
            subsidy=r.subsidy.outcome if r.subsidy else None,
            programme=programme_of(r.programme) if r.programme else None,
            reasons=[ReviewReason.of(x) for x in r.decision.reasons],
            measures=[Measure.of(m) for m in r.measures],
            policy_version=r.policy_version,
        )


def _penalty(p: f.PublishedPenalty) -> ReviewPenalty:
    return ReviewPenalty(
        id=strawberry.ID(str(p.id)),
        decision_number=p.decision_number,
        decision_date=p.decision_date,
        categories=list(p.categories),
        publication_end_date=p.publication_end_date,
    )


def _veto(v: f.VetoEvent) -> VetoEvent:
    return VetoEvent(
        id=strawberry.ID(str(v.id)),
        kind=v.kind,
        occurred_on=v.occurred_on,
        rule_code=v.rule_code,
        rule_label=v.rule_label,
    )


def programme_of(p: Programme) -> SubsidyProgramme:
    return SubsidyProgramme(code=p.code, name=p.name)


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        directives=list_size(25),
        description="Reward and punishment measures in effect on asOf (today by "
        "default), optionally for one scheme, grade and domain. Public policy.",
    )
    def measures(
        self,
        info: Info,
        scheme: Scheme | None = None,
        grade: Grade | None = None,
        domain: MeasureDomain | None = None,
        as_of: date | None = None,
    ) -> list[Measure]:
        found = resolve.list_measures(
            info.context, scheme=scheme, grade=grade, domain=domain, as_of=as_of
        )
        return [Measure.of(m) for m in found]

    @strawberry.field(
        directives=requires(Scope.credit_review),
        description="The credit review of one enterprise for a purpose, or null "
        "if the code is unknown or hidden. `programme` applies to SUBSIDY_REVIEW."
        + REVIEW_NOTE,
    )
    async def credit_review(
        self,
        info: Info,
        code: str,
        purpose: Purpose,
        as_of: date | None = None,
        programme: str | None = None,
    ) -> CreditReview | None:
        found = await resolve.get_credit_reviews(
            info.context,
            [code],
            purpose=purpose,
            as_of=as_of,
            programme=programme,
            field="code",
        )
        return CreditReview.of(found[0]) if found[0] else None

    @strawberry.field(
        directives=requires(Scope.credit_review),
        description="Up to 1,000 credit reviews, in input order, null for unknown "
        "or hidden codes (TOO_MANY_CODES beyond)." + REVIEW_NOTE,
    )
    async def credit_reviews(
        self,
        info: Info,
        codes: list[str],
        purpose: Purpose,
        as_of: date | None = None,
        programme: str | None = None,
    ) -> list[CreditReview | None] | None:
        found = await resolve.get_credit_reviews(
            info.context,
            codes,
            purpose=purpose,
            as_of=as_of,
            programme=programme,
            field="codes",
        )
        return [CreditReview.of(r) if r else None for r in found]
