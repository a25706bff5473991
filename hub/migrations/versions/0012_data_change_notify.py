"""notify hub_data_changed when a write to a data table commits

Revision ID: 0012
Revises: 0011

Each worker keeps answers of queries until the data changes
(hub/response_cache.py), and learns of changes by LISTENing on the channel
`hub_data_changed` (hub/data_version.py). A statement-level trigger on every
table an answer can come from sends the notification; PostgreSQL delivers it
when the transaction commits (never for one rolled back) and sends one per
transaction however many statements fire it. The audit tables and the
webhook delivery log are written on every request or delivery and feed no
cached answer, so they have no trigger (hub.data_version.UNWATCHED).
SQLite has no notifications: the cache is off there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "hub_data_changed"
WATCHED = (
    "district",
    "enterprise",
    "credit_rating",
    "evaluation_run",
    "rating_transition",
    "objection",
    "repair_application",
    "penalty_decision",
    "risk_assessment",
    "insurance_policy",
    "annual_emission",
    "environmental_event",
    "collection_batch",
    "record_history",
    "compulsory_insurance",
    "agency",
    "oauth_client",
    "persisted_operation",
    "revoked_token",
    "external_client",
    "change_event",
    "change_head",
    "watched_enterprise",
    "webhook_endpoint",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{TRIGGER}', '');
            RETURN NULL;
        END $$
        """
    )
    for table in WATCHED:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in WATCHED:
        op.execute(f"DROP TRIGGER {TRIGGER} ON {table}")
    op.execute(f"DROP FUNCTION {TRIGGER}()")
