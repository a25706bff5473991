"""Queries answered in one straight line instead of strawberry's hook machinery.

For every request strawberry builds an execution context, instantiates each
schema extension, and enters and leaves each one's hooks for the operation,
parsing, validation and execution through context-manager stacks; graphql-core
then builds an executor and resolves the root fields through wrappers. For a
single lookup that was about a fifth of the worker's CPU, most of it spent on
requests whose every step is already cached: the parsed and validated
document, its shape and cost, the caller's authorization plan and the
compiled completion below the root.

`DirectQueries.execute` answers such a request with the same steps, in the
order the extensions take them, calling the very functions they call:

1. parse and validate (hub/parse_cache.py), measure against the limits and
   plan authorization (auth/authorizer.py), touching nothing: a document
   that fails any of these, denies a field, asks for introspection or is not
   a query goes to strawberry, which answers as it always has (as does
   everything, if the schema has an extension whose steps are not taken
   here);
2. note the document on the audit draft, charge the budget (a refusal is
   answered here, 429 as usual), note the fields served;
3. answer from the response cache (hub/response_cache.py) if it keeps
   this answer under the current data version; otherwise
   start the query's reads (hub/operation_session.py) and, within the
   request timeout, run it: each root field's resolver called directly and
   completed by its compiled plan (hub/executor.py), or graphql-core's own
   execution when a root field has no plan, a resolver fails or a plan meets
   an error (queries are reads, so running them again repeats no effect,
   and graphql-core then reports errors and their paths as usual); an
   answer of the direct resolvers, without errors, may be kept;
4. note whose data went out and end the session.

`HUB_DIRECT_EXECUTION=false` sends everything through strawberry;
tests/test_direct.py sends the same requests both ways and requires the same
answers, headers and audit entries.
"""

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType as GraphQLOperationType,
    execute,
    get_operation_ast,
)
from graphql.pyutils import Path
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from hub.audit.notes import AuditNotes, note_document, note_returned
from hub.authorization import (
    Authorize,
    authorizer_for,
    introspection_keys,
    note_plan,
    scopes_of,
)
from hub.executor import (
    Call,
    CompiledExecutor,
    Compiler,
    Plan,
    Unsupported,
    invoke,
    plan_for,
)
from hub.limits.extension import RequestLimits, charge, deadline, measure
from hub.limits.guard import guard_for
from hub.operation_session import CloseSession, end_operation, start_query
from hub.parse_cache import CachedParse, CachedValidation, parsed, validation_errors
from hub.response_cache import cacheable
from hub.ws_operations import SocketOperations
from resolvers.context import Context
from resolvers.subscriptions import SocketContext

PREPARED_CACHE_SIZE = 1024
# strawberry's check, as it passes it to graphql-core (typed there as a TypeGuard).
IS_AWAITABLE: Any = optimized_is_awaitable
# Requests this worker answered here, and of those with resolvers called
# directly (the rest by graphql-core's execution).
_counts = {"answered": 0, "resolved": 0}


def direct_counts() -> dict[str, int]:
    """This worker's counts of direct answers (for tests)."""
    return dict(_counts)


@dataclass(frozen=True, slots=True)
class RootField:
    """A root field whose resolver is called directly, completed by `plan`."""

    key: str
    call: Call
    plan: Plan
    # Converted arguments of the call, once (CompiledExecutor.bind).
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """What a (pruned) document needs per request, worked out once.

    Equal only to itself: it stands for its operation in the response
    cache's keys (hub/response_cache.py)."""

    operation: OperationDefinitionNode
    # None: graphql-core executes the operation (a root field it alone serves).
    roots: tuple[RootField, ...] | None
    # Its answers may be kept (hub/response_cache.py): every field is listed.
    cacheable: bool
    anchor: DocumentNode  # keeps the keyed document alive (its id stays unique)


# The steps of these extensions are taken here; a schema with any other (or
# without the first four) is served by strawberry alone. Authorize and
# AuditNotes are taken when the schema has them (the benchmark's unguarded
# hub drops both).
ALWAYS = (CloseSession, CachedParse, CachedValidation, RequestLimits)
OPTIONAL = (SocketOperations, Authorize, AuditNotes)


