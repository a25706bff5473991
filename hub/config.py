"""Settings: every knob is a HUB_* environment variable (or a line in .env)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from starlette.config import Config

from hub.enums import Scheme

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///var/hub.db"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_SQLITE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    debug: bool = False
    graphiql: bool = True
    official_scheme: Scheme = Scheme.JS_DYNAMIC_12
    max_page_size: int = 100
    max_batch_codes: int = 1000
    db_pool_size: int = 10
    log_level: str = "INFO"
    # Injected, not configured: tests pass a fixed clock.
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, env_file: str | Path | None = ".env") -> "Settings":
        """Read HUB_* variables; values in the process environment win over .env."""
        path = Path(env_file) if env_file else None
        config = Config(path if path and path.is_file() else None)
        return cls(
            database_url=config("HUB_DATABASE_URL", default=DEFAULT_SQLITE_URL),
            host=config("HUB_HOST", default="127.0.0.1"),
            port=config("HUB_PORT", cast=int, default=8000),
            workers=config("HUB_WORKERS", cast=int, default=1),
            debug=config("HUB_DEBUG", cast=bool, default=False),
            graphiql=config("HUB_GRAPHIQL", cast=bool, default=True),
            official_scheme=Scheme(
                config("HUB_OFFICIAL_SCHEME", default=Scheme.JS_DYNAMIC_12.value)
            ),
            max_page_size=config("HUB_MAX_PAGE_SIZE", cast=int, default=100),
            max_batch_codes=config("HUB_MAX_BATCH_CODES", cast=int, default=1000),
            db_pool_size=config("HUB_DB_POOL_SIZE", cast=int, default=10),
            log_level=config("HUB_LOG_LEVEL", default="INFO"),
        )
