"""The canonical bytes of an audit entry and its chained hash: one definition.

The writer, the database verifier and the offline bundle verifier all call
these functions, so an entry hashes the same wherever it is checked.

An entry's *document* is every AuditRecord field plus `seq` and `prev_hash`,
as JSON values: datetimes as ISO-8601 UTC with microseconds and `Z`, enums
by value, tuples as lists. Its canonical bytes are that object as JSON with
keys sorted at every level, no whitespace, UTF-8 without escaping non-ASCII
(orjson with OPT_SORT_KEYS). `hash = SHA-256(prev_hash + canonical)` as
lowercase hex; the first entry's prev_hash is 64 zeros.
"""

import dataclasses
import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.audit.record import AuditRecord

GENESIS_HASH = "0" * 64
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(AuditRecord))
DOCUMENT_KEYS = frozenset((*RECORD_FIELDS, "seq", "prev_hash"))
JSON_FIELDS = ("scopes", "variables", "enterprises", "fields", "denied")
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# orjson's integer range; larger integers are kept as their decimal string.
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1

Document = dict[str, Any]


def format_at(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a `Z`, e.g. 2026-06-15T04:00:00.000000Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: audit times must be aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_at(text: str) -> datetime:
    """The inverse of format_at."""
    return datetime.strptime(text, _AT_FORMAT).replace(tzinfo=UTC)


def record_document(record: AuditRecord) -> Document:
    """The record's fields as JSON values (no seq or prev_hash yet).

    Spelled out field by field: this runs once per request. A test checks
    that it covers exactly the fields of AuditRecord.
    """
    r = record
    return {
        "at": format_at(r.at),
        "kind": r.kind.value,
        "request_id": safe_text(r.request_id),
        "outcome": r.outcome.value,
        "latency_ms": r.latency_ms,
        "client_address": _text(r.client_address),
        "client_id": _text(r.client_id),
        "agency_id": r.agency_id,
        "agency_name": _text(r.agency_name),
        "agency_kind": _text(r.agency_kind),
        "scopes": _safe_list(r.scopes),
        "purpose": _text(r.purpose),
        "case_ref": _text(r.case_ref),
        "operation_name": _text(r.operation_name),
        "document_sha256": _text(r.document_sha256),
        "variables": json_safe(r.variables),
        "enterprises": [safe_text(v) for v in r.enterprises],
        "fields": _safe_list(r.fields),
        "denied": [safe_text(v) for v in r.denied],
        "reason": _text(r.reason),
    }


def _safe_list(values: Sequence[str]) -> list[str]:
    # A client's scopes and a document's fields come again and again.
    if isinstance(values, tuple):
        return list(_safe_texts(values))
    return [safe_text(v) for v in values]


@functools.lru_cache(maxsize=1024)
def _safe_texts(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(safe_text(v) for v in values)


def _text(value: str | None) -> str | None:
    return None if value is None else safe_text(value)


def safe_text(value: str) -> str:
    """`value` as text every backend stores: lone surrogates and NUL escaped.

    Request data can carry both (JSON allows "\\ud800" and "\\u0000"); UTF-8
    cannot encode the first and PostgreSQL text refuses the second.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value.replace("\x00", "\\x00") if "\x00" in value else value


def json_safe(value: Any) -> Any:
    """`value` as plain JSON that survives a round trip through a JSON column.

    What JSON cannot carry exactly (integers beyond 64 bits, NaN, infinities,
    other types) becomes its string form, so no request's variables can make
    an entry unwritable or hash differently after storage.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, int):
        return value if _MIN_INT <= value <= _MAX_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {safe_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return safe_text(str(value))


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The entry as sorted, compact UTF-8 JSON; `hash` is never part of it."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """SHA-256 over the previous entry's hash (64 hex chars) then the entry."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical)
    return digest.hexdigest()


def document_hash(document: Mapping[str, Any]) -> str:
    """The hash an entry with this document (including prev_hash) must carry."""
    return chain_hash(document["prev_hash"], canonical_bytes(document))
