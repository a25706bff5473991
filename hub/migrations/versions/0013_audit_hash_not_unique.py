"""audit entries without a unique index on their hash

Revision ID: 0013
Revises: 0012

Every audited request writes one entry, and the unique index on `hash` (a
SHA-256 in hex: random, 64 characters) was the dearest part of it on
PostgreSQL: groups of 32 entries cost 48-55 µs of server CPU per entry with
it, 30-35 µs without (bench/, BENCHMARKS.md). Nothing looks an entry up by
its hash, and the index guarded nothing the chain does not: `seq` is the
primary key and the writer holds the head's lock, so the chain cannot fork,
and a hash covers its entry's seq and the previous hash, so two equal hashes
would mean a broken SHA-256. `hub audit verify` recomputes every hash in
order either way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE = "uq_audit_entry_hash"


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_unique_constraint(UNIQUE, ["hash"])
