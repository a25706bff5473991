"""Settings: every knob is a HUB_* environment variable (or a line in .env)."""

import ipaddress
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from starlette.config import Config
from starlette.datastructures import Secret

from hub.enums import Scheme

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///var/hub.db"
DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_AUDIENCE = "ecredit-hub"
DEFAULT_METRICS_ALLOW = "127.0.0.1/32,::1/128"
# RELIABILITY.md B2: access tokens live at most 15 minutes.
MAX_TOKEN_TTL_SECONDS = 900


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
    # Evaluation and publication (评价, 发布): see hub/evaluate/schemes/.
    active_schemes: tuple[Scheme, ...] = tuple(Scheme)
    policy_dir: Path | None = None  # None: the schemes shipped with the hub
    # Measures, review tables, subsidy programmes; None: hub/review/policy/.
    review_policy_dir: Path | None = None
    selection_share: float = 0.8  # emissions share that lists city-key enterprises
    notice_days: int = 15  # public notice of evaluated grades (公示)
    repair_notice_days: int = 7
    repair_levels: int = 1  # grades a repair raises
    repair_falsification_days: int = 365  # no repair this long after faked data
    max_page_size: int = 100
    max_batch_codes: int = 1000
    # Complete results with compiled plans (hub/executor.py); off: graphql-core's
    # field-by-field completion, the same answers, several times the CPU.
    compiled_execution: bool = True
    # Answer queries whose every step is cached in one straight line
    # (hub/direct.py); off: through strawberry's extension hooks, same answers.
    direct_execution: bool = True
    # Answers of queries kept per worker until the data changes, in MB of
    # JSON (hub/response_cache.py); 0: off. PostgreSQL only.
    response_cache_mb: float = 16.0
    # How often the data version's listener proves that notifications reach
    # it, and how long its probe may take to come back (hub/data_version.py).
    data_version_check_seconds: float = 2.0
    # Where the data version listens; None: HUB_DATABASE_URL. A pooler in
    # transaction mode cannot carry LISTEN: name the primary itself.
    data_version_url: str | None = None
    db_pool_size: int = 10
    # A PostgreSQL streaming replica for published-only queries (hub/replica.py);
    # None: everything on the primary. Behind by more than the lag: primary.
    database_replica_url: str | None = None
    replica_max_lag_seconds: float = 5.0
    log_level: str = "INFO"
    otel_enabled: bool = False  # OpenTelemetry tracing: needs the otel extra
    # Writes (归集): request bodies and uploaded files; `hub import` has no
    # body limit and takes --max-rows.
    max_body_bytes: int = 10 * 1024 * 1024
    import_max_rows: int = 50_000
    # GraphQL subscriptions: how often each one polls the change feed.
    subscription_poll_seconds: float = 1.0
    # OAuth 2 (auth/): issuer, audience and lifetime of the hub's access tokens.
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    token_ttl_seconds: int = MAX_TOKEN_TTL_SECONDS
    keys_dir: Path = Path("var/keys")
    # How stale the per-worker view of clients and revocations may be.
    auth_cache_seconds: float = 5.0
    # The portal's dashboard and red/black pages: a shared answer's lifetime.
    portal_cache_seconds: float = 60.0
    external_issuer: str | None = None
    external_jwks_file: Path | None = None
    external_audience: str | None = None
    # Audit log (hub/audit/): group commit, signed checkpoints, retention.
    audit_batch_max: int = 500
    # A few ms of linger make batches larger: fewer commits per entry, about a
    # third more audited lookups a second on two workers (BENCHMARKS.md).
    audit_batch_wait_ms: float = 3.0
    audit_queue_max: int = 10_000
    audit_append_timeout: float = 10.0
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: float = 300.0
    audit_keys_dir: Path = Path("var/audit-keys")
    audit_checkpoint_file: Path = Path("var/audit-checkpoints.jsonl")
    audit_retention_days: int = 1825
    # Webhooks (hub/webhooks/): timeouts, retries, the dispatcher's concurrency.
    # Development only: endpoints on loopback (127/8, ::1), over http or https.
    webhooks_allow_http_loopback: bool = False
    webhooks_connect_timeout: float = 3.0
    webhooks_timeout: float = 10.0  # a whole attempt, connect to last byte read
    webhooks_retry_base_seconds: float = 10.0
    webhooks_retry_max_seconds: float = 3600.0
    webhooks_retry_hours: float = 24.0  # after an event's first failure: DEAD
    webhooks_concurrency: int = 16  # endpoints served at once
    # GraphQL abuse limits (hub/limits/): per request, refused before anything
    # runs. Depth 8 leaves room for the deepest real query (5 levels); the cost
    # of the full profile of 1,000 enterprises (enterprisesByCodes) is 48,000.
    max_depth: int = 8
    max_aliases: int = 15
    max_root_fields: int = 10
    max_fields: int = 200  # validation is quadratic in repeated fields
    max_tokens: int = 2000
    max_cost: int = 50_000
    max_query_bytes: int = 1024 * 1024  # a JSON body; multipart: max_body_bytes
    request_timeout_seconds: float = 10.0
    # Per-client budget of cost points: two full 1,000-enterprise profiles at
    # once, then 5,000 points a second (a 1,000-code batch with the four
    # datasets, 14,000 points, every 3 s; or 100 full single lookups a second).
    budget_points: int = 100_000
    budget_refill_per_second: float = 5_000.0
    redis_url: str | None = None  # shared by the workers; None: per worker
    redis_key_prefix: str = "hub:budget:"
    # /metrics (hub/metrics.py): who may scrape it; other addresses get 404.
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    metrics_token: Secret | None = None  # set: `Authorization: Bearer` required
    # Injected, not configured: tests pass a fixed clock.
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)
    # Injected, not configured: seconds for the in-memory budgets' refill.
    monotonic: Callable[[], float] = field(default=time.monotonic, compare=False)
    # Injected, not configured: host, port -> addresses; None: the system's DNS.
    webhooks_resolver: Callable[[str, int], Awaitable[list[str]]] | None = field(
        default=None, compare=False
    )

    def __post_init__(self) -> None:
        if not 1 <= self.token_ttl_seconds <= MAX_TOKEN_TTL_SECONDS:
            raise ValueError(
                f"HUB_TOKEN_TTL_SECONDS must be 1..{MAX_TOKEN_TTL_SECONDS}, "
                f"got {self.token_ttl_seconds}"
            )
        if self.portal_cache_seconds < 0:
            raise ValueError("HUB_PORTAL_CACHE_SECONDS must not be negative")
        if self.auth_cache_seconds < 0:
            raise ValueError("HUB_AUTH_CACHE_SECONDS must not be negative")
        if self.external_issuer and self.external_jwks_file is None:
            raise ValueError("HUB_EXTERNAL_ISSUER needs HUB_EXTERNAL_JWKS_FILE")
        if self.audit_batch_max < 1 or self.audit_queue_max < 1:
            raise ValueError("HUB_AUDIT_BATCH_MAX and HUB_AUDIT_QUEUE_MAX must be >= 1")
        if min(self.audit_batch_wait_ms, self.audit_append_timeout) < 0:
            raise ValueError("audit wait and timeout settings must not be negative")
        if self.audit_checkpoint_every < 0 or self.audit_checkpoint_seconds < 0:
            raise ValueError("HUB_AUDIT_CHECKPOINT_* must not be negative (0: off)")
        if self.official_scheme not in self.active_schemes:
            raise ValueError(
                f"HUB_OFFICIAL_SCHEME {self.official_scheme.value} is not one of "
                "HUB_ACTIVE_SCHEMES"
            )
        if not 0 < self.selection_share <= 1:
            raise ValueError("HUB_SELECTION_SHARE must be in (0, 1]")
        if min(self.notice_days, self.repair_notice_days, self.repair_levels) < 1:
            raise ValueError(
                "HUB_NOTICE_DAYS, HUB_REPAIR_NOTICE_DAYS, HUB_REPAIR_LEVELS must be >= 1"
            )
        if self.max_body_bytes < 1024 or self.import_max_rows < 1:
            raise ValueError(
                "HUB_MAX_BODY_BYTES must be >= 1024 and HUB_IMPORT_MAX_ROWS >= 1"
            )
        if self.response_cache_mb < 0:
            raise ValueError("HUB_RESPONSE_CACHE_MB must not be negative (0: off)")
        if self.data_version_check_seconds <= 0:
            raise ValueError("HUB_DATA_VERSION_CHECK_SECONDS must be positive")
        if self.subscription_poll_seconds <= 0:
            raise ValueError("HUB_SUBSCRIPTION_POLL_SECONDS must be positive")
        if self.audit_retention_days < 1:
            raise ValueError("HUB_AUDIT_RETENTION_DAYS must be at least 1")
        if min(self.webhooks_connect_timeout, self.webhooks_timeout) <= 0:
            raise ValueError("HUB_WEBHOOKS_*TIMEOUT must be positive")
        if not 0 < self.webhooks_retry_base_seconds <= self.webhooks_retry_max_seconds:
            raise ValueError(
                "HUB_WEBHOOKS_RETRY_BASE_SECONDS must be in (0, RETRY_MAX_SECONDS]"
            )
        if self.webhooks_retry_hours < 0 or self.webhooks_concurrency < 1:
            raise ValueError(
                "HUB_WEBHOOKS_RETRY_HOURS must be >= 0, HUB_WEBHOOKS_CONCURRENCY >= 1"
            )
        if self.replica_max_lag_seconds <= 0:
            raise ValueError("HUB_REPLICA_MAX_LAG_SECONDS must be positive")
        if self.database_replica_url and not all(
            url.startswith("postgresql")
            for url in (self.database_url, self.database_replica_url)
        ):
            raise ValueError("HUB_DATABASE_REPLICA_URL: primary and replica PostgreSQL")
        self._check_limits()

    def _check_limits(self) -> None:
        if min(self.max_depth, self.max_aliases, self.max_root_fields) < 1:
            raise ValueError(
                "HUB_MAX_DEPTH, HUB_MAX_ALIASES and HUB_MAX_ROOT_FIELDS must be >= 1"
            )
        if min(self.max_fields, self.max_tokens, self.max_cost) < 1:
            raise ValueError(
                "HUB_MAX_FIELDS, HUB_MAX_TOKENS and HUB_MAX_COST must be >= 1"
            )
        if self.max_query_bytes < 1024:
            raise ValueError("HUB_MAX_QUERY_BYTES must be >= 1024")
        if self.request_timeout_seconds <= 0:
            raise ValueError("HUB_REQUEST_TIMEOUT_SECONDS must be positive")
        if self.budget_points < self.max_cost:
            # Else a request within HUB_MAX_COST could never be paid.
            raise ValueError("HUB_BUDGET_POINTS must be >= HUB_MAX_COST")
        if self.budget_refill_per_second <= 0:
            raise ValueError("HUB_BUDGET_REFILL_PER_SECOND must be positive")

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
            active_schemes=tuple(
                Scheme(name.strip())
                for name in config(
                    "HUB_ACTIVE_SCHEMES", default=",".join(s.value for s in Scheme)
                ).split(",")
                if name.strip()
            ),
            policy_dir=_optional_path(config("HUB_POLICY_DIR", default=None)),
            review_policy_dir=_optional_path(
                config("HUB_REVIEW_POLICY_DIR", default=None)
            ),
            selection_share=config("HUB_SELECTION_SHARE", cast=float, default=0.8),
            notice_days=config("HUB_NOTICE_DAYS", cast=int, default=15),
            repair_notice_days=config("HUB_REPAIR_NOTICE_DAYS", cast=int, default=7),
            repair_levels=config("HUB_REPAIR_LEVELS", cast=int, default=1),
            repair_falsification_days=config(
                "HUB_REPAIR_FALSIFICATION_DAYS", cast=int, default=365
            ),
            max_page_size=config("HUB_MAX_PAGE_SIZE", cast=int, default=100),
            max_batch_codes=config("HUB_MAX_BATCH_CODES", cast=int, default=1000),
            compiled_execution=config(
                "HUB_COMPILED_EXECUTION", cast=bool, default=True
            ),
            direct_execution=config("HUB_DIRECT_EXECUTION", cast=bool, default=True),
            response_cache_mb=config("HUB_RESPONSE_CACHE_MB", cast=float, default=16),
            data_version_check_seconds=config(
                "HUB_DATA_VERSION_CHECK_SECONDS", cast=float, default=2
            ),
            data_version_url=config("HUB_DATA_VERSION_URL", default=None) or None,
            db_pool_size=config("HUB_DB_POOL_SIZE", cast=int, default=10),
            database_replica_url=config("HUB_DATABASE_REPLICA_URL", default=None)
            or None,
            replica_max_lag_seconds=config(
                "HUB_REPLICA_MAX_LAG_SECONDS", cast=float, default=5.0
            ),
            log_level=config("HUB_LOG_LEVEL", default="INFO"),
            otel_enabled=config("HUB_OTEL_ENABLED", cast=bool, default=False),
            max_body_bytes=config(
                "HUB_MAX_BODY_BYTES", cast=int, default=10 * 1024 * 1024
            ),
            import_max_rows=config("HUB_IMPORT_MAX_ROWS", cast=int, default=50_000),
            subscription_poll_seconds=config(
                "HUB_SUBSCRIPTION_POLL_SECONDS", cast=float, default=1.0
            ),
            issuer=config("HUB_ISSUER", default=DEFAULT_ISSUER).rstrip("/"),
            audience=config("HUB_AUDIENCE", default=DEFAULT_AUDIENCE),
            token_ttl_seconds=config(
                "HUB_TOKEN_TTL_SECONDS", cast=int, default=MAX_TOKEN_TTL_SECONDS
            ),
            keys_dir=Path(config("HUB_KEYS_DIR", default="var/keys")),
            auth_cache_seconds=config("HUB_AUTH_CACHE_SECONDS", cast=float, default=5),
            portal_cache_seconds=config(
                "HUB_PORTAL_CACHE_SECONDS", cast=float, default=60
            ),
            external_issuer=config("HUB_EXTERNAL_ISSUER", default=None),
            external_jwks_file=_optional_path(
                config("HUB_EXTERNAL_JWKS_FILE", default=None)
            ),
            external_audience=config("HUB_EXTERNAL_AUDIENCE", default=None),
            audit_batch_max=config("HUB_AUDIT_BATCH_MAX", cast=int, default=500),
            audit_batch_wait_ms=config(
                "HUB_AUDIT_BATCH_WAIT_MS", cast=float, default=3.0
            ),
            audit_queue_max=config("HUB_AUDIT_QUEUE_MAX", cast=int, default=10_000),
            audit_append_timeout=config(
                "HUB_AUDIT_APPEND_TIMEOUT", cast=float, default=10.0
            ),
            audit_checkpoint_every=config(
                "HUB_AUDIT_CHECKPOINT_EVERY", cast=int, default=1000
            ),
            audit_checkpoint_seconds=config(
                "HUB_AUDIT_CHECKPOINT_SECONDS", cast=float, default=300.0
            ),
            audit_keys_dir=Path(config("HUB_AUDIT_KEYS_DIR", default="var/audit-keys")),
            audit_checkpoint_file=Path(
                config(
                    "HUB_AUDIT_CHECKPOINT_FILE", default="var/audit-checkpoints.jsonl"
                )
            ),
            audit_retention_days=config(
                "HUB_AUDIT_RETENTION_DAYS", cast=int, default=1825
            ),
            webhooks_allow_http_loopback=config(
                "HUB_WEBHOOKS_ALLOW_HTTP_LOOPBACK", cast=bool, default=False
            ),
            webhooks_connect_timeout=config(
                "HUB_WEBHOOKS_CONNECT_TIMEOUT", cast=float, default=3.0
            ),
            webhooks_timeout=config("HUB_WEBHOOKS_TIMEOUT", cast=float, default=10.0),
            webhooks_retry_base_seconds=config(
                "HUB_WEBHOOKS_RETRY_BASE_SECONDS", cast=float, default=10.0
            ),
            webhooks_retry_max_seconds=config(
                "HUB_WEBHOOKS_RETRY_MAX_SECONDS", cast=float, default=3600.0
            ),
            webhooks_retry_hours=config(
                "HUB_WEBHOOKS_RETRY_HOURS", cast=float, default=24.0
            ),
            webhooks_concurrency=config(
                "HUB_WEBHOOKS_CONCURRENCY", cast=int, default=16
            ),
            max_depth=config("HUB_MAX_DEPTH", cast=int, default=8),
            max_aliases=config("HUB_MAX_ALIASES", cast=int, default=15),
            max_root_fields=config("HUB_MAX_ROOT_FIELDS", cast=int, default=10),
            max_fields=config("HUB_MAX_FIELDS", cast=int, default=200),
            max_tokens=config("HUB_MAX_TOKENS", cast=int, default=2000),
            max_cost=config("HUB_MAX_COST", cast=int, default=50_000),
            max_query_bytes=config(
                "HUB_MAX_QUERY_BYTES", cast=int, default=1024 * 1024
            ),
            request_timeout_seconds=config(
                "HUB_REQUEST_TIMEOUT_SECONDS", cast=float, default=10.0
            ),
            budget_points=config("HUB_BUDGET_POINTS", cast=int, default=100_000),
            budget_refill_per_second=config(
                "HUB_BUDGET_REFILL_PER_SECOND", cast=float, default=5_000.0
            ),
            redis_url=config("HUB_REDIS_URL", default=None) or None,
            redis_key_prefix=config("HUB_REDIS_KEY_PREFIX", default="hub:budget:"),
            metrics_allow=tuple(
                ipaddress.ip_network(cidr.strip(), strict=False)
                for cidr in config(
                    "HUB_METRICS_ALLOW", default=DEFAULT_METRICS_ALLOW
                ).split(",")
                if cidr.strip()
            ),
            metrics_token=config("HUB_METRICS_TOKEN", cast=Secret, default=None)
            or None,
        )


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True, slots=True)
class Variable:
    """One HUB_* variable as the README's Configuration table shows it."""

    name: str
    default: str | None  # None: unset
    meaning: str


