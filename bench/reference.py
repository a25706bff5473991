"""The ceiling of this Python stack: Starlette + asyncpg, one hand-written SQL per request.

Bench-only (server B of `make bench`). One JSON POST endpoint per scenario
takes the very body a bank sends the hub (`{"query": ..., "variables": ...}`;
the query text is parsed as JSON but not executed) and answers with the
hub's response shape, the JSON built by PostgreSQL (json_build_object and
json_agg subqueries). It applies the row rules the hub applies for a bank
(published grades in force today under the official scheme, penalties inside
their publication window, the assessment and the policy in force), but no
GraphQL, no authentication, no authorization and no audit.

Served by hub/serve.py: `python -m hub.serve bench.reference:app_from_env`;
HUB_DATABASE_URL names the database, HUB_DB_POOL_SIZE the pool per worker.
"""

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

OFFICIAL_SCHEME = "JS_DYNAMIC_12"
FEED_DATASETS = ["RATING", "PENALTY", "RISK", "INSURANCE"]  # a bank's scopes see all
PAGE = 100
CST = timedelta(hours=8)

# One enterprise with the single-lookup selection; $2 the scheme, $3 today.
ENTERPRISE_JSON = """
CASE WHEN e.id IS NULL THEN NULL ELSE json_build_object(
  'code', e.code, 'name', e.name, 'status', e.status,
  'district', json_build_object('code', d.code, 'name', d.name),
  'currentRating', (
    SELECT json_build_object('grade', r.grade, 'scheme', r.scheme,
      'score', (r.score * 0.1)::text, 'validFrom', r.valid_from, 'validTo', r.valid_to)
    FROM credit_rating r
    WHERE r.enterprise_id = e.id AND r.scheme = $2
      AND r.status IN ('FINAL', 'REPAIRED')
      AND r.valid_from <= $3 AND (r.valid_to IS NULL OR r.valid_to >= $3)
    ORDER BY r.valid_from DESC, r.id DESC LIMIT 1),
  'penalties', coalesce((
    SELECT json_agg(json_build_object('decisionNumber', p.decision_number,
      'decisionDate', p.decision_date, 'categories', p.categories,
      'fineAmount', (p.fine_amount * 0.01)::text, 'status', p.status)
      ORDER BY p.decision_date DESC, p.id DESC)
    FROM penalty_decision p
    WHERE p.enterprise_id = e.id AND p.status <> 'REVOKED'
      AND p.publication_end_date >= $3), '[]'),
  'riskLevel', (
    SELECT json_build_object('overallLevel', k.overall_level,
      'assessedOn', k.assessed_on)
    FROM risk_assessment k
    WHERE k.enterprise_id = e.id AND k.assessed_on <= $3
    ORDER BY k.assessed_on DESC, k.id DESC LIMIT 1),
  'insurance', (
    SELECT json_build_object('insurerName', i.insurer_name,
      'policyNumber', i.policy_number, 'startDate', i.start_date,
      'endDate', i.end_date, 'status', i.status)
    FROM insurance_policy i
    WHERE i.enterprise_id = e.id AND i.status <> 'SURRENDERED'
      AND i.start_date <= $3 AND i.end_date >= $3
    ORDER BY i.start_date DESC, i.id DESC LIMIT 1)
) END
"""

SINGLE = f"""
SELECT {ENTERPRISE_JSON}::text
FROM enterprise e JOIN district d ON d.code = e.district_code
WHERE e.code = $1
"""

BATCH = f"""
SELECT coalesce(json_agg({ENTERPRISE_JSON} ORDER BY c.n), '[]')::text
FROM unnest($1::text[]) WITH ORDINALITY AS c(code, n)
LEFT JOIN enterprise e ON e.code = c.code
LEFT JOIN district d ON d.code = e.district_code
"""

