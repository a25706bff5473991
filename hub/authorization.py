"""Glue between strawberry and auth.authorizer: one check per operation."""

from typing import Any

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from auth.authorizer import Authorizer, Denial, Plan, fill_denied
from auth.introspection import filter_introspection
from hub.audit.draft import draft_of
from hub.kept import kept_on
from resolvers.context import Context
from resolvers.errors import Forbidden
from schema.directives import RequiresScopes


def authorizer_for(schema: strawberry.Schema) -> Authorizer:
    """The schema's authorizer, built once from the @requiresScopes directives."""
    return kept_on(
        schema._schema,
        "_hub_authorizer",
        lambda: Authorizer(schema._schema, requirements_of(schema)),
    )


def requirements_of(
    schema: strawberry.Schema,
) -> dict[tuple[str, str], tuple[frozenset[str], ...]]:
    requirements = {}
    for type_name, graphql_type in schema._schema.type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            definition = (
                field.extensions.get("strawberry-definition")
                if field.extensions
                else None
            )
            for directive in getattr(definition, "directives", None) or ():
                if isinstance(directive, RequiresScopes):
                    requirements[(type_name, field_name)] = tuple(
                        frozenset(all_of) for all_of in directive.scopes
                    )
    return requirements


def plan_operation(
    schema: strawberry.Schema,
    context: Context,
    document: DocumentNode,
    *,
    operation_name: str | None,
    query: str | None,
) -> Plan:
    """What the caller may read of the operation (cached per text and scope
    set), noted on the request's audit draft."""
    plan = authorizer_for(schema).plan(
        document,
        operation_name=operation_name,
        scopes=scopes_of(context),
        cache_key=query,
    )
    note_plan(context, plan)
    return plan


def note_plan(context: Context, plan: Plan) -> None:
    """The fields served and denied, on the request's audit draft."""
    draft = draft_of(context.request.scope)
    if draft is not None:
        draft.fields = plan.served
        draft.denied = tuple(sorted({d.coordinate for d in plan.denials}))


def scopes_of(context: Context) -> frozenset[str]:
    return frozenset(s.value for s in context.caller.scopes)


class Authorize(SchemaExtension):
    """Removes unreadable fields before execution, answers them after."""

    def on_execute(self) -> Any:
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, Context) or ec.graphql_document is None:
            yield
            return
        plan = plan_operation(
            ec.schema,
            context,
            ec.graphql_document,
            operation_name=ec.operation_name,
            query=ec.query,
        )
        ec.graphql_document = plan.document
        yield
        result = ec.result
        if result is None:
            return
        if plan.denials:
            fill_denied(result.data, plan.denials)
            result.errors = [
                *(result.errors or []),
                *(_forbidden(d) for d in plan.denials),
            ]
        meta = introspection_keys(ec.graphql_document, ec.operation_name)
        if meta and result.data:
            filter_introspection(
                result.data, meta, authorizer_for(ec.schema), scopes_of(context)
            )


def _forbidden(denial: Denial) -> GraphQLError:
    required = [sorted(all_of) for all_of in denial.required]
    needs = " or ".join(" and ".join(s) for s in required)
    error = Forbidden(
        f"Not allowed to read {denial.coordinate}: needs scope {needs}",
        reason="MISSING_SCOPE",
        requiredScopes=required,
    )
    return GraphQLError(error.message, path=list(denial.path), original_error=error)


def introspection_keys(document: Any, operation_name: str | None) -> dict[str, str]:
    keys = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            definition.name is None or definition.name.value != operation_name
        ):
            continue
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value in (
                "__schema",
                "__type",
            ):
                keys[(selection.alias or selection.name).value] = selection.name.value
    return keys