# Every variable Settings.from_env reads, in one place: `hub config check`
# names the unknown ones, a test holds the README table to this list.
VARIABLES: tuple[Variable, ...] = (
    Variable("HUB_DATABASE_URL", DEFAULT_SQLITE_URL, "SQLite or PostgreSQL"),
    Variable("HUB_DATABASE_REPLICA_URL", None, "PostgreSQL read replica"),
    Variable(
        "HUB_REPLICA_MAX_LAG_SECONDS", "5", "replica lag before the primary reads"
    ),
    Variable("HUB_HOST", "127.0.0.1", "bind address"),
    Variable("HUB_PORT", "8000", "bind port"),
    Variable("HUB_WORKERS", "1", "worker processes for `hub serve`"),
    Variable("HUB_DEBUG", "false", "no effect (reserved)"),
    Variable("HUB_GRAPHIQL", "true", "serve GraphiQL to browsers at /graphql"),
    Variable("HUB_OFFICIAL_SCHEME", "JS_DYNAMIC_12", "currentRating's default scheme"),
    Variable(
        "HUB_ACTIVE_SCHEMES",
        ",".join(s.value for s in Scheme),
        "schemes the hub evaluates and manages",
    ),
    Variable("HUB_POLICY_DIR", None, "scheme policy files (unset: the shipped ones)"),
    Variable("HUB_REVIEW_POLICY_DIR", None, "review policy (unset: the shipped one)"),
    Variable("HUB_SELECTION_SHARE", "0.8", "emissions share of key enterprises"),
    Variable("HUB_NOTICE_DAYS", "15", "public notice of evaluated grades"),
    Variable("HUB_REPAIR_NOTICE_DAYS", "7", "public notice of a credit repair"),
    Variable("HUB_REPAIR_LEVELS", "1", "grades a repair raises"),
    Variable("HUB_REPAIR_FALSIFICATION_DAYS", "365", "no repair after faked data"),
    Variable("HUB_MAX_PAGE_SIZE", "100", "largest `first`"),
    Variable("HUB_MAX_BATCH_CODES", "1000", "most codes per batch field"),
    Variable("HUB_COMPILED_EXECUTION", "true", "compiled execution plans"),
    Variable("HUB_DIRECT_EXECUTION", "true", "queries without strawberry's hooks"),
    Variable("HUB_RESPONSE_CACHE_MB", "16", "answers kept per worker until a write"),
    Variable("HUB_DATA_VERSION_CHECK_SECONDS", "2", "health check of the listener"),
    Variable("HUB_DATA_VERSION_URL", None, "where the listener connects"),
    Variable("HUB_DB_POOL_SIZE", "10", "PostgreSQL connections per worker"),
    Variable("HUB_LOG_LEVEL", "INFO", "JSON logs to stderr"),
    Variable("HUB_OTEL_ENABLED", "false", "OpenTelemetry tracing (the otel extra)"),
    Variable("HUB_METRICS_ALLOW", DEFAULT_METRICS_ALLOW, "who may scrape /metrics"),
    Variable("HUB_METRICS_TOKEN", None, "bearer token /metrics requires"),
    Variable("HUB_MAX_BODY_BYTES", "10485760", "largest request body"),
    Variable("HUB_IMPORT_MAX_ROWS", "50000", "most rows in an uploaded file"),
    Variable("HUB_SUBSCRIPTION_POLL_SECONDS", "1", "subscription poll interval"),
    Variable("HUB_ISSUER", DEFAULT_ISSUER, "token iss and endpoint base URL"),
    Variable("HUB_AUDIENCE", DEFAULT_AUDIENCE, "token aud"),
    Variable("HUB_TOKEN_TTL_SECONDS", "900", "access-token lifetime"),
    Variable("HUB_KEYS_DIR", "var/keys", "token signing keys"),
    Variable("HUB_AUTH_CACHE_SECONDS", "5", "propagation budget of auth changes"),
    Variable("HUB_PORTAL_CACHE_SECONDS", "60", "portal pages' cache lifetime"),
    Variable("HUB_EXTERNAL_ISSUER", None, "the external issuer's iss"),
    Variable("HUB_EXTERNAL_JWKS_FILE", None, "the external issuer's keys"),
    Variable("HUB_EXTERNAL_AUDIENCE", None, "the external issuer's aud"),
    Variable("HUB_AUDIT_BATCH_MAX", "500", "most entries in one group commit"),
    Variable("HUB_AUDIT_BATCH_WAIT_MS", "3", "linger before a batch is written"),
    Variable("HUB_AUDIT_QUEUE_MAX", "10000", "queued entries before 503"),
    Variable("HUB_AUDIT_APPEND_TIMEOUT", "10", "wait for an entry's commit"),
    Variable("HUB_AUDIT_CHECKPOINT_EVERY", "1000", "entries between checkpoints"),
    Variable("HUB_AUDIT_CHECKPOINT_SECONDS", "300", "seconds between checkpoints"),
    Variable("HUB_AUDIT_KEYS_DIR", "var/audit-keys", "audit signing keys"),
    Variable(
        "HUB_AUDIT_CHECKPOINT_FILE",
        "var/audit-checkpoints.jsonl",
        "checkpoints outside the database",
    ),
    Variable("HUB_AUDIT_RETENTION_DAYS", "1825", "default for `hub audit prune`"),
    Variable("HUB_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "false", "loopback receivers"),
    Variable("HUB_WEBHOOKS_CONNECT_TIMEOUT", "3", "seconds to connect"),
    Variable("HUB_WEBHOOKS_TIMEOUT", "10", "seconds for a delivery attempt"),
    Variable("HUB_WEBHOOKS_RETRY_BASE_SECONDS", "10", "first retry delay"),
    Variable("HUB_WEBHOOKS_RETRY_MAX_SECONDS", "3600", "longest retry delay"),
    Variable("HUB_WEBHOOKS_RETRY_HOURS", "24", "retries before dead-lettering"),
    Variable("HUB_WEBHOOKS_CONCURRENCY", "16", "webhooks served at once"),
    Variable("HUB_MAX_DEPTH", "8", "deepest operation"),
    Variable("HUB_MAX_ALIASES", "15", "most aliases"),
    Variable("HUB_MAX_ROOT_FIELDS", "10", "most root fields"),
    Variable("HUB_MAX_FIELDS", "200", "most fields selected"),
    Variable("HUB_MAX_TOKENS", "2000", "most tokens in a document"),
    Variable("HUB_MAX_COST", "50000", "largest cost of one request"),
    Variable("HUB_MAX_QUERY_BYTES", "1048576", "largest JSON request body"),
    Variable("HUB_REQUEST_TIMEOUT_SECONDS", "10", "execution time limit"),
    Variable("HUB_BUDGET_POINTS", "100000", "a client's budget of cost points"),
    Variable("HUB_BUDGET_REFILL_PER_SECOND", "5000", "budget refill per second"),
    Variable("HUB_REDIS_URL", None, "Redis shared by the workers' budgets"),
    Variable("HUB_REDIS_KEY_PREFIX", "hub:budget:", "the budgets' Redis keys"),
)
