"""The audit entry of one HTTP request, filled in as the request travels.

The audit middleware opens it, authentication, the GraphQL view and the token
endpoint add what they know, and the middleware closes it into an
AuditRecord once the response is ready.
"""

import functools
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.types import Scope

from auth.caller import Caller
from auth.scopes import Scope as GrantedScope
from hub.audit.record import AuditRecord, EntryKind, Outcome

# Secrets, and contact details that live in their own records (an objector's
# phone or e-mail is kept with the objection, not for years in the audit log).
_SECRET_KEY = re.compile(
    r"secret|password|passwd|token|assertion|credential|contact|phone|mobile|email",
    re.I,
)
REDACTED = "[REDACTED]"


@dataclass(slots=True)
class AuditDraft:
    kind: EntryKind
    at: datetime
    request_id: str
    client_address: str | None
    started: float = field(default_factory=time.perf_counter)
    caller: Caller | None = None
    client_id: str | None = None  # token endpoint: the authenticating client
    scopes: tuple[str, ...] = ()
    purpose: str | None = None
    case_ref: str | None = None
    operation_name: str | None = None
    document_sha256: str | None = None
    variables: dict[str, object] = field(default_factory=dict)
    enterprises: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    outcome: Outcome | None = None
    reason: str | None = None

    def note_document(
        self,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> None:
        if query is not None:
            self.document_sha256 = document_digest(query)
        self.operation_name = operation_name
        self.variables = redact(dict(variables or {}))

    def finish(self, status: int) -> AuditRecord:
        caller = self.caller
        agency = caller if caller is not None and not caller.anonymous else None
        return AuditRecord(
            at=self.at,
            kind=self.kind,
            request_id=self.request_id,
            outcome=self.outcome or outcome_of_status(status),
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            client_address=self.client_address,
            client_id=agency.client_id if agency else self.client_id,
            agency_id=agency.agency_id if agency else None,
            agency_name=agency.agency_name if agency else None,
            agency_kind=agency.kind.value if agency and agency.kind else None,
            scopes=scope_values(agency.scopes) if agency else self.scopes,
            purpose=self.purpose,
            case_ref=self.case_ref,
            operation_name=self.operation_name,
            document_sha256=self.document_sha256,
            variables=self.variables,
            enterprises=tuple(sorted(set(self.enterprises))),
            fields=self.fields,
            denied=self.denied,
            reason=self.reason,
        )


@functools.lru_cache(maxsize=256)
def scope_values(scopes: frozenset[GrantedScope]) -> tuple[str, ...]:
    """A caller's scopes as the entry lists them, sorted; the same few sets
    come again and again (one per client)."""
    return tuple(sorted(s.value for s in scopes))


def outcome_of_status(status: int) -> Outcome:
    if status < 300:
        return Outcome.OK
    if status in (401, 403):
        return Outcome.DENIED
    if status < 500:
        return Outcome.INVALID
    return Outcome.ERROR


def redact(value: Any) -> Any:
    """Variables as sent, with anything that looks like a secret blanked out.

    An uploaded file is noted by name and size; its content is in the
    collection batch it produced (hub/models.py CollectionBatch), by digest.
    """
    if isinstance(value, UploadFile):
        return {"upload": value.filename, "bytes": value.size}
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def draft_of(scope: Scope) -> AuditDraft | None:
    draft = scope.get("state", {}).get("audit")
    return draft if isinstance(draft, AuditDraft) else None


_CACHED_LENGTH = 16_384  # longer texts are rare; 512 of them stay small


def document_digest(query: str) -> str:
    """The SHA-256 of a document's text; banks send the same few again and again."""
    if len(query) > _CACHED_LENGTH:
        return _digest(query)
    return _cached_digest(query)


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


_cached_digest = functools.lru_cache(maxsize=512)(_digest)
