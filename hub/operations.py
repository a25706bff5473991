"""Persisted operations: the documents staff register for a client, checked first.

`hub operations ...` and the tests call these with a session they own; they
flush and never commit. A document is stored only if it parses, validates
against the hub's schema, holds only queries and mutations, and reads no
field the client's scopes do not grant. Refusals raise RegistryError with one
line for the operator.
"""

from dataclasses import dataclass
from datetime import datetime

import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.authorizer import Denial
from auth.clients import RegistryError, get_client
from auth.tokens import known_scopes
from hub.authorization import authorizer_for
from hub.models import OAuthClient, PersistedOperation
from hub.persisted import PersistedRefused, document_sha256, parse_document_id


@dataclass(frozen=True, slots=True)
class Registered:
    operation: PersistedOperation
    created: bool  # False: the client had this document already


def check_document(
    schema: strawberry.Schema, text: str, *, scopes: frozenset[str], client_id: str
) -> tuple[str, ...]:
    """The document's operation names; RegistryError when it may not be stored."""
    document = _parsed(text)
    errors = validate(schema._schema, document)
    if errors:
        raise RegistryError(f"invalid document: {_located(errors[0])}")
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if any(op.operation is OperationType.SUBSCRIPTION for op in operations):
        raise RegistryError(
            "subscriptions cannot be persisted: they run over the websocket "
            "with their text"
        )
    authorizer = authorizer_for(schema)
    denials: dict[str, Denial] = {}
    for op in operations:
        plan = authorizer.plan(
            document,
            operation_name=op.name.value if op.name else None,
            scopes=scopes,
        )
        denials.update((d.coordinate, d) for d in plan.denials)
    if denials:
        fields = ", ".join(
            f"{coordinate} (needs scope {_scopes(d)})"
            for coordinate, d in sorted(denials.items())
        )
        raise RegistryError(f"client {client_id} may not read {fields}")
    return tuple(op.name.value for op in operations if op.name)


async def register_operation(
    session: AsyncSession,
    schema: strawberry.Schema,
    *,
    client_id: str,
    text: str,
    actor: str,
    now: datetime,
) -> Registered:
    """Store `text` for the client under its SHA-256, after check_document."""
    client = await _enabled_client(session, client_id)
    names = check_document(
        schema,
        text,
        scopes=frozenset(s.value for s in known_scopes(client.scopes)),
        client_id=client_id,
    )
    sha256 = document_sha256(text)
    existing = await _find(session, client_id, sha256)
    if existing is not None:
        return Registered(existing, created=False)
    operation = PersistedOperation(
        client_id=client_id,
        sha256=sha256,
        document=text,
        operation_names=list(names),
        created_at=now,
        created_by=actor,
    )
    session.add(operation)
    await session.flush()
    return Registered(operation, created=True)


async def list_operations(
    session: AsyncSession, client_id: str | None = None
) -> list[PersistedOperation]:
    """Registered documents, of one client or of all, oldest first."""
    stmt = select(PersistedOperation).order_by(
        PersistedOperation.client_id, PersistedOperation.id
    )
    if client_id is not None:
        await get_client(session, client_id)
        stmt = stmt.where(PersistedOperation.client_id == client_id)
    return list(await session.scalars(stmt))


async def remove_operation(
    session: AsyncSession, client_id: str, document_id: str
) -> str:
    """Delete a client's document; its id stops working within the cache TTL."""
    await get_client(session, client_id)
    sha256 = parse_id(document_id)
    operation = await _find(session, client_id, sha256)
    if operation is None:
        raise RegistryError(f"client {client_id} has no document {sha256}")
    await session.delete(operation)
    await session.flush()
    return sha256


async def set_persisted_only(
    session: AsyncSession, client_id: str, persisted_only: bool
) -> OAuthClient:
    """Persisted-only (registered documents only) or hybrid (raw queries too)."""
    client = await get_client(session, client_id)
    client.persisted_only = persisted_only
    await session.flush()
    return client


def parse_id(document_id: str) -> str:
    try:
        return parse_document_id(document_id)
    except PersistedRefused as e:
        raise RegistryError(e.message) from None


async def _enabled_client(session: AsyncSession, client_id: str) -> OAuthClient:
    client = await get_client(session, client_id)
    if client.disabled_at is not None:
        raise RegistryError(f"client {client_id} is disabled")
    return client


async def _find(
    session: AsyncSession, client_id: str, sha256: str
) -> PersistedOperation | None:
    return await session.scalar(
        select(PersistedOperation).where(
            PersistedOperation.client_id == client_id,
            PersistedOperation.sha256 == sha256,
        )
    )


def _parsed(text: str) -> DocumentNode:
    try:
        return parse(text)
    except GraphQLError as e:
        raise RegistryError(f"invalid document: {_located(e)}") from None


def _located(error: GraphQLError) -> str:
    where = error.locations[0] if error.locations else None
    place = f"line {where.line}, column {where.column}: " if where else ""
    return place + error.message


def _scopes(denial: Denial) -> str:
    return " or ".join(" and ".join(sorted(s)) for s in denial.required)
