"""audit log: chained entries, enterprise index, head, signed checkpoints

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoint")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("agency_name", sa.String(length=200), nullable=True),
        sa.Column("agency_kind", sa.String(length=40), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("operation_name", sa.Text(), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("enterprises", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("denied", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_audit_entry_client", ["client_id", "at"], unique=False
        )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_before", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_enterprise",
        sa.Column("enterprise_code", sa.String(length=18), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_entry.seq"],
            name=op.f("fk_audit_enterprise_seq_audit_entry"),
        ),
        sa.PrimaryKeyConstraint(
            "enterprise_code", "seq", name=op.f("pk_audit_enterprise")
        ),
    )
    with op.batch_alter_table("audit_enterprise", schema=None) as batch_op:
        batch_op.create_index("ix_audit_enterprise_seq", ["seq"], unique=False)

    # The chain starts empty: seq 0, the genesis hash (hub/audit/canonical.py).
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.BigInteger),
        sa.column("hash", sa.String),
        sa.column("pruned_before", sa.BigInteger),
        sa.column("checkpoint_seq", sa.BigInteger),
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "seq": 0,
                "hash": GENESIS_HASH,
                "pruned_before": 0,
                "checkpoint_seq": 0,
            }
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_enterprise", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_enterprise_seq")

    op.drop_table("audit_enterprise")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_client")
        batch_op.drop_index("ix_audit_entry_at")

    op.drop_table("audit_entry")
    op.drop_table("audit_checkpoint")
