"""evaluate and publish: runs, transitions, objections, repair; REVIEWED status

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_CHECK = "status IN ({})"
OLD_STATUSES = (
    "'DRAFT', 'PRELIMINARY', 'IN_PUBLIC_NOTICE', 'FINAL', 'REPAIRED', 'REVOKED'"
)
NEW_STATUSES = (
    "'DRAFT', 'PRELIMINARY', 'REVIEWED', 'IN_PUBLIC_NOTICE', 'FINAL', 'REPAIRED', "
    "'REVOKED'"
)


def upgrade() -> None:
    op.create_table(
        "evaluation_run",
        sa.Column("id", sa.Integer(), nullable=False),
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
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("not_rated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_evaluation_run_agency_id_agency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_run")),
    )
    op.create_table(
        "objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filer_name", sa.String(length=200), nullable=False),
        sa.Column("filer_contact", sa.String(length=200), nullable=True),
        sa.Column("filer_client_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "UPHELD",
                "REJECTED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["credit_rating.id"],
            name=op.f("fk_objection_rating_id_credit_rating"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
    )
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_objection_rating", ["rating_id", "status"], unique=False
        )

    op.create_table(
        "rating_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "DRAFT",
                "PRELIMINARY",
                "REVIEWED",
                "IN_PUBLIC_NOTICE",
                "FINAL",
                "REPAIRED",
                "REVOKED",
                name="from_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "DRAFT",
                "PRELIMINARY",
                "REVIEWED",
                "IN_PUBLIC_NOTICE",
                "FINAL",
                "REPAIRED",
                "REVOKED",
                name="to_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_grade",
            sa.Enum(
                "GREEN",
                "BLUE",
                "YELLOW",
                "RED",
                "BLACK",
                name="from_grade",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_grade",
            sa.Enum(
                "GREEN",
                "BLUE",
                "YELLOW",
                "RED",
                "BLACK",
                name="to_grade",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_rating_transition_agency_id_agency"),
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["credit_rating.id"],
            name=op.f("fk_rating_transition_rating_id_credit_rating"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_transition")),
    )
    with op.batch_alter_table("rating_transition", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rating_transition_rating", ["rating_id", "at"], unique=False
        )

    op.create_table(
        "repair_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applicant", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "APPLIED",
                "DISTRICT_AGREED",
                "IN_PUBLIC_NOTICE",
                "DONE",
                "REFUSED",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("district_opinion", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("notice_until", sa.Date(), nullable=True),
        sa.Column("refusal_rule", sa.String(length=40), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("result_rating_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_repair_application_enterprise_id_enterprise"),
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["credit_rating.id"],
            name=op.f("fk_repair_application_rating_id_credit_rating"),
        ),
        sa.ForeignKeyConstraint(
            ["result_rating_id"],
            ["credit_rating.id"],
            name=op.f("fk_repair_application_result_rating_id_credit_rating"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_application")),
    )
    with op.batch_alter_table("repair_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_repair_application_enterprise", ["enterprise_id"], unique=False
        )

    with op.batch_alter_table("credit_rating", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "basis",
                sa.Enum(
                    "EVALUATION",
                    "DOWNGRADE",
                    "DYNAMIC",
                    "REPAIR",
                    name="basis",
                    native_enum=False,
                    create_constraint=True,
                    length=40,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("explanation", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("veto", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("notice_until", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("published_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_credit_rating_run_id"), ["run_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_credit_rating_run_id_evaluation_run"),
            "evaluation_run",
            ["run_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_credit_rating_supersedes_id_credit_rating"),
            "credit_rating",
            ["supersedes_id"],
            ["id"],
        )
        # The status vocabulary gains REVIEWED (复核).
        batch_op.drop_constraint(batch_op.f("ck_credit_rating_status"), type_="check")
        batch_op.create_check_constraint("status", STATUS_CHECK.format(NEW_STATUSES))


def downgrade() -> None:
    with op.batch_alter_table("credit_rating", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_credit_rating_status"), type_="check")
        batch_op.create_check_constraint("status", STATUS_CHECK.format(OLD_STATUSES))
        batch_op.drop_constraint(
            batch_op.f("fk_credit_rating_supersedes_id_credit_rating"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_credit_rating_run_id_evaluation_run"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_credit_rating_run_id"))
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("published_at")
        batch_op.drop_column("notice_until")
        batch_op.drop_column("veto")
        batch_op.drop_column("explanation")
        batch_op.drop_column("run_id")
        batch_op.drop_column("basis")

    with op.batch_alter_table("repair_application", schema=None) as batch_op:
        batch_op.drop_index("ix_repair_application_enterprise")

    op.drop_table("repair_application")
    with op.batch_alter_table("rating_transition", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_transition_rating")

    op.drop_table("rating_transition")
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index("ix_objection_rating")

    op.drop_table("objection")
    op.drop_table("evaluation_run")
