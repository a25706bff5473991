"""name search: a trigram index on enterprise names (FTS5 on SQLite, pg_trgm on PostgreSQL)

Revision ID: 0010
Revises: 0009

Chinese names have no spaces to split words at, so both indexes cut names into
overlapping three-character pieces, which serve any substring of three
characters or more (resolvers/name_search.py).

SQLite: an external-content FTS5 table holding only the index (the names stay
in `enterprise`), kept in step by triggers as in the FTS5 documentation's
recipe (https://sqlite.org/fts5.html#external_content_tables). A later
batch_alter_table on `enterprise` rebuilds the table and so drops these
triggers: such a migration must create them again (TRIGGERS below).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS = "enterprise_name_fts"
TRIGGERS = {
    f"{FTS}_insert": f"""
CREATE TRIGGER {FTS}_insert AFTER INSERT ON enterprise BEGIN
  INSERT INTO {FTS} (rowid, name) VALUES (new.id, new.name);
END""",
    f"{FTS}_delete": f"""
CREATE TRIGGER {FTS}_delete AFTER DELETE ON enterprise BEGIN
  INSERT INTO {FTS} ({FTS}, rowid, name) VALUES ('delete', old.id, old.name);
END""",
    # Only when the name (or the id) changes: status and address updates
    # leave the index alone.
    f"{FTS}_update": f"""
CREATE TRIGGER {FTS}_update AFTER UPDATE OF id, name ON enterprise BEGIN
  INSERT INTO {FTS} ({FTS}, rowid, name) VALUES ('delete', old.id, old.name);
  INSERT INTO {FTS} (rowid, name) VALUES (new.id, new.name);
END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL (contrib); creating it needs a superuser
        # or a trusted-extension grant (it is trusted since PostgreSQL 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_enterprise_name_trgm",
            "enterprise",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        )
        return
    # Case-insensitive (the tokenizer's default), like LIKE for ASCII letters.
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5("
        "name, content='enterprise', content_rowid='id', tokenize='trigram')"
    )
    op.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('rebuild')")
    for create in TRIGGERS.values():
        op.execute(create)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_enterprise_name_trgm", table_name="enterprise")
        # The hub owns its database: nothing else uses the extension.
        op.execute("DROP EXTENSION IF EXISTS pg_trgm")
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"DROP TABLE {FTS}")
