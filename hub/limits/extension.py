"""The abuse limits of /graphql as a strawberry extension (see hub/limits/).

Per operation, in this order:

1. parsing stops after HUB_MAX_TOKENS tokens: TOO_MANY_TOKENS;
2. once parsed, before validation: depth, aliases, root fields, fields and
   cost against their limits (each refusal is GRAPHQL_VALIDATION_FAILED with
   its reason, the limit and the actual value; nothing is charged);
3. once valid, before anything is planned or run: the cost is charged to the
   caller's budget, keyed by its client id (the anonymous public: by
   address); a request it cannot pay gets HTTP 429, Retry-After and
   RATE_LIMITED / BUDGET_EXHAUSTED. Answers from step 2 on carry
   `extensions.cost` and the X-RateLimit-* headers;
4. execution is cancelled after HUB_REQUEST_TIMEOUT_SECONDS: HTTP 504 and
   TIMEOUT; the request's session is dropped, so nothing it wrote is kept.

List it after ValidationCache (which would overwrite the refusal set while
validating) and before Authorize. Subscriptions over the socket get the
document limits only: they are paced by their poll interval, and a timeout
would end them.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from hub.audit.draft import draft_of
from hub.limits.budget import Charge
from hub.limits.check import (
    Violation,
    is_token_overflow,
    too_many_tokens,
    violation_of,
)
from hub.limits.guard import Guard, guard_for
from resolvers.context import Context
from resolvers.errors import HubError
from resolvers.subscriptions import SocketContext

log = logging.getLogger("hub.limits")


class Timeout(HubError):
    code = "TIMEOUT"


class RequestLimits(SchemaExtension):
    cost: int = 0  # of this request, once the document is measured
    report: dict[str, int] | None = None  # extensions.cost of the answer

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, Context):
            yield
            return
        limits = self.guard(context).limits
        ec.parse_options["max_tokens"] = limits.max_tokens
        yield
        result = ec.result
        if result is not None and any(map(is_token_overflow, result.errors or ())):
            _note(context, "TOO_MANY_TOKENS")
            result.errors = [too_many_tokens(limits)]

    async def on_parse(self) -> AsyncIterator[None]:
        yield
        # Before validation, whose time grows with the square of repeated
        # fields. A refusal here can only be raised: ValidationCache would
        # replace errors set on the context. (Over the socket an error raised
        # here would end the connection: there, on_validate refuses.)
        context = self.execution_context.context
        if (
            not isinstance(context, Context)
            or isinstance(context, SocketContext)
            or self.execution_context.graphql_document is None  # a syntax error
        ):
            return
        violation = self.measure(context)
        if violation is not None:
            self.report_to(
                context, await self.guard(context).budget.charge(budget_key(context), 0)
            )
            _note(context, violation.reason)
            raise violation.error()

    async def on_validate(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        if isinstance(context, Context) and ec.graphql_document is not None:
            if ec.pre_execution_errors is None:  # no ValidationCache ran first
                ec.pre_execution_errors = validate_document(
                    ec.schema._schema, ec.graphql_document, ec.validation_rules
                )
            if not ec.pre_execution_errors:  # only a valid document is charged
                refusal = await self.admit(context)
                if refusal is not None:
                    ec.pre_execution_errors = [refusal]
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context) or isinstance(context, SocketContext):
            yield
            return
        async with deadline(context):
            yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.report is None else {"cost": self.report}

    def guard(self, context: Context) -> Guard:
        return guard_for(self.execution_context.schema._schema, context.settings)

    def measure(self, context: Context) -> Violation | None:
        """Measure the parsed document (cached by its text); the limit it exceeds."""
        ec = self.execution_context
        assert ec.graphql_document is not None
        violation, self.cost = measure(
            self.guard(context),
            ec.graphql_document,
            ec.operation_name,
            text=ec.query,
            variables=ec.variables,
        )
        return violation

    async def admit(self, context: Context) -> GraphQLError | None:
        if isinstance(context, SocketContext):  # limits, no budget
            violation = self.measure(context)
            return None if violation is None else violation.error()
        self.report, refusal = await charge(context, self.guard(context), self.cost)
        return refusal

    def report_to(self, context: Context, charge: Charge) -> None:
        self.report = report_of(context, self.cost, charge)


def measure(
    guard: Guard,
    document: DocumentNode,
    operation_name: str | None,
    *,
    text: str | None,
    variables: dict[str, Any] | None,
) -> tuple[Violation | None, int]:
    """The limit the operation exceeds (if any) and its cost."""
    shape, cost = guard.measure(
        document, operation_name, text=text, variables=variables
    )
    return violation_of(shape, cost, guard.limits), cost


async def charge(
    context: Context, guard: Guard, cost: int
) -> tuple[dict[str, int], GraphQLError | None]:
    """Charge the request's cost to the caller's budget: the cost report, and
    the refusal if it cannot pay."""
    charged = await guard.budget.charge(budget_key(context), cost)
    report = report_of(context, cost, charged)
    if charged.allowed:
        return report, None
    context.response.status_code = 429
    context.response.headers["Retry-After"] = str(charged.retry_after)
    _note(context, "BUDGET_EXHAUSTED")
    return report, rate_limited(cost, charged)


def report_of(context: Context, cost: int, charge: Charge) -> dict[str, int]:
    """The cost and the budget: the body's report, and the headers set."""
    headers = context.response.headers
    headers["X-RateLimit-Limit"] = str(charge.limit)
    headers["X-RateLimit-Remaining"] = str(charge.remaining)
    headers["X-RateLimit-Reset"] = str(charge.reset_seconds)
    return {
        "requested": cost,
        "remaining": charge.remaining,
        "limit": charge.limit,
        "resetSeconds": charge.reset_seconds,
    }


@asynccontextmanager
async def deadline(context: Context) -> AsyncIterator[None]:
    """Cancel what runs inside after HUB_REQUEST_TIMEOUT_SECONDS: Timeout."""
    seconds = context.settings.request_timeout_seconds
    timer = asyncio.timeout(seconds)
    try:
        async with timer:
            yield
    except TimeoutError:
        if not timer.expired():  # a TimeoutError of the operation's own
            raise
        await _drop_session(context)
        context.response.status_code = 504
        _note(context, "REQUEST_TIMEOUT")
        raise Timeout(
            f"The request ran longer than {seconds:g} s and was cancelled; "
            "nothing it wrote was kept.",
            reason="REQUEST_TIMEOUT",
            timeoutSeconds=seconds,
        ) from None


def budget_key(context: Context) -> str:
    """Whose budget pays: the client, or for the anonymous public its address."""
    if context.caller.client_id is not None:
        return f"client:{context.caller.client_id}"
    client = context.request.client
    return f"address:{client.host if client else '-'}"


def rate_limited(cost: int, charge: Charge) -> GraphQLError:
    return GraphQLError(
        f"The request costs {cost} points and the budget holds {charge.remaining}; "
        f"retry in {charge.retry_after} s.",
        extensions={
            "code": "RATE_LIMITED",
            "reason": "BUDGET_EXHAUSTED",
            "cost": cost,
            "remaining": charge.remaining,
            "retryAfter": charge.retry_after,
        },
    )


def _note(context: Context, reason: str) -> None:
    draft = draft_of(context.request.scope)
    if draft is not None:
        draft.reason = reason


async def _drop_session(context: Context) -> None:
    """Cancelled mid-statement, the connection's state is unknown: discard it
    (its transaction rolls back) rather than hand it back to the pool."""
    if not context.has_session:
        return
    try:
        await context.db.invalidate()
    except Exception:
        log.warning("dropping a timed-out session failed", exc_info=True)
