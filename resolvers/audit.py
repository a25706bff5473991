"""The audit log as agencies read it: the whole log, or one enterprise's accesses."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from hub.models import AuditEnterprise, AuditEntry
from resolvers.context import Context, serialized
from resolvers.enterprise import require_credit_code
from resolvers.errors import BadUserInput
from resolvers.pagination import Page, PageRequest, encode_cursor

CURSOR_KIND = "audit"


@dataclass(slots=True)
class AuditEntryView:
    seq: int
    at: datetime
    kind: str
    request_id: str
    outcome: str
    latency_ms: int
    client_address: str | None
    client_id: str | None
    agency_name: str | None
    agency_kind: str | None
    scopes: list[str]
    purpose: str | None
    case_ref: str | None
    operation_name: str | None
    document_sha256: str | None
    enterprises: list[str]
    fields: list[str]
    denied: list[str]
    reason: str | None
    hash: str


COLUMNS = [AuditEntry.__table__.c[name] for name in AuditEntryView.__slots__]


class AuditFilter(Protocol):
    agency_name: str | None
    client_id: str | None
    enterprise_code: str | None
    purpose: str | None
    outcome: str | None
    since: datetime | None
    until: datetime | None


@serialized
async def list_audit_entries(
    ctx: Context, f: AuditFilter, page: PageRequest
) -> Page[AuditEntryView]:
    """Entries matching the filter, oldest first (holders of audit:read)."""
    if f.since is not None and f.until is not None and f.since > f.until:
        raise BadUserInput(
            "filter.since is after filter.until",
            reason="INVALID_DATE_RANGE",
            field="filter.since",
        )
    stmt = select(*COLUMNS)
    if f.agency_name is not None:
        stmt = stmt.where(AuditEntry.agency_name == f.agency_name)
    if f.client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == f.client_id)
    if f.enterprise_code is not None:
        code = require_credit_code(f.enterprise_code, field="filter.enterpriseCode")
        stmt = stmt.where(
            AuditEntry.seq.in_(
                select(AuditEnterprise.seq).where(
                    AuditEnterprise.enterprise_code == code
                )
            )
        )
    if f.purpose is not None:
        stmt = stmt.where(AuditEntry.purpose == f.purpose)
    if f.outcome is not None:
        stmt = stmt.where(AuditEntry.outcome == f.outcome)
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at <= f.until)
    return await _page(ctx, stmt, page)


async def list_accesses(
    ctx: Context, code: str, page: PageRequest
) -> Page[AuditEntryView]:
    """Who read this enterprise's data, oldest first."""
    async with ctx.lock:
        stmt = select(*COLUMNS).where(
            AuditEntry.seq.in_(
                select(AuditEnterprise.seq).where(
                    AuditEnterprise.enterprise_code == code
                )
            )
        )
        return await _page(ctx, stmt, page)


async def _page(ctx: Context, stmt: Any, page: PageRequest) -> Page[AuditEntryView]:
    total = None
    if page.want_total:
        total = await ctx.db.scalar(select(func.count()).select_from(stmt.subquery()))
    if page.after_id is not None:
        stmt = stmt.where(AuditEntry.seq > page.after_id)
    rows: Sequence[Any] = (
        await ctx.db.execute(stmt.order_by(AuditEntry.seq).limit(page.first + 1))
    ).all()
    views = [AuditEntryView(*row) for row in rows]
    items = views[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor(CURSOR_KIND, v.seq) for v in items],
        has_next=len(views) > page.first,
        total=total,
    )
