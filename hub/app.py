"""Composition root: create_app(settings) builds the Starlette application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from auth.directory import Directory
from auth.external import ExternalIssuer
from auth.keys import KeyStore
from auth.middleware import Authenticator, AuthMiddleware
from auth.server.adapter import OAuthEndpoints
from hub.audit.middleware import AuditMiddleware
from hub.audit.writer import AuditWriter
from hub.body_limit import BodyLimitMiddleware
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.evaluate.loading import active_policies
from hub.exports_route import export_route
from hub.gc_tuning import release_heap, settle_heap
from hub.graphql import HubGraphQL, create_schema
from hub.health import Readiness, health_routes
from hub.limits.guard import guard_for
from hub.logs import configure_logging
from hub.malloc_tuning import pin_mmap_threshold
from hub.metrics import MetricsEndpoint
from hub.metrics_collect import Sampler
from hub.portal.public import PublicGraphQL
from hub.portal.routes import portal_routes
from hub.portal.site import Site
from hub.replica import Replica
from hub.request_id import RequestIdMiddleware
from hub.response_cache import ResponseCache
from hub.review.rulebook import load_rulebook
from hub.subsidy_route import subsidy_route
from hub.tracing import enable_tracing

AUDIT_POOL_SIZE = 2


def create_app(
    settings: Settings, *, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> Starlette:
    """The hub. Tests pass their own sessionmaker; otherwise one is made from settings.

    Raises PolicyError (file, line, reason) when a rating scheme's policy file
    is invalid: the hub does not start on a broken policy.
    """
    engine = audit_engine = None
    if sessionmaker is None:
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        # Every answer waits for its audit entry: the writer gets connections
        # of its own, never queued behind the requests holding the pool.
        audit_engine = create_engine(settings, pool_size=AUDIT_POOL_SIZE)

    # Published-only queries read from the replica (hub/replica.py); its own
    # engine and pool, whether or not a test passed the primary's sessionmaker.
    replica = (
        Replica(
            create_engine(
                replace(settings, database_url=settings.database_replica_url)
            ),
            max_lag_seconds=settings.replica_max_lag_seconds,
        )
        if settings.database_replica_url
        else None
    )

    audit = AuditWriter(audit_engine or sessionmaker, settings)
    answers = ResponseCache.for_settings(settings, engine or audit.engine)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        await audit.start()
        await asyncio.to_thread(keys.signing_key)  # /readyz: loaded, or created
        settle_heap()
        pin_mmap_threshold()
        yield
        release_heap()
        await audit.aclose()  # what is queued is written before the engine goes
        await limits.aclose()  # the budget's Redis connections
        if answers is not None:
            await answers.aclose()  # the data version's listening connection
        for owned in (engine, audit_engine):
            if owned is not None:
                await owned.dispose()
        if replica is not None:
            await replica.aclose()

    keys = KeyStore(
        settings.keys_dir,
        refresh_seconds=settings.auth_cache_seconds,
        clock=settings.clock,
    )
    directory = Directory(sessionmaker, ttl=settings.auth_cache_seconds)
    oauth = OAuthEndpoints(
        settings, keys=keys, directory=directory, sessionmaker=sessionmaker
    )
    authenticator = Authenticator(
        settings,
        keys=keys,
        directory=directory,
        external=ExternalIssuer.from_settings(settings),
    )
    schema = create_schema(compiled=settings.compiled_execution)
    policies = active_policies(settings)
    rulebook = load_rulebook(settings.review_policy_dir)
    graphql = HubGraphQL(
        schema,
        settings=settings,
        sessionmaker=sessionmaker,
        policies=policies,
        rulebook=rulebook,
        authenticator=authenticator,  # subscriptions authenticate at connection_init
        audit=audit,
        replica=replica,
        answers=answers,
    )
    limits = guard_for(schema._schema, settings)

    primary = engine or audit.engine  # a test's sessionmaker: one engine for both
    pools = {"requests": primary, **({"audit": audit_engine} if audit_engine else {})}
    metrics = MetricsEndpoint(settings, Sampler(pools, sessionmaker))

    app = Starlette(
        debug=False,
        routes=[
            *health_routes(Readiness(primary, audit, keys)),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # graphql-transport-ws
            export_route(settings, sessionmaker),
            subsidy_route(settings, sessionmaker, policies=policies, rulebook=rulebook),
            *oauth.routes(),
            *portal_routes(
                Site(
                    PublicGraphQL(
                        schema,
                        settings=settings,
                        sessionmaker=sessionmaker,
                        policies=policies,
                        rulebook=rulebook,
                        replica=replica,
                    ),
                    cache_seconds=settings.portal_cache_seconds,
                )
            ),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                max_query_bytes=settings.max_query_bytes,
            ),
            Middleware(AuditMiddleware, writer=audit, clock=settings.clock),
            Middleware(AuthMiddleware, authenticator=authenticator),
        ],
        lifespan=lifespan,
    )
    enable_tracing(app, settings)  # HUB_OTEL_ENABLED; TracingUnavailable
    app.state.audit = audit
    app.state.limits = limits
    app.state.replica = replica
    app.state.answers = answers
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn: settings from HUB_* variables and .env."""
    return create_app(Settings.from_env())
