"""Prometheus metrics: the metric objects, and the /metrics endpoint.

The objects live in prometheus_client's default registry, so any module
(the audit middleware, the writer, the token endpoint, the dispatcher)
counts without plumbing. With `PROMETHEUS_MULTIPROC_DIR` set before the
process starts, values go to files in that directory and a scrape of any
worker (or of the hub while `hub dispatch` shares the directory) sums them;
gauges sum the live processes' values.

Labels stay bounded: agency kinds, outcomes and refusal reasons are enums;
an operation name is kept only among the first MAX_OPERATION_NAMES
well-formed names this process saw answered, else it is "other". Client
ids, credit codes and addresses are never labels.
"""

import hmac
import ipaddress
import os
import re
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from hub.audit.draft import AuditDraft
from hub.audit.record import AuditRecord, Outcome
from hub.config import Settings
from hub.metrics_collect import Sampler

MAX_OPERATION_NAMES = 200
OTHER = "other"
NONE = "none"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_REASON = re.compile(r"[A-Za-z_]{1,40}")

REQUESTS = Counter(
    "hub_requests",
    "Audited requests answered, by entry kind, operation, outcome, agency kind.",
    ["kind", "operation", "outcome", "agency_kind"],
)
LATENCY = Histogram(
    "hub_request_duration_seconds",
    "Time from an audited request's arrival to its answer being ready.",
    ["kind", "operation", "outcome", "agency_kind"],
)
AUDIT_QUEUE = Gauge(
    "hub_audit_queue_depth",
    "Audit entries waiting for their group commit.",
    multiprocess_mode="livesum",
)
AUDIT_BATCH = Histogram(
    "hub_audit_batch_size",
    "Entries committed per audit group commit.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
AUDIT_BATCH_FAILURES = Counter(
    "hub_audit_batch_failures", "Audit group commits that failed."
)
RESPONSE_CACHE = Counter(
    "hub_response_cache",
    "Queries the response cache saw: hit, miss, stored, or off (not listening).",
    ["result"],
)
RESPONSE_CACHE_LISTENING = Gauge(
    "hub_response_cache_listening",
    "Workers whose data version receives notifications (the cache serves).",
    multiprocess_mode="livesum",
)
TOKENS_ISSUED = Counter("hub_tokens_issued", "Access tokens issued by /oauth/token.")
TOKEN_REJECTIONS = Counter(
    "hub_token_rejections",
    "Refusals: source=token_endpoint (the OAuth error) or bearer (the reason).",
    ["source", "reason"],
)
WEBHOOK_FAILURES = Counter(
    "hub_webhook_delivery_failures",
    "Failed webhook delivery attempts (hub dispatch), by agency id.",
    ["agency"],
)

_operations: set[str] = set()
# The labelled children of REQUESTS and LATENCY: prometheus_client's
# labels() checks and joins its values on every call. The label sets are
# bounded (operation names by MAX_OPERATION_NAMES), so this dict is too.
_observed: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}


def operation_label(name: str | None, outcome: Outcome) -> str:
    """The name as a label value, from a bounded set (see the module docstring)."""
    if not name:
        return NONE
    if name in _operations:
        return name
    if (
        outcome in (Outcome.OK, Outcome.PARTIAL)
        and _NAME.fullmatch(name)
        and len(_operations) < MAX_OPERATION_NAMES
    ):
        _operations.add(name)
        return name
    return OTHER


def observe_request(
    draft: AuditDraft, record: AuditRecord, *, withheld: bool = False
) -> None:
    """Count one audited request; `withheld`: its answer became a 503."""
    outcome = Outcome.ERROR if withheld else record.outcome
    labels = (
        record.kind.value,
        operation_label(record.operation_name, outcome),
        outcome.value,
        record.agency_kind or NONE,
    )
    children = _observed.get(labels)
    if children is None:
        children = _observed[labels] = (
            REQUESTS.labels(*labels),
            LATENCY.labels(*labels),
        )
    children[0].inc()
    children[1].observe(time.perf_counter() - draft.started)


def token_rejected(source: str, reason: str | None) -> None:
    value = reason if reason and _REASON.fullmatch(reason) else OTHER
    TOKEN_REJECTIONS.labels(source, value.upper()).inc()


def metrics_allowed(settings: Settings, request: Request) -> bool:
    """The caller's address is in HUB_METRICS_ALLOW."""
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_allow)


def token_matches(settings: Settings, request: Request) -> bool:
    """No HUB_METRICS_TOKEN, or `Authorization: Bearer <it>` (constant time)."""
    if settings.metrics_token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = str(settings.metrics_token).encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected
    )


class MetricsEndpoint:
    """GET /metrics: 404 to other addresses (the endpoint is not revealed),
    401 without the configured token, else the exposition."""

    def __init__(self, settings: Settings, sampler: Sampler) -> None:
        self.settings = settings
        self.sampler = sampler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response
        if not metrics_allowed(self.settings, request):
            response = PlainTextResponse("Not Found", 404)
        elif not token_matches(self.settings, request):
            response = PlainTextResponse(
                "Unauthorized", 401, headers={"WWW-Authenticate": "Bearer"}
            )
        else:
            response = Response(
                await self.exposition(),
                headers={
                    "Content-Type": CONTENT_TYPE_LATEST,
                    "Cache-Control": "no-store",
                },
            )
        await response(scope, receive, send)

    async def exposition(self) -> bytes:
        self.sampler.sample()
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        scraped = CollectorRegistry()
        scraped.register(await self.sampler.scrape_time())
        return generate_latest(registry) + generate_latest(scraped)
