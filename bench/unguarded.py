"""The hub without audit and authorization: server D of `make bench` (bench only).

The goal "audited and authorized ≥ 0.85 of the same hub with both off" needs
that other hub. It is composed here from the real one, so it follows every
change to hub/app.py and hub/graphql.py without a switch in production code:

- create_app(settings) as `hub serve` builds it, then
- its middleware minus AuditMiddleware, with AuthMiddleware replaced by one
  that sets a fixed caller (a COMMERCIAL_BANK agency holding every scope:
  it may read everything, with a bank's row rules, so the answers are the
  ones the hub gives the bench bank; no token is checked);
- its GraphQL schema rebuilt with the same extensions, schema class and
  executor, minus Authorize (the per-operation scope check) and AuditNotes;
  its direct path (hub/direct.py) then skips the same two steps.

Served by hub/serve.py: `python -m hub.serve bench.unguarded:app_from_env`.
"""

from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope as ASGIScope, Send

from auth.caller import Caller
from auth.middleware import AuthMiddleware
from auth.scopes import Scope
from hub.app import create_app
from hub.audit.middleware import AuditMiddleware
from hub.audit.notes import AuditNotes
from hub.authorization import Authorize
from hub.config import Settings
from hub.enums import AgencyKind
from hub.graphql import HubGraphQL
from schema.build import build_schema

GUARDS = (Authorize, AuditNotes)
CALLER = Caller.for_agency(
    kind=AgencyKind.COMMERCIAL_BANK,
    scopes=frozenset(Scope),
    client_id="bench-unguarded",
    agency_id=0,
    agency_name="基准测试银行 (bench, unguarded)",
    district_code=None,
    enterprise_code=None,
)


class FixedCaller:
    """Every request is CALLER; the Authorization header is not read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["caller"] = CALLER
        await self.app(scope, receive, send)


def unguarded_schema(schema: strawberry.Schema) -> strawberry.Schema:
    """The same schema, built without the Authorize and AuditNotes extensions."""
    # Any: the element type build_schema takes may widen (factories of
    # extensions); these are the production schema's own, whatever it is.
    kept: list[Any] = [e for e in schema.extensions if e not in GUARDS]
    return build_schema(
        extensions=kept,
        schema_class=type(schema),
        execution_context_class=schema.execution_context_class,
    )


def create_unguarded(settings: Settings) -> Starlette:
    hub = create_app(settings)
    graphql = next(
        r.endpoint
        for r in hub.routes
        if isinstance(r, Route) and isinstance(r.endpoint, HubGraphQL)
    )
    assert isinstance(graphql.schema, strawberry.Schema)
    graphql.schema = unguarded_schema(graphql.schema)
    middleware = [
        Middleware(FixedCaller) if m.cls is AuthMiddleware else m  # type: ignore[comparison-overlap]
        for m in hub.user_middleware
        if m.cls is not AuditMiddleware  # type: ignore[comparison-overlap]
    ]
    return Starlette(
        routes=hub.routes,
        middleware=middleware,
        lifespan=hub.router.lifespan_context,
    )


def app_from_env() -> Starlette:
    """Factory for hub/serve.py: settings from HUB_* variables, as `hub serve`."""
    return create_unguarded(Settings.from_env())
