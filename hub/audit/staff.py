"""Audit entries for what the bureau's staff do at the command line."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit.record import AuditRecord, EntryKind, Outcome
from hub.audit.writer import AuditUnavailable, AuditWriter
from hub.config import Settings
from hub.enums import AgencyKind


async def record_staff_action(
    engine: AsyncEngine,
    settings: Settings,
    *,
    kind: EntryKind,
    at: datetime,
    actor: str,
    operation: str,
    variables: dict[str, Any],
    outcome: Outcome = Outcome.OK,
    reason: str | None = None,
    enterprises: tuple[str, ...] = (),
) -> bool:
    """Append one entry (the city bureau's staff, `cli:<user>`); False when the
    audit log cannot be written."""
    record = AuditRecord(
        at=at,
        kind=kind,
        request_id=uuid.uuid4().hex,
        outcome=outcome,
        latency_ms=max(0, int((settings.clock() - at).total_seconds() * 1000)),
        client_id=actor,
        agency_kind=AgencyKind.CITY_EPB.value,
        operation_name=operation,
        variables=variables,
        reason=reason,
        enterprises=tuple(sorted(set(enterprises))),
    )
    writer = AuditWriter(engine, settings)
    try:
        await writer.start()
        await writer.append(record)
        return True
    except AuditUnavailable:
        return False
    finally:
        await writer.aclose()
