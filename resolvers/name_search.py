"""Substring search on enterprise names, served by a trigram index on both databases.

Chinese names have no spaces to split into words, so the index holds every
three-character piece of every name (migration 0010): on PostgreSQL a GIN
index with pg_trgm's `gin_trgm_ops`, which serves `ILIKE '%text%'` itself; on
SQLite an FTS5 table with the trigram tokenizer, which a quoted phrase turns
into a substring match. Either index can only find texts of three characters
or more. Shorter ones (无锡, 化工: common in Chinese) are a scan, which stops
early when they are common and is short for 100,000 names (BENCHMARKS.md).

Both databases answer the same question: names containing the text, `%`, `_`
and `\\` taken literally, ASCII letters in any case. On SQLite the FTS5 table
only narrows the rows down and LIKE decides, as PostgreSQL rechecks what its
index found, so a search means the same whatever its length.
"""

import unicodedata

from sqlalchemy import Integer, String, and_, column, literal, select, table

from hub.models import Enterprise
from resolvers.access import AnySelect
from resolvers.errors import BadUserInput

MAX_LENGTH = 100
# The shortest text a trigram index can find.
INDEXED_LENGTH = 3

# SQLite's external-content FTS5 table: rowid is enterprise.id (migration 0010).
_FTS = table("enterprise_name_fts", column("rowid", Integer), column("name", String))


def search_text(raw: str | None, *, field: str) -> str | None:
    """The text to look for, trimmed; None (no filter) when blank.

    More than MAX_LENGTH characters is BAD_USER_INPUT / TEXT_TOO_LONG.
    """
    text = (raw or "").strip()
    if not text:
        return None
    if any(unicodedata.category(c) == "Cc" for c in text):
        # NUL cannot reach PostgreSQL at all; no name holds a control character.
        raise BadUserInput(
            f"{field} holds a control character (such as NUL or a line break)",
            reason="INVALID_TEXT",
            field=field,
        )
    if len(text) > MAX_LENGTH:
        raise BadUserInput(
            f"{field} holds {len(text)} characters; at most {MAX_LENGTH}",
            reason="TEXT_TOO_LONG",
            field=field,
            maxLength=MAX_LENGTH,
        )
    return text


def name_contains(stmt: AnySelect, text: str, *, dialect: str) -> AnySelect:
    """Narrow a select over `enterprise` to names containing `text`."""
    pattern = contains_pattern(text)
    if dialect == "postgresql":
        # The pattern goes into the SQL text rather than as a parameter, so
        # that PostgreSQL plans each search for its own text: a rare one from
        # the trigram index, a common one by walking ids until the page is
        # full. A prepared statement with a parameter soon gets one generic
        # plan for all texts, which walked all 100,000 names for a rare one.
        bound = literal(pattern, String, literal_execute=True)
        return stmt.where(Enterprise.name.ilike(bound, escape="\\"))
    # SQLite's LIKE ignores the case of ASCII letters, as ILIKE does.
    like = Enterprise.name.like(pattern, escape="\\")
    if len(text) < INDEXED_LENGTH:
        return stmt.where(like)
    indexed = select(_FTS.c.rowid).where(_FTS.c.name.match(_fts5_string(text)))
    return stmt.where(and_(Enterprise.id.in_(indexed), like))


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character `\\`) for names containing `text`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts5_string(text: str) -> str:
    """`text` as one FTS5 string: a phrase, which the trigram tokenizer matches
    as a substring. Inside double quotes every character but `"` is literal."""
    return '"' + text.replace('"', '""') + '"'
