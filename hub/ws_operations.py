"""Operations by transport: subscriptions over the socket only, audited as they start."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult, StreamExecutionResult
from strawberry.types.graphql import OperationType

from auth.authorizer import Denial, fill_denied
from hub.audit.record import Outcome
from hub.audit.writer import AuditUnavailable
from hub.authorization import authorizer_for
from hub.ws_auth import SocketConnection
from resolvers.errors import Forbidden, HubError
from resolvers.subscriptions import SocketContext

SUBSCRIPTION = OperationType.SUBSCRIPTION


class AuditRefused(HubError):
    code = "AUDIT_UNAVAILABLE"


class SocketOperations(SchemaExtension):
    """Keeps subscriptions on the socket and everything else off it.

    Over HTTP a subscription is refused (400): it streams over
    graphql-transport-ws only. Over the socket a query or mutation is refused:
    it would pass by the per-request purpose check and fail-closed audit of
    POST /graphql. A subscription gets one audit entry, committed before its
    first event is read (DENIED when its field is forbidden to the caller,
    which then gets FORBIDDEN rather than an empty stream), and its errors are
    rendered as over HTTP (codes, reasons, unexpected ones masked). A field
    denied inside an event answers null with FORBIDDEN in every event, as
    Authorize does for a query's single result.

    Listed before Authorize, so it plans the document before it is pruned.
    """

    denials: tuple[Denial, ...] = ()  # inside each event, answered per event

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        allowed = set(ec.allowed_operations)
        over_socket = isinstance(ec.context, SocketContext)
        ec.allowed_operations = (
            allowed & {SUBSCRIPTION} if over_socket else allowed - {SUBSCRIPTION}
        )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        connection = _connection(context)
        if connection is None or ec.graphql_document is None:
            yield
            return
        assert isinstance(context, SocketContext)
        plan = authorizer_for(ec.schema).plan(
            ec.graphql_document,
            operation_name=ec.operation_name,
            scopes=frozenset(s.value for s in context.caller.scopes),
            cache_key=ec.query,
        )
        draft = connection.draft(context.caller)
        draft.note_document(ec.query, ec.operation_name, ec.variables)
        draft.fields = plan.served
        draft.denied = tuple(sorted({d.coordinate for d in plan.denials}))
        # A subscription has one root field: denied, nothing would run.
        root = next((d for d in plan.denials if len(d.path) == 1), None)
        draft.outcome = Outcome.DENIED if root else Outcome.OK
        draft.reason = "MISSING_SCOPE" if root else None
        try:
            await connection.record(draft)
        except AuditUnavailable as e:
            raise AuditRefused(
                "The audit log cannot be written, so no data is returned; retry later.",
                reason="AUDIT_UNAVAILABLE",
                requestId=context.request_id,
            ) from e
        if root is not None:
            raise _forbidden(root)
        self.denials = plan.denials
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        connection = _connection(self.execution_context.context)
        if connection is not None and isinstance(result, ExecutionResult):
            if self.denials and result.data is not None:
                fill_denied(result.data, self.denials)
                result.errors = [
                    *(result.errors or []),
                    *(_denied_at(d) for d in self.denials),
                ]
            if result.errors:
                result.errors = [_rendered(e, connection) for e in result.errors]
        yield


def _connection(context: object) -> SocketConnection | None:
    if isinstance(context, SocketContext) and isinstance(
        context.connection, SocketConnection
    ):
        return context.connection
    return None


def _forbidden(denial: Denial) -> Forbidden:
    required = [sorted(all_of) for all_of in denial.required]
    needs = " or ".join(" and ".join(s) for s in required)
    return Forbidden(
        f"Not allowed to read {denial.coordinate}: needs scope {needs}",
        reason="MISSING_SCOPE",
        requiredScopes=required,
    )


def _denied_at(denial: Denial) -> GraphQLError:
    error = _forbidden(denial)
    return GraphQLError(error.message, path=list(denial.path), original_error=error)


def _rendered(error: GraphQLError, connection: SocketConnection) -> GraphQLError:
    """The error as hub.graphql renders it over HTTP, as a GraphQLError."""
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError) or isinstance(
        original, CannotGetOperationTypeError
    ):
        return error  # strawberry closes the socket (4400) on these
    if isinstance(original, InvalidOperationTypeError):
        formatted: dict[str, Any] = {
            "message": f"{error.message} over graphql-transport-ws: "
            "POST them to /graphql",
            "extensions": {"code": "BAD_REQUEST", "reason": "SUBSCRIPTIONS_ONLY"},
        }
    else:
        formatted = connection.format_error(error)
    return GraphQLError(
        formatted["message"],
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions=formatted.get("extensions"),
    )
