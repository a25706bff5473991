"""collect: batches, record history, emissions, events

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "dataset",
            sa.Enum(
                "ENTERPRISES",
                "PENALTIES",
                "RISK",
                "INSURANCE",
                "EMISSIONS",
                "EVENTS",
                name="dataset",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "MUTATION",
                "UPLOAD",
                "CLI",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_collection_batch_agency_id_agency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_batch")),
    )
    with op.batch_alter_table("collection_batch", schema=None) as batch_op:
        batch_op.create_index("ix_collection_batch_at", ["at"], unique=False)

    op.create_table(
        "record_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "dataset",
            sa.Enum(
                "ENTERPRISES",
                "PENALTIES",
                "RISK",
                "INSURANCE",
                "EMISSIONS",
                "EVENTS",
                name="dataset",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["collection_batch.id"],
            name=op.f("fk_record_history_batch_id_collection_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_history")),
    )
    with op.batch_alter_table("record_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_history_record", ["dataset", "record_id"], unique=False
        )

    op.create_table(
        "annual_emission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cod", sa.BigInteger(), nullable=True),
        sa.Column("ammonia_nitrogen", sa.BigInteger(), nullable=True),
        sa.Column("so2", sa.BigInteger(), nullable=True),
        sa.Column("nox", sa.BigInteger(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "cod >= 0 AND ammonia_nitrogen >= 0 AND so2 >= 0 AND nox >= 0",
            name=op.f("ck_annual_emission_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["collection_batch.id"],
            name=op.f("fk_annual_emission_batch_id_collection_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_annual_emission_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_emission")),
        sa.UniqueConstraint("enterprise_id", "year", name="uq_annual_emission"),
    )
    with op.batch_alter_table("annual_emission", schema=None) as batch_op:
        batch_op.create_index("ix_annual_emission_year", ["year"], unique=False)

    op.create_table(
        "environmental_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "INSPECTION_FINDING",
                "EMERGENCY",
                "COURT_RULING",
                "CREDIT_COMMITMENT",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("reference_key", sa.String(length=100), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("authority_name", sa.String(length=200), nullable=False),
        sa.Column("authority_code", sa.String(length=18), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "GENERAL",
                "LARGER",
                "MAJOR",
                "ESPECIALLY_MAJOR",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("violation_code", sa.String(length=40), nullable=True),
        sa.Column("criminal", sa.Boolean(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= occurred_on",
            name=op.f("ck_environmental_event_valid_period"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["collection_batch.id"],
            name=op.f("fk_environmental_event_batch_id_collection_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_environmental_event_enterprise_id_enterprise"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environmental_event")),
        sa.UniqueConstraint(
            "authority_code",
            "kind",
            "reference_key",
            name="uq_environmental_event_reference",
        ),
    )
    with op.batch_alter_table("environmental_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_environmental_event_enterprise",
            ["enterprise_id", "occurred_on"],
            unique=False,
        )

    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_enterprise_batch_id_collection_batch"),
            "collection_batch",
            ["batch_id"],
            ["id"],
        )

    with op.batch_alter_table("insurance_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_insurance_policy_batch_id_collection_batch"),
            "collection_batch",
            ["batch_id"],
            ["id"],
        )

    with op.batch_alter_table("penalty_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_penalty_decision_batch_id_collection_batch"),
            "collection_batch",
            ["batch_id"],
            ["id"],
        )

    with op.batch_alter_table("risk_assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_risk_assessment_enterprise"))
        batch_op.create_unique_constraint(
            "uq_risk_assessment_enterprise_date", ["enterprise_id", "assessed_on"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_risk_assessment_batch_id_collection_batch"),
            "collection_batch",
            ["batch_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_assessment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_risk_assessment_batch_id_collection_batch"),
            type_="foreignkey",
        )
        batch_op.drop_constraint("uq_risk_assessment_enterprise_date", type_="unique")
        batch_op.create_index(
            batch_op.f("ix_risk_assessment_enterprise"),
            ["enterprise_id", "assessed_on"],
            unique=False,
        )
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("penalty_decision", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_penalty_decision_batch_id_collection_batch"),
            type_="foreignkey",
        )
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("insurance_policy", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_insurance_policy_batch_id_collection_batch"),
            type_="foreignkey",
        )
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_enterprise_batch_id_collection_batch"), type_="foreignkey"
        )
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("environmental_event", schema=None) as batch_op:
        batch_op.drop_index("ix_environmental_event_enterprise")

    op.drop_table("environmental_event")
    with op.batch_alter_table("annual_emission", schema=None) as batch_op:
        batch_op.drop_index("ix_annual_emission_year")

    op.drop_table("annual_emission")
    with op.batch_alter_table("record_history", schema=None) as batch_op:
        batch_op.drop_index("ix_record_history_record")

    op.drop_table("record_history")
    with op.batch_alter_table("collection_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_batch_at")

    op.drop_table("collection_batch")
