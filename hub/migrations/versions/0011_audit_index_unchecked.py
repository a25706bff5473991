"""audit index without a foreign key: one cheap row per enterprise returned

Revision ID: 0011
Revises: 0010

`audit_enterprise` gets one row per enterprise an audited request returned
(a batch of 1,000 codes: 1,000 rows). PostgreSQL checked its foreign key to
`audit_entry` with a trigger per row, which cost more than the row itself
(100,000 index rows: 1.6 s with the key, 1.0 s without, on this project's
machine). Only the audit writer inserts these rows, in the same transaction
as their entry, and pruning deletes both together (hub/audit/), so the key
guarded nothing the writer does not already guarantee.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_audit_enterprise_seq_audit_entry"


def upgrade() -> None:
    with op.batch_alter_table("audit_enterprise", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("audit_enterprise", schema=None) as batch_op:
        batch_op.create_foreign_key(FK, "audit_entry", ["seq"], ["seq"])
