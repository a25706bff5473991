"""Strawberry's side of the audit entry: the document, and whose data went out."""

from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from hub.audit.draft import draft_of
from resolvers.context import Context
from resolvers.graph import returned_enterprise_codes


class AuditNotes(SchemaExtension):
    """Notes the operation on the request's audit draft.

    Listed after CloseSession, so it finishes while the session is still open
    (it may look up the codes of enterprises returned only by id).
    """

    async def on_operation(self) -> Any:
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, Context):
            yield
            return
        note_document(context, ec.query, ec.operation_name, ec.variables)
        yield
        await note_returned(context, ec.graphql_document)


def note_document(
    context: Context,
    query: str | None,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> None:
    """Before the operation: which document, operation and variables."""
    draft = draft_of(context.request.scope)
    if draft is not None:
        draft.note_document(query, operation_name, variables)


async def note_returned(context: Context, document: DocumentNode | None) -> None:
    """After it, with the session still open: whose data the answer carries."""
    draft = draft_of(context.request.scope)
    if draft is None:
        return
    draft.operation_name = draft.operation_name or _operation_name(document)
    # A portal page may run several operations on one request: keep all.
    returned = await returned_enterprise_codes(context)
    draft.enterprises = tuple(sorted({*draft.enterprises, *returned}))


def _operation_name(document: DocumentNode | None) -> str | None:
    """The name of the document's only operation, when the client sent none."""
    if document is None:
        return None
    names = [
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return names[0] if len(names) == 1 else None
