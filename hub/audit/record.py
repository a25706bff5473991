"""What one audit entry says: who asked what, why, and what they got.

Built by the request path (hub/graphql.py, the token endpoint, the export
route) and handed to the writer, which chains and stores it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class EntryKind(Enum):
    GRAPHQL = "GRAPHQL"  # a request to /graphql
    TOKEN = "TOKEN"  # a token issued or refused at /oauth/token
    IMPORT = "IMPORT"  # a file imported (or refused) by `hub import`
    EXPORT = "EXPORT"  # a dataset downloaded (or refused) at /exports/
    ADMIN = "ADMIN"  # a client's persisted operations changed (`hub operations`)
    PORTAL = "PORTAL"  # a page of the public portal (hub/portal/), read as the public


class Outcome(Enum):
    OK = "OK"  # answered, every selected field served
    PARTIAL = "PARTIAL"  # answered, some fields denied (FORBIDDEN) or in error
    DENIED = "DENIED"  # refused: unauthenticated, purpose missing, token refused
    INVALID = "INVALID"  # refused: malformed request or document
    ERROR = "ERROR"  # failed on the server's side


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One request, as it will be chained; every field is part of the hash."""

    at: datetime  # aware UTC, when the request arrived
    kind: EntryKind
    request_id: str
    outcome: Outcome
    latency_ms: int
    client_address: str | None = None
    client_id: str | None = None
    agency_id: int | None = None
    agency_name: str | None = None
    agency_kind: str | None = None
    scopes: tuple[str, ...] = ()
    purpose: str | None = None
    case_ref: str | None = None
    operation_name: str | None = None
    document_sha256: str | None = None
    variables: dict[str, object] = field(default_factory=dict)  # secrets redacted
    enterprises: tuple[str, ...] = ()  # credit codes whose data was returned
    fields: tuple[str, ...] = ()  # Type.field coordinates served
    denied: tuple[str, ...] = ()  # Type.field coordinates refused
    reason: str | None = None  # why it was refused or failed (a stable code)
