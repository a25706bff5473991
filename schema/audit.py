"""The audit log (审计日志) for auditors: every access, filtered."""

from datetime import datetime

import strawberry

from auth.scopes import Scope
from resolvers import audit as resolve
from resolvers.audit import AuditEntryView
from schema.directives import requires
from schema.pagination import PAGE_SIZE_NOTE, Connection, page_request_for
from schema.types import Info


@strawberry.type(description="One audited request (审计记录), as chained in the log.")
class AuditLogEntry:
    seq: int = strawberry.field(description="Position in the hash chain.")
    at: datetime = strawberry.field(description="When the request arrived (UTC).")
    kind: str = strawberry.field(
        description=(
            "GRAPHQL, TOKEN, IMPORT (hub import), EXPORT (a file download) "
            "or ADMIN (a client's persisted operations changed)."
        )
    )
    request_id: str
    outcome: str = strawberry.field(
        description="OK, PARTIAL, DENIED, INVALID or ERROR."
    )
    latency_ms: int
    client_address: str | None
    client_id: str | None
    agency_name: str | None
    agency_kind: str | None
    scopes: list[str]
    purpose: str | None = strawberry.field(
        description="Declared purpose (Hub-Purpose)."
    )
    case_ref: str | None = strawberry.field(
        description="Declared case reference (Hub-Case-Ref)."
    )
    operation_name: str | None
    document_sha256: str | None = strawberry.field(
        description="SHA-256 of the query text."
    )
    enterprises: list[str] = strawberry.field(
        description="Credit codes whose data was returned."
    )
    fields: list[str] = strawberry.field(description="Type.field coordinates served.")
    denied: list[str] = strawberry.field(description="Type.field coordinates refused.")
    reason: str | None = strawberry.field(description="Why it was refused or failed.")
    hash: str = strawberry.field(
        description="SHA-256 chaining this entry to the previous one."
    )


@strawberry.input(description="Filter for `auditLog`; all conditions must hold.")
class AuditFilter:
    agency_name: str | None = None
    client_id: str | None = None
    enterprise_code: str | None = strawberry.field(
        default=None, description="Entries that returned this enterprise's data."
    )
    purpose: str | None = None
    outcome: str | None = None
    since: datetime | None = strawberry.field(
        default=None, description="At or after (UTC)."
    )
    until: datetime | None = strawberry.field(
        default=None, description="At or before (UTC)."
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        graphql_type=Connection[AuditLogEntry] | None,
        directives=requires(Scope.audit_read),
        description="The access audit log, oldest first. " + PAGE_SIZE_NOTE,
    )
    async def audit_log(
        self,
        info: Info,
        filter: AuditFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[AuditEntryView]:
        page = page_request_for(info, resolve.CURSOR_KIND, first, after)
        result = await resolve.list_audit_entries(
            info.context, filter or AuditFilter(), page
        )
        return Connection.from_page(result)
