"""ORM models: the enterprise register and the four shared datasets.

Every fact that changes over time carries its validity (valid_from/valid_to,
assessed_on, policy periods) so the hub can answer "as of" a date.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum as PyEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.coltypes import Money, ScaledDecimal, UTCDateTime
from hub.enums import (
    AgencyKind,
    BatchSource,
    Dataset,
    EClass,
    EmergencyLevel,
    EnterpriseStatus,
    EventKind,
    FeedDataset,
    Grade,
    MClass,
    ObjectionStatus,
    PenaltyStatus,
    PolicyStatus,
    QClass,
    RatingBasis,
    RatingStatus,
    RepairStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from hub.webhooks.delivery import DeliveryStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_column(enum: type[PyEnum], column: str) -> Enum:
    """Store enum names as VARCHAR with a CHECK, identical on both databases.

    The CHECK is named after the column: one table may hold the same enum twice.
    """
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=40,
        validate_strings=True,
        name=column,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class District(Base):
    """GB/T 2260 division; abolished codes keep their validity and successor."""

    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor_code: Mapped[str | None] = mapped_column(String(6))

    def __repr__(self) -> str:
        return f"District({self.code!r}, {self.name!r})"


class Enterprise(Base):
    """A supervised enterprise; the credit code is the business key."""

    __tablename__ = "enterprise"
    __table_args__ = (
        # Substring search on names (resolvers/name_search.py). SQLite's index
        # is an FTS5 table with triggers, made by migration 0010, not a model.
        Index(
            "ix_enterprise_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    industry_code: Mapped[str] = mapped_column(String(5))
    supervision_category: Mapped[SupervisionCategory] = mapped_column(
        enum_column(SupervisionCategory, "supervision_category")
    )
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[EnterpriseStatus] = mapped_column(
        enum_column(EnterpriseStatus, "status")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"Enterprise({self.code!r}, {self.name!r})"


class CreditRating(Base):
    """One grade decision; never overwritten (a change is a new row)."""

    __tablename__ = "credit_rating"
    __table_args__ = (
        Index("ix_credit_rating_enterprise_scheme", "enterprise_id", "scheme"),
        Index("ix_credit_rating_year_grade", "year", "grade"),
        CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="valid_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    scheme: Mapped[Scheme] = mapped_column(enum_column(Scheme, "scheme"))
    year: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[Grade] = mapped_column(enum_column(Grade, "grade"))
    score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(1))
    status: Mapped[RatingStatus] = mapped_column(enum_column(RatingStatus, "status"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    basis: Mapped[RatingBasis | None] = mapped_column(enum_column(RatingBasis, "basis"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluation_run.id"), index=True
    )
    # The scoring explanation: each rule, its points and the records behind it.
    explanation: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    veto: Mapped[str | None] = mapped_column(String(40))
    notice_until: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The decision this one replaces (a downgrade, a repair).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("credit_rating.id"))

    def __repr__(self) -> str:
        return (
            f"CreditRating({self.enterprise_id}, {self.scheme.name}, {self.grade.name})"
        )


class EvaluationRun(Base):
    """One evaluation of the listed enterprises under one scheme version."""

    __tablename__ = "evaluation_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme: Mapped[Scheme] = mapped_column(enum_column(Scheme, "scheme"))
    policy_version: Mapped[str] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    listed: Mapped[int] = mapped_column(Integer)
    rated: Mapped[int] = mapped_column(Integer)
    not_rated: Mapped[int] = mapped_column(Integer)
    # Listed but not rated (closed, suspended): enterprise id -> reason.
    skipped: Mapped[dict[str, str]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"EvaluationRun({self.id}, {self.scheme.name}, {self.year})"


class RatingTransition(Base):
    """Every change of a grade decision: status or grade, who, when and why."""

    __tablename__ = "rating_transition"
    __table_args__ = (Index("ix_rating_transition_rating", "rating_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_rating.id"))
    from_status: Mapped[RatingStatus | None] = mapped_column(
        enum_column(RatingStatus, "from_status")
    )
    to_status: Mapped[RatingStatus] = mapped_column(
        enum_column(RatingStatus, "to_status")
    )
    from_grade: Mapped[Grade | None] = mapped_column(enum_column(Grade, "from_grade"))
    to_grade: Mapped[Grade] = mapped_column(enum_column(Grade, "to_grade"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    request_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"RatingTransition({self.rating_id}, {self.to_status.name})"


class Objection(Base):
    """An objection (异议) to a grade in public notice."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_rating", "rating_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_rating.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filer_name: Mapped[str] = mapped_column(String(200))
    filer_contact: Mapped[str | None] = mapped_column(String(200))
    filer_client_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(
        enum_column(ObjectionStatus, "status")
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"Objection({self.rating_id}, {self.status.name})"


class RepairApplication(Base):
    """A credit repair application (信用修复申请) and its way through the bureau."""

    __tablename__ = "repair_application"
    __table_args__ = (Index("ix_repair_application_enterprise", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    rating_id: Mapped[int] = mapped_column(ForeignKey("credit_rating.id"))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applicant: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[RepairStatus] = mapped_column(enum_column(RepairStatus, "status"))
    district_opinion: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)  # the city's
    notice_until: Mapped[date | None] = mapped_column(Date)
    refusal_rule: Mapped[str | None] = mapped_column(String(40))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    result_rating_id: Mapped[int | None] = mapped_column(ForeignKey("credit_rating.id"))

    def __repr__(self) -> str:
        return f"RepairApplication({self.enterprise_id}, {self.status.name})"


class PenaltyDecision(Base):
    """Administrative penalty decision (行政处罚决定, 双公示 fields)."""

    __tablename__ = "penalty_decision"
    __table_args__ = (
        UniqueConstraint(
            "authority_code", "decision_number_key", name="uq_penalty_decision_number"
        ),
        Index("ix_penalty_decision_enterprise", "enterprise_id", "decision_date"),
        CheckConstraint("fine_amount >= 0", name="fine_not_negative"),
        CheckConstraint("confiscation_amount >= 0", name="confiscation_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    decision_number: Mapped[str] = mapped_column(String(100))
    decision_number_key: Mapped[str] = mapped_column(String(100))
    categories: Mapped[list[str]] = mapped_column(JSON)
    violation_type: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    fine_amount: Mapped[Decimal] = mapped_column(Money())
    confiscation_amount: Mapped[Decimal] = mapped_column(Money())
    decision_date: Mapped[date] = mapped_column(Date)
    authority_name: Mapped[str] = mapped_column(String(200))
    authority_code: Mapped[str] = mapped_column(String(18))
    publication_end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[PenaltyStatus] = mapped_column(enum_column(PenaltyStatus, "status"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"PenaltyDecision({self.decision_number!r})"


class RiskAssessment(Base):
    """HJ 941-2018 emergency-risk classification of one enterprise."""

    __tablename__ = "risk_assessment"
    __table_args__ = (
        UniqueConstraint(
            "enterprise_id", "assessed_on", name="uq_risk_assessment_enterprise_date"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    overall_level: Mapped[RiskLevel] = mapped_column(
        enum_column(RiskLevel, "overall_level")
    )
    air_level: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "air_level")
    )
    air_q: Mapped[QClass | None] = mapped_column(enum_column(QClass, "air_q"))
    air_m: Mapped[MClass | None] = mapped_column(enum_column(MClass, "air_m"))
    air_e: Mapped[EClass | None] = mapped_column(enum_column(EClass, "air_e"))
    water_level: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "water_level")
    )
    water_q: Mapped[QClass | None] = mapped_column(enum_column(QClass, "water_q"))
    water_m: Mapped[MClass | None] = mapped_column(enum_column(MClass, "water_m"))
    water_e: Mapped[EClass | None] = mapped_column(enum_column(EClass, "water_e"))
    level_string: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    plan_filing_number: Mapped[str | None] = mapped_column(String(100))
    plan_filed_on: Mapped[date | None] = mapped_column(Date)
    filing_authority: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"RiskAssessment({self.enterprise_id}, {self.overall_level.name})"


class InsurancePolicy(Base):
    """Environmental pollution liability insurance policy (环责险保单)."""

    __tablename__ = "insurance_policy"
    __table_args__ = (
        UniqueConstraint("insurer_code", "policy_number", name="uq_insurance_policy"),
        Index("ix_insurance_policy_enterprise", "enterprise_id", "start_date"),
        CheckConstraint("end_date >= start_date", name="valid_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    insurer_name: Mapped[str] = mapped_column(String(200))
    insurer_code: Mapped[str] = mapped_column(String(18))
    policy_number: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    cumulative_limit: Mapped[Decimal] = mapped_column(Money())
    per_accident_limit: Mapped[Decimal] = mapped_column(Money())
    premium: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[PolicyStatus] = mapped_column(enum_column(PolicyStatus, "status"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"InsurancePolicy({self.policy_number!r})"


class AnnualEmission(Base):
    """Annual emissions of the main pollutants (主要污染物年排放量), in tonnes.

    A pollutant the enterprise does not report is NULL, not zero.
    """

    __tablename__ = "annual_emission"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "year", name="uq_annual_emission"),
        Index("ix_annual_emission_year", "year"),
        CheckConstraint(
            "cod >= 0 AND ammonia_nitrogen >= 0 AND so2 >= 0 AND nox >= 0",
            name="not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    # Tonnes to the kilogram, stored as integer kilograms.
    cod: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    ammonia_nitrogen: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    so2: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    nox: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"AnnualEmission({self.enterprise_id}, {self.year})"


class EnvironmentalEvent(Base):
    """An inspection finding, emergency, court ruling or credit commitment.

    `reference` is the document number (文书编号); with the authority and the
    kind it is the business key, matched by its canonical form.
    """

    __tablename__ = "environmental_event"
    __table_args__ = (
        UniqueConstraint(
            "authority_code",
            "kind",
            "reference_key",
            name="uq_environmental_event_reference",
        ),
        Index("ix_environmental_event_enterprise", "enterprise_id", "occurred_on"),
        CheckConstraint(
            "valid_until IS NULL OR valid_until >= occurred_on", name="valid_period"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "kind"))
    reference: Mapped[str] = mapped_column(String(100))
    reference_key: Mapped[str] = mapped_column(String(100))
    occurred_on: Mapped[date] = mapped_column(Date)
    authority_name: Mapped[str] = mapped_column(String(200))
    authority_code: Mapped[str] = mapped_column(String(18))
    severity: Mapped[EmergencyLevel | None] = mapped_column(
        enum_column(EmergencyLevel, "severity")
    )
    violation_code: Mapped[str | None] = mapped_column(String(40))
    criminal: Mapped[bool | None] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("collection_batch.id"))

    def __repr__(self) -> str:
        return f"EnvironmentalEvent({self.kind.name}, {self.reference!r})"


class CollectionBatch(Base):
    """One write: a mutation, an uploaded file or a `hub import`; who, what, counts.

    Written in the same transaction as the records it created or changed, so
    every stored record can be traced to the batch that last wrote it.
    """

    __tablename__ = "collection_batch"
    __table_args__ = (Index("ix_collection_batch_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[Dataset] = mapped_column(enum_column(Dataset, "dataset"))
    source: Mapped[BatchSource] = mapped_column(enum_column(BatchSource, "source"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"CollectionBatch({self.id}, {self.dataset.name}, {self.source.name})"


class RecordHistory(Base):
    """A record's values before a correction overwrote them; nothing is lost."""

    __tablename__ = "record_history"
    __table_args__ = (Index("ix_record_history_record", "dataset", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[Dataset] = mapped_column(enum_column(Dataset, "dataset"))
    record_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(ForeignKey("collection_batch.id"))
    previous: Mapped[dict[str, object]] = mapped_column(JSON)
    changed: Mapped[list[str]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"RecordHistory({self.dataset.name}, {self.record_id})"


class CompulsoryInsurance(Base):
    """The enterprise is on the compulsory-insurance list (应投保名单) for a year."""

    __tablename__ = "compulsory_insurance"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)

    def __repr__(self) -> str:
        return f"CompulsoryInsurance({self.enterprise_id}, {self.year})"


class Agency(Base):
    """An organisation that queries the hub; county bureaus carry their district."""

    __tablename__ = "agency"
    __table_args__ = (
        CheckConstraint(
            "kind <> 'COUNTY_EPB' OR district_code IS NOT NULL",
            name="county_has_district",
        ),
        CheckConstraint(
            "kind <> 'ENTERPRISE' OR enterprise_code IS NOT NULL",
            name="enterprise_has_code",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind, "kind"))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    enterprise_code: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"Agency({self.name!r}, {self.kind.name})"


class OAuthClient(Base):
    """OAuth 2 client credentials of an agency; only a hash of the secret is kept."""

    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    jwks: Mapped[dict[str, object] | None] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Only registered documents (PersistedOperation), never a raw query.
    persisted_only: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    def __repr__(self) -> str:
        return f"OAuthClient({self.client_id!r})"


class PersistedOperation(Base):
    """A document staff registered for one client; its id is the SHA-256 of its text.

    Immutable: a changed document is a new row (a new id), so callers may cache
    by id; removal deletes the row.
    """

    __tablename__ = "persisted_operation"
    __table_args__ = (
        UniqueConstraint(
            "client_id", "sha256", name="uq_persisted_operation_client_sha256"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_client.client_id"))
    sha256: Mapped[str] = mapped_column(String(64))  # lowercase hex of the UTF-8 text
    document: Mapped[str] = mapped_column(Text)
    operation_names: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"PersistedOperation({self.client_id!r}, {self.sha256[:12]!r})"


class RevokedToken(Base):
    """A revoked access token (RFC 7009), kept until it would have expired."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"RevokedToken({self.jti!r})"


class ExternalClient(Base):
    """A client of an external issuer (e.g. the province's identity provider)."""

    __tablename__ = "external_client"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_external_client_subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    scopes: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"ExternalClient({self.issuer!r}, {self.subject!r})"


class ChangeEvent(Base):
    """One published change, in the order of commit: the change feed.

    `seq` is taken under the lock on change_head's row, held until the
    writing transaction commits, so sequence order is commit order: a reader
    that has seen seq n has seen every event below n.
    """

    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_enterprise", "enterprise_code", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    dataset: Mapped[FeedDataset] = mapped_column(enum_column(FeedDataset, "dataset"))
    kind: Mapped[str] = mapped_column(String(30))
    enterprise_code: Mapped[str] = mapped_column(String(18))
    district_code: Mapped[str] = mapped_column(String(6))
    record_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"ChangeEvent({self.seq}, {self.dataset.name}, {self.kind})"


class ChangeHead(Base):
    """The feed's last seq (one row, id 1); its row lock orders the writers."""

    __tablename__ = "change_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"ChangeHead({self.seq})"


class WatchedEnterprise(Base):
    """An enterprise on an agency's watchlist (a bank's borrowers, 贷后监测)."""

    __tablename__ = "watched_enterprise"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    enterprise_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"WatchedEnterprise({self.agency_id}, {self.enterprise_code!r})"


class AuditEntry(Base):
    """One audited request, chained: `hash` = SHA-256(prev_hash + canonical entry)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_client", "client_id", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    latency_ms: Mapped[int] = mapped_column(Integer)
    client_address: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(Integer)
    agency_name: Mapped[str | None] = mapped_column(String(200))
    agency_kind: Mapped[str | None] = mapped_column(String(40))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(40))
    case_ref: Mapped[str | None] = mapped_column(String(100))
    # Client-chosen and unbounded: Text, so no name can make a batch fail.
    operation_name: Mapped[str | None] = mapped_column(Text)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    variables: Mapped[dict[str, object]] = mapped_column(JSON)
    enterprises: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)
    denied: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(60))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"AuditEntry({self.seq}, {self.outcome})"


class AuditEnterprise(Base):
    """Index of which entries returned which enterprise (for "who looked at me")."""

    __tablename__ = "audit_enterprise"
    # By seq: pruning deletes ranges. No foreign key to audit_entry: only the
    # writer inserts, beside the entry, and a per-row check cost more than the
    # row (migration 0011).
    __table_args__ = (Index("ix_audit_enterprise_seq", "seq"),)

    enterprise_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    def __repr__(self) -> str:
        return f"AuditEnterprise({self.enterprise_code!r}, {self.seq})"


class AuditHead(Base):
    """The chain's newest entry; its row lock serialises writers across workers.

    One row (id 1). `pruned_before` is the first seq kept after pruning (0: none
    pruned); `checkpoint_seq`/`checkpoint_at` name the newest signed checkpoint,
    read under the same lock so workers agree when the next one is due.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    pruned_before: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"AuditHead({self.seq})"


class AuditCheckpoint(Base):
    """A signed statement of the chain's head, also written outside the database."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kid: Mapped[str] = mapped_column(String(100))
    signature: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"AuditCheckpoint({self.seq})"


class WebhookEndpoint(Base):
    """Where an agency's change-feed events are POSTed, and how far they got.

    `cursor_seq`: every event up to it is done for this endpoint (delivered,
    dead-lettered, or not meant for it). It moves only after a 2xx or a dead
    letter, so a crash resends an event and never skips one. `scopes` are the
    registering token's; deliveries use them intersected with its client's
    current ones. The retry state (failing_seq ... next_attempt_at) is the
    event now failing; the lease keeps two dispatchers off one endpoint.
    """

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2048))
    secret_sealed: Mapped[str] = mapped_column(Text)
    datasets: Mapped[list[str] | None] = mapped_column(JSON)
    kinds: Mapped[list[str] | None] = mapped_column(JSON)
    watchlist_only: Mapped[bool] = mapped_column(Boolean)
    cursor_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_seq: Mapped[int | None] = mapped_column(BigInteger)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"WebhookEndpoint({self.id}, cursor={self.cursor_seq})"


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint (the delivery log)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    webhook_id: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean)  # redeliverWebhook
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "status")
    )
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"WebhookDelivery({self.id}, seq={self.seq}, {self.status.name})"
