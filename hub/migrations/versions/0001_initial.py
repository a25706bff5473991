"""enterprise register and shared datasets

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Wuxi divisions as of this revision (domain.md 4.4): code, name, English name,
# valid from, valid to, successor.
DISTRICTS = [
    ("320200", "无锡市", "Wuxi (city level)", None, None, None),
    ("320205", "锡山区", "Xishan District", date(2000, 12, 21), None, None),
    ("320206", "惠山区", "Huishan District", date(2000, 12, 21), None, None),
    ("320211", "滨湖区", "Binhu District", date(2000, 12, 21), None, None),
    ("320213", "梁溪区", "Liangxi District", date(2015, 10, 28), None, None),
    ("320214", "新吴区", "Xinwu District", date(2015, 10, 28), None, None),
    ("320281", "江阴市", "Jiangyin", None, None, None),
    ("320282", "宜兴市", "Yixing", None, None, None),
    ("320202", "崇安区", "Chong'an District", None, date(2015, 10, 27), "320213"),
    ("320203", "南长区", "Nanchang District", None, date(2015, 10, 27), "320213"),
    ("320204", "北塘区", "Beitang District", None, date(2015, 10, 27), "320213"),
]


def upgrade() -> None:
    op.create_table(
        "district",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor_code", sa.String(length=6), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_district")),
    )
    district = sa.table(
        "district",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("valid_from", sa.Date),
        sa.column("valid_to", sa.Date),
        sa.column("successor_code", sa.String),
    )
    op.bulk_insert(
        district,
        [
            dict(
                zip(
                    (
                        "code",
                        "name",
                        "name_en",
                        "valid_from",
                        "valid_to",
                        "successor_code",
                    ),
                    row,
                    strict=True,
                )
            )
            for row in DISTRICTS
        ],
    )
    op.create_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("industry_code", sa.String(length=5), nullable=False),
        sa.Column(
            "supervision_category",
            sa.Enum(
                "NATIONAL_KEY",
                "PROVINCIAL_KEY",
                "CITY_KEY",
                "OTHER",
                name="supervision_category",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("legal_representative", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "OPERATING",
                "SUSPENDED",
                "CLOSED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["district.code"],
            name=op.f("fk_enterprise_district_code_district"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_code")),
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_district_code"), ["district_code"], unique=False
        )

    op.create_table(
        "compulsory_insurance",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_compulsory_insurance_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "year", name=op.f("pk_compulsory_insurance")
        ),
    )
    with op.batch_alter_table("compulsory_insurance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compulsory_insurance_year"), ["year"], unique=False
        )

    op.create_table(
        "credit_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum(
                "JS_ANNUAL_100",
                "JS_DYNAMIC_12",
                "NATIONAL_2013",
                name="scheme",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column(
            "grade",
            sa.Enum(
                "GREEN",
                "BLUE",
                "YELLOW",
                "RED",
                "BLACK",
                name="grade",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "DRAFT",
                "PRELIMINARY",
                "IN_PUBLIC_NOTICE",
                "FINAL",
                "REPAIRED",
                "REVOKED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_credit_rating_valid_period"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_rating_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_rating")),
    )
    with op.batch_alter_table("credit_rating", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_rating_enterprise_scheme",
            ["enterprise_id", "scheme"],
            unique=False,
        )
        batch_op.create_index(
            "ix_credit_rating_year_grade", ["year", "grade"], unique=False
        )

    op.create_table(
        "insurance_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("insurer_name", sa.String(length=200), nullable=False),
        sa.Column("insurer_code", sa.String(length=18), nullable=False),
        sa.Column("policy_number", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("cumulative_limit", sa.BigInteger(), nullable=False),
        sa.Column("per_accident_limit", sa.BigInteger(), nullable=False),
        sa.Column("premium", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "EXPIRED",
                "SURRENDERED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_insurance_policy_valid_period")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_insurance_policy_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_policy")),
        sa.UniqueConstraint(
            "insurer_code", "policy_number", name="uq_insurance_policy"
        ),
    )
    with op.batch_alter_table("insurance_policy", schema=None) as batch_op:
        batch_op.create_index(
            "ix_insurance_policy_enterprise",
            ["enterprise_id", "start_date"],
            unique=False,
        )

    op.create_table(
        "penalty_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("decision_number_key", sa.String(length=100), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("violation_type", sa.String(length=200), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("fine_amount", sa.BigInteger(), nullable=False),
        sa.Column("confiscation_amount", sa.BigInteger(), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("authority_name", sa.String(length=200), nullable=False),
        sa.Column("authority_code", sa.String(length=18), nullable=False),
        sa.Column("publication_end_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "EFFECTIVE",
                "CHANGED",
                "REVOKED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "confiscation_amount >= 0",
            name=op.f("ck_penalty_decision_confiscation_not_negative"),
        ),
        sa.CheckConstraint(
            "fine_amount >= 0", name=op.f("ck_penalty_decision_fine_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_penalty_decision_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_decision")),
        sa.UniqueConstraint(
            "authority_code", "decision_number_key", name="uq_penalty_decision_number"
        ),
    )
    with op.batch_alter_table("penalty_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_penalty_decision_enterprise",
            ["enterprise_id", "decision_date"],
            unique=False,
        )

    op.create_table(
        "risk_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column(
            "overall_level",
            sa.Enum(
                "GENERAL",
                "LARGER",
                "MAJOR",
                name="overall_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "air_level",
            sa.Enum(
                "GENERAL",
                "LARGER",
                "MAJOR",
                name="air_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "air_q",
            sa.Enum(
                "Q0",
                "Q1",
                "Q2",
                "Q3",
                name="air_q",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "air_m",
            sa.Enum(
                "M1",
                "M2",
                "M3",
                "M4",
                name="air_m",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "air_e",
            sa.Enum(
                "E1",
                "E2",
                "E3",
                name="air_e",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "water_level",
            sa.Enum(
                "GENERAL",
                "LARGER",
                "MAJOR",
                name="water_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "water_q",
            sa.Enum(
                "Q0",
                "Q1",
                "Q2",
                "Q3",
                name="water_q",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "water_m",
            sa.Enum(
                "M1",
                "M2",
                "M3",
                "M4",
                name="water_m",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "water_e",
            sa.Enum(
                "E1",
                "E2",
                "E3",
                name="water_e",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("level_string", sa.String(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("plan_filing_number", sa.String(length=100), nullable=True),
        sa.Column("plan_filed_on", sa.Date(), nullable=True),
        sa.Column("filing_authority", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_risk_assessment_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessment")),
    )
    with op.batch_alter_table("risk_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_assessment_enterprise",
            ["enterprise_id", "assessed_on"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_assessment_enterprise")

    op.drop_table("risk_assessment")
    with op.batch_alter_table("penalty_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_penalty_decision_enterprise")

    op.drop_table("penalty_decision")
    with op.batch_alter_table("insurance_policy", schema=None) as batch_op:
        batch_op.drop_index("ix_insurance_policy_enterprise")

    op.drop_table("insurance_policy")
    with op.batch_alter_table("credit_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_rating_year_grade")
        batch_op.drop_index("ix_credit_rating_enterprise_scheme")

    op.drop_table("credit_rating")
    with op.batch_alter_table("compulsory_insurance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compulsory_insurance_year"))

    op.drop_table("compulsory_insurance")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_district_code"))

    op.drop_table("enterprise")
    op.drop_table("district")
