"""Where a benchmark ran: cores, CPU, PostgreSQL, Python, Node, date."""

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from hub.config import Settings
from hub.db import create_engine


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


async def postgres_version(database_url: str) -> str:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


async def describe(database_url: str, node: str | None = None) -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": cpu_model(),
        "postgresql": await postgres_version(database_url),
        "python": platform.python_version(),
        **({"node": node} if node else {}),
    }


def machine_line(machine: dict[str, str]) -> str:
    parts = [
        machine["date"],
        f"{machine['cores']} cores ({machine['cpu']})",
        f"PostgreSQL {machine['postgresql']}",
        f"Python {machine['python']}",
    ]
    if "node" in machine:
        parts.append(f"Node {machine['node']}")
    return ", ".join(parts)
