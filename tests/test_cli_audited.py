"""What the bureau's staff export at the command line is in the audit log."""

import asyncio
import os
from pathlib import Path

from sqlalchemy import select

from hub.config import Settings
from hub.db import create_engine
from hub.models import AuditEntry
from tests.helpers import hub


def entries(url: str) -> list[tuple[str, str | None, dict[str, object]]]:
    async def read() -> list[tuple[str, str | None, dict[str, object]]]:
        engine = create_engine(Settings(database_url=url))
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(
                    AuditEntry.kind, AuditEntry.operation_name, AuditEntry.variables
                ).order_by(AuditEntry.seq)
            )
            found = [(kind, op, variables) for kind, op, variables in rows]
        await engine.dispose()
        return found

    return asyncio.run(read())


def test_exports_and_lists_are_audited(cli: Path) -> None:
    # when
    exported = hub("export", "penalties", "--output", str(cli / "p.csv"))
    listed = hub(
        "lists",
        "red-black",
        "--year",
        "2026",
        "--half",
        "1",
        "--output",
        str(cli / "rb.csv"),
    )
    # then
    assert exported.exit_code == 0, exported.output
    assert listed.exit_code == 0, listed.output
    found = entries(os.environ["HUB_DATABASE_URL"])
    assert [(kind, op) for kind, op, _ in found] == [
        ("EXPORT", "export penalties"),
        ("EXPORT", "lists red-black"),
    ]
    assert found[0][2]["rows"] == 0
    assert found[1][2] == {
        "year": 2026,
        "half": 1,
        "scheme": "JS_DYNAMIC_12",
        "rows": 0,
    }
    assert hub("audit", "verify").exit_code == 0