# A current district includes the abolished codes merged into it.
LIST = f"""
SELECT e.id, {ENTERPRISE_JSON}::text
FROM enterprise e JOIN district d ON d.code = e.district_code
WHERE e.district_code IN (
  SELECT code FROM district WHERE code = $1 OR successor_code = $1)
ORDER BY e.id LIMIT {PAGE + 1}
"""

FEED = f"""
SELECT seq, json_build_object('seq', seq::text,
  'cursor', translate(encode(convert_to('feed:' || seq, 'UTF8'), 'base64'), '+/', '-_'),
  'at', at, 'dataset', dataset, 'kind', kind, 'enterpriseCode', enterprise_code,
  'recordId', record_id::text, 'payload', payload)::text
FROM change_event WHERE seq > $1 AND dataset = ANY($2::text[])
ORDER BY seq LIMIT {PAGE + 1}
"""


def today() -> date:
    """Today in China Standard Time, as the hub counts days."""
    return (datetime.now(UTC) + CST).date()


def page_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def feed_seq(cursor: str | None) -> int:
    if cursor is None:
        return 0
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("feed:"))


def data(field: str, value: bytes) -> Response:
    return Response(
        b'{"data":{"' + field.encode() + b'":' + value + b"}}",
        media_type="application/json",
    )


async def variables_of(request: Request) -> dict[str, Any]:
    body = orjson.loads(await request.body())
    variables: dict[str, Any] = body.get("variables") or {}
    return variables


def create_app(dsn: str, pool_size: int) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            dsn,
            min_size=pool_size,
            max_size=pool_size,
            server_settings={"timezone": "UTC"},
        )
        yield
        await pool.close()

    async def fetch(query: str, *args: object) -> Any:
        assert pool is not None
        async with pool.acquire() as conn:
            return await conn.fetch(query, *args)

    async def single(request: Request) -> Response:
        code = str((await variables_of(request))["code"]).strip().upper()
        rows = await fetch(SINGLE, code, OFFICIAL_SCHEME, today())
        found = rows[0][0] if rows else None
        return data("enterprise", found.encode() if found else b"null")

    async def batch(request: Request) -> Response:
        codes = [str(c).strip().upper() for c in (await variables_of(request))["codes"]]
        rows = await fetch(BATCH, codes, OFFICIAL_SCHEME, today())
        return data("enterprisesByCodes", rows[0][0].encode())

    async def listing(request: Request) -> Response:
        district = str((await variables_of(request))["district"])
        rows = await fetch(LIST, district, OFFICIAL_SCHEME, today())
        nodes = rows[:PAGE]
        end = orjson.dumps(page_cursor("enterprise", nodes[-1][0]) if nodes else None)
        more = b"true" if len(rows) > PAGE else b"false"
        body = (
            b'{"nodes":['
            + b",".join(r[1].encode() for r in nodes)
            + b'],"pageInfo":{"hasNextPage":'
            + more
            + b',"endCursor":'
            + end
            + b"}}"
        )
        return data("enterprises", body)

    async def feed(request: Request) -> Response:
        after = (await variables_of(request)).get("after")
        rows = await fetch(FEED, feed_seq(after), FEED_DATASETS)
        nodes = rows[:PAGE]
        end = orjson.loads(nodes[-1][1])["cursor"] if nodes else after
        body = (
            b'{"nodes":['
            + b",".join(r[1].encode() for r in nodes)
            + b'],"endCursor":'
            + orjson.dumps(end)
            + b',"hasNextPage":'
            + (b"true" if len(rows) > PAGE else b"false")
            + b"}"
        )
        return data("changes", body)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/single", single, methods=["POST"]),
            Route("/batch", batch, methods=["POST"]),
            Route("/list", listing, methods=["POST"]),
            Route("/feed", feed, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """Factory for hub/serve.py: the hub's HUB_DATABASE_URL, as a libpq DSN."""
    url = os.environ["HUB_DATABASE_URL"].replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    return create_app(url, int(os.environ.get("HUB_DB_POOL_SIZE", "10")))
