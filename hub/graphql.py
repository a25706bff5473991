"""The /graphql endpoint: context per request, one session, one error format.

Errors follow the community convention: `extensions.code` is one of the usual
codes and `extensions.reason` the precise cause. Unexpected errors are masked
(no trace, no SQL) and logged with the request id they carry.
"""

import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from auth.caller import Caller
from auth.middleware import Authenticator
from auth.purpose import PurposeError, purpose_case_ref, stated_purpose
from hub.audit.draft import draft_of
from hub.audit.notes import AuditNotes
from hub.audit.record import Outcome
from hub.audit.writer import AuditWriter
from hub.authorization import Authorize
from hub.config import Settings
from hub.db import is_unavailable
from hub.direct import DirectQueries
from hub.evaluate.loading import Policies
from hub.executor import CompiledExecutor
from hub.json_post import single_operation
from hub.limits.extension import RequestLimits
from hub.operation_session import CloseSession
from hub.parse_cache import CachedParse, CachedValidation
from hub.persisted import (
    PersistedDocuments,
    PersistedRefused,
    RequestAdapter,
    document_id_of,
)
from hub.replica import Replica
from hub.request_id import request_id_of
from hub.response_cache import ResponseCache
from hub.review.rulebook import Rulebook
from hub.ws_auth import SocketGate, TextFrames
from hub.ws_operations import SocketOperations
from resolvers.context import Context
from resolvers.errors import HubError
from resolvers.subscriptions import SocketContext
from schema.build import build_schema

log = logging.getLogger("hub.graphql")

RETRY_AFTER_SECONDS = "5"


class QuietSchema(strawberry.Schema):
    """Errors are logged once, by HubGraphQL.format_error, not by strawberry.

    Queries over HTTP whose every step is cached take hub/direct.py.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct = DirectQueries(self)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if (
            root_value is None
            and not operation_extensions
            and allowed_operation_types is not None
        ):
            result = await self.direct.execute(
                query,
                variable_values,
                context_value,
                operation_name,
                allowed_operation_types,
            )
            if result is not None:
                return result
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        return None


def caller_of(request: Request) -> Caller:
    """The caller the auth middleware resolved; the anonymous public otherwise."""
    caller = request.scope.get("state", {}).get("caller")
    return caller if isinstance(caller, Caller) else Caller.public()


def create_schema(*, compiled: bool = True) -> strawberry.Schema:
    """The hub's schema; `compiled` completes results with hub/executor.py."""
    return build_schema(
        extensions=[
            CloseSession,
            # Banks send the same few documents again and again: parse and
            # validate each text once per worker (validation is keyed by the
            # parsed document, so the parser cache must come first).
            CachedParse,
            CachedValidation,
            # After validation (its cache would overwrite a refusal), before
            # anything is planned or run: hub/limits/extension.py.
            RequestLimits,
            SocketOperations,
            Authorize,
            AuditNotes,
        ],
        schema_class=QuietSchema,
        execution_context_class=CompiledExecutor if compiled else None,
    )


class HubGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextFrames
    request_adapter_class = RequestAdapter

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        policies: Policies,
        rulebook: Rulebook,
        authenticator: Authenticator,
        audit: AuditWriter,
        replica: Replica | None = None,
        answers: ResponseCache | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            # Uploads need a bearer token with a write scope; no cookie
            # authenticates, so a cross-site form post cannot write.
            multipart_uploads_enabled=True,
            # Subscriptions: graphql-transport-ws only, the legacy graphql-ws off.
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.replica = replica
        self.answers = answers
        self.policies = policies
        self.rulebook = rulebook
        self.persisted = PersistedDocuments(
            sessionmaker, ttl=settings.auth_cache_seconds
        )
        self.sockets = SocketGate(
            settings=settings,
            sessionmaker=sessionmaker,
            policies=policies,
            authenticator=authenticator,
            audit=audit,
            error_format=format_error,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Strawberry answers transport errors in plain text; clients expect JSON.
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        draft = draft_of(scope)
        try:
            purpose = stated_purpose(caller_of(request), request.headers)
        except PurposeError as e:
            if draft is not None:
                draft.outcome, draft.reason = Outcome.DENIED, e.reason
            refusal = error_response(400, e.message, "BAD_USER_INPUT", reason=e.reason)
            await refusal(scope, receive, send)
            return
        if draft is not None and purpose is not None:
            draft.purpose, draft.case_ref = (
                purpose.value,
                purpose_case_ref(request.headers),
            )
        try:
            response = await self._answer(request)
        except PersistedRefused as e:
            e.note(draft)
            response = error_response(e.status, e.message, e.code, reason=e.reason)
        except HTTPException as e:
            if draft is not None:
                draft.reason = "BAD_REQUEST"
            response = error_response(e.status_code, e.reason, "BAD_REQUEST")
        except ClientDisconnect:
            # Gone before its body arrived: nothing ran, nobody to answer.
            if draft is not None:
                draft.outcome, draft.reason = Outcome.INVALID, "CLIENT_DISCONNECTED"
            return
        finally:
            await request.close()  # uploaded files' temporary files
            # The context holds the request, whose state holds the context: a
            # cycle only the garbage collector would free, with everything
            # the request made (README, "no reference cycle"). Nothing reads
            # the context after the answer.
            scope.get("state", {}).pop("context", None)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        """strawberry's `run`; a plain JSON POST takes its steps directly
        (hub/json_post.py)."""
        operation = await single_operation(request)
        if operation is None:
            return await self.run(request)
        adapter = self.request_adapter_class(request)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        data = GraphQLRequestData(
            query=operation.get("query"),
            variables=operation.get("variables"),
            operation_name=operation.get("operationName"),
            extensions=operation.get("extensions"),
        )
        data = await self.persisted.resolve(
            data, caller_of(request), await document_id_of(adapter)
        )
        result = await self.execute_single(
            request=request,
            request_adapter=adapter,
            sub_response=sub_response,
            context=context,
            root_value=None,  # the hub has none (get_root_value is strawberry's)
            request_data=data,
        )
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(
            response_data=response_data, sub_response=sub_response
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, WebSocket):
            return self.sockets.context(request)
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        context = Context(
            request=request,
            response=response,
            sessions=self.sessionmaker,
            settings=self.settings,
            caller=caller_of(request),
            request_id=request_id_of(request.scope),
            now=self.settings.clock(),
            policies=self.policies,
            rulebook=self.rulebook,
            replica=self.replica,
            answers=self.answers,
        )
        request.state.context = context
        return context

    async def parse_http_body(
        self, request_adapter: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A persisted document's id becomes its text (hub/persisted.py)."""
        data = await super().parse_http_body(request_adapter)
        if isinstance(data, list):  # batching is off: strawberry refused it
            return data
        assert isinstance(request_adapter, RequestAdapter)
        return await self.persisted.resolve(
            data,
            caller_of(request_adapter.request),
            await document_id_of(request_adapter),
        )

    async def on_ws_connect(
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, SocketContext)
        await self.sockets.admit(context)  # ConnectionRejectionError: 4403
        return UnsetType()  # connection_ack without a payload

    def decode_json(self, data: str | bytes) -> object:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # What orjson refuses and the standard library reads (NaN,
            # integers over 64 bits) gets the answer it always got.
            return json.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        context: Context = request.state.context
        errors = result.errors or []
        gone = database_gone(errors, context.request_id)
        if gone is not None:
            context.response.status_code = 503
            context.response.headers["Retry-After"] = RETRY_AFTER_SECONDS
            return {"errors": [gone]}
        draft = draft_of(request.scope)
        if draft is not None:
            draft.outcome = outcome_of(result)
        body: GraphQLHTTPResponse = {"data": result.data}
        if errors:
            body["errors"] = [format_error(e, context.request_id) for e in errors]
            if result.data is None and all(e.path is None for e in errors):
                # Parse and validation failures: nothing ran, so no data key.
                del body["data"]
        if result.extensions:
            body["extensions"] = result.extensions
        return body


def database_gone(
    errors: Sequence[GraphQLError], request_id: str
) -> dict[str, Any] | None:
    """The one error to answer instead of `errors` when they come from the
    database being unavailable (logged once, no detail), else None."""
    if not any(
        e.original_error is not None and is_unavailable(e.original_error)
        for e in errors
    ):
        return None
    return unavailable_error(request_id)


def unavailable_error(request_id: str) -> dict[str, Any]:
    """What every route answers while the database is gone (logged once)."""
    log.error("database unavailable", extra={"request_id": request_id})
    return {
        "message": "The database is unavailable; retry later.",
        "extensions": {
            "code": "SERVICE_UNAVAILABLE",
            "reason": "DATABASE_UNAVAILABLE",
            "requestId": request_id,
        },
    }


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """Render one error with a community code; mask and log the unexpected."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, HubError):
        formatted["message"] = original.message
        formatted["extensions"] = original.extensions
    elif original is None or isinstance(original, GraphQLError):
        code = _client_error_code(error.message)
        formatted["extensions"] = {
            "code": code,
            **(_variable_problem(error.message) if code == "BAD_USER_INPUT" else {}),
            **(error.extensions or {}),
        }
    else:
        log.error(
            "unexpected error in %s",
            ".".join(map(str, error.path or [])),
            exc_info=original,
            extra={"request_id": request_id},
        )
        formatted["message"] = f"Internal server error (request {request_id})."
        formatted["extensions"] = {
            "code": "INTERNAL_SERVER_ERROR",
            "requestId": request_id,
        }
    return formatted


def _client_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    # Variable values that fail coercion are bad input; unused or undefined
    # variables are invalid documents.
    if message.startswith("Variable '$") and (
        "has invalid value" in message
        or "got invalid value" in message
        or "was not provided" in message
    ):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


_VARIABLE = re.compile(r"^Variable '\$(\w+)'")
_AT_RELATIVE = re.compile(r" at \.([\w.\[\]]+):")  # graphql-core 3.2
_AT_QUOTED = re.compile(r" at '([\w.\[\]]+)'")  # older wording


def _variable_problem(message: str) -> dict[str, str]:
    """Which variable (or which field inside it) failed to coerce."""
    variable = _VARIABLE.match(message)
    field = variable.group(1) if variable else None
    if (relative := _AT_RELATIVE.search(message)) and field:
        field = f"{field}.{relative.group(1)}"
    elif quoted := _AT_QUOTED.search(message):
        field = quoted.group(1)
    return {"reason": "INVALID_VARIABLE"} | ({"field": field} if field else {})


def error_response(
    status: int, message: str, code: str, *, reason: str | None = None
) -> JSONResponse:
    extensions = {"code": code} if reason is None else {"code": code, "reason": reason}
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status
    )


def outcome_of(result: ExecutionResult) -> Outcome:
    """How a GraphQL answer ends up in the audit log."""
    errors = result.errors or []
    if not errors:
        return Outcome.OK
    originals = [e.original_error for e in errors]
    if any(
        o is not None and not isinstance(o, HubError | GraphQLError) for o in originals
    ):
        return Outcome.ERROR
    if result.data is None and all(e.path is None for e in errors):
        return Outcome.INVALID
    return Outcome.PARTIAL
