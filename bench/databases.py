"""Throw-away benchmark databases on the local PostgreSQL server."""

from sqlalchemy import text

from hub.config import Settings
from hub.db import create_engine

PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def fresh_pg(url: str) -> None:
    """Drop and create the database that `url` names."""
    admin = create_engine(Settings(database_url=PG_ADMIN_URL))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
