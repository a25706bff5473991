"""watchlists: the enterprises an agency follows

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watched_enterprise",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_code", sa.String(length=18), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_watched_enterprise_agency_id_agency"),
        ),
        sa.PrimaryKeyConstraint(
            "agency_id", "enterprise_code", name=op.f("pk_watched_enterprise")
        ),
    )


def downgrade() -> None:
    op.drop_table("watched_enterprise")