class DirectQueries:
    """The straight-line path for queries over HTTP (see the module docstring)."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self.schema = schema
        self.compiled = issubclass(schema.execution_context_class, CompiledExecutor)
        self._prepared: OrderedDict[tuple[int, str | None], Prepared] = OrderedDict()
        extensions = set(schema.extensions)
        # Operation directives are served by an extension strawberry adds.
        self.usable = (
            not schema.directives
            and extensions <= {*ALWAYS, *OPTIONAL}
            and set(ALWAYS) <= extensions
        )
        self.authorizes = Authorize in extensions
        self.notes = AuditNotes in extensions

    async def execute(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType],
    ) -> ExecutionResult | None:
        """The answer, or None (before anything is done) to leave it to strawberry."""
        if (
            not self.usable
            or not isinstance(context, Context)
            or isinstance(context, SocketContext)
            or not context.settings.direct_execution
            or not query
            or not (variables is None or isinstance(variables, dict))
            or OperationType.QUERY not in allowed
        ):
            return None
        schema = self.schema._schema
        guard = guard_for(schema, context.settings)
        document = parsed(query, {"max_tokens": guard.limits.max_tokens})
        if document is None or validation_errors(schema, document):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not GraphQLOperationType.QUERY:
            return None
        name = operation_name or (operation.name.value if operation.name else None)
        violation, cost = measure(
            guard, document, name, text=query, variables=variables
        )
        if violation is not None:
            return None
        if introspection_keys(document, name):
            return None
        plan = None
        if self.authorizes:
            plan = authorizer_for(self.schema).plan(
                document,
                operation_name=name,
                scopes=scopes_of(context),
                cache_key=query,
            )
            if plan.denials:
                return None
            document = plan.document

        # From here on, this path answers.
        _counts["answered"] += 1
        if self.notes:
            note_document(context, query, operation_name, variables)
        report = None
        try:
            report, refusal = await charge(context, guard, cost)
            if refusal is not None:
                result = ExecutionResult(data=None, errors=[refusal])
            else:
                if plan is not None:
                    note_plan(context, plan)
                result = await self._run(document, name, variables, context)
            if self.notes:
                await note_returned(context, document)
        except Exception as e:  # as strawberry answers an exception from a hook
            error = e if isinstance(e, GraphQLError) else None
            result = ExecutionResult(
                data=None, errors=[error or GraphQLError(str(e), original_error=e)]
            )
        await end_operation(context, result)
        if report is not None:
            result.extensions = {"cost": report}
        return result

    async def _run(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> ExecutionResult:
        prepared = self._prepare(document, operation_name)
        answers = context.answers if prepared.cacheable else None
        key = version = None
        if answers is not None:
            key = answers.key(prepared, variables, context)
            if key is not None:
                kept = answers.get(key, context)
                if kept is not None:
                    return ExecutionResult(data=cast(Any, kept), errors=None)
                version = answers.version.value  # before anything is read
        await start_query(context)
        async with deadline(context):
            if prepared.roots is not None:
                data = await self._fast(prepared, document, variables, context)
                if data is not None:
                    _counts["resolved"] += 1
                    if answers is not None and key is not None and version is not None:
                        stored = answers.put(key, version, data, context)
                        if stored is not None:  # its JSON, encoded once
                            return ExecutionResult(data=cast(Any, stored), errors=None)
                    return ExecutionResult(data=data, errors=None)
            return await self._general(document, operation_name, variables, context)

    async def _general(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> ExecutionResult:
        """graphql-core's execution, called as strawberry calls it."""
        result = await await_maybe(
            execute(
                self.schema._schema,
                document,
                variable_values=variables,
                operation_name=operation_name,
                context_value=context,
                is_awaitable=IS_AWAITABLE,
                executor_class=self.schema.execution_context_class,
                operation_extensions=None,
            )
        )
        return ExecutionResult(data=result.data, errors=result.errors)

    async def _fast(
        self,
        prepared: Prepared,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> dict[str, Any] | None:
        """The data, with resolvers called directly; None: the general way."""
        assert prepared.roots is not None
        executor = CompiledExecutor.build(
            self.schema._schema,
            document,
            context_value=context,
            raw_variable_values=variables,
            operation_name=prepared.operation.name.value
            if prepared.operation.name
            else None,
            is_awaitable=IS_AWAITABLE,
            operation_extensions=None,
        )
        if isinstance(executor, list):  # variables that do not coerce
            return None
        assert isinstance(executor, CompiledExecutor)
        query_type = executor.schema.query_type
        assert query_type is not None
        data: dict[str, Any] = {}
        try:
            for root in prepared.roots:
                path = Path(None, root.key, query_type.name)
                (bound,) = executor.bind((root.call,), root.arguments, path)
                resolver = root.call.definition.base_resolver
                assert resolver is not None
                value = invoke(resolver.wrapped_func, bound, None)
                if IS_AWAITABLE(value):
                    value = await value
                bindings = executor.bind(root.plan.calls, root.plan.arguments, path)
                data[root.key] = root.plan.writer(value, bindings)
        except Exception:  # graphql-core runs it again and reports it properly
            return None
        return data

    def _prepare(self, document: DocumentNode, operation_name: str | None) -> Prepared:
        # A document may hold several operations: each is prepared apart (one
        # prepared for the whole document ran another operation than the one
        # asked for, with fields that operation was never authorized for).
        key = (id(document), operation_name)
        found = self._prepared.get(key)
        if found is not None and found.anchor is document:
            self._prepared.move_to_end(key)
            return found
        operation = get_operation_ast(document, operation_name)
        assert operation is not None  # checked on the unpruned document
        prepared = Prepared(
            operation,
            self._roots(document, operation),
            cacheable(self.schema._schema, document, operation),
            document,
        )
        self._prepared[key] = prepared
        if len(self._prepared) > PREPARED_CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    def _roots(
        self, document: DocumentNode, operation: OperationDefinitionNode
    ) -> tuple[RootField, ...] | None:
        """The root fields, each with its plan; None if any needs graphql-core."""
        schema = self.schema._schema
        query_type = schema.query_type
        if not self.compiled or query_type is None:
            return None
        fragments = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        compiler = Compiler(schema, fragments)
        grouped: dict[str, list[FieldNode]] = {}
        try:
            compiler.collect_set(query_type, operation.selection_set, grouped, set())
        except Unsupported:
            return None
        roots = []
        try:
            for key, nodes in grouped.items():
                call = compiler.call_of(query_type, nodes)
                plan = plan_for(schema, fragments, call.field_def.type, nodes)
                if plan is None:
                    return None
                roots.append(RootField(key, call, plan))
        except Unsupported:
            return None
        return tuple(roots)
