"""Where a GraphQL operation's database session starts reading and ends.

Shared by the strawberry extension CloseSession and the direct path
(hub/direct.py), so both open, commit and close a session the same way.
"""

import logging
from typing import Any, Protocol

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.db import commit, read_only_later
from hub.replica import Route, route_of
from resolvers.context import Context

log = logging.getLogger("hub.graphql")


class Result(Protocol):
    """strawberry's or graphql-core's result of an operation."""

    data: Any
    errors: Any


async def start_query(context: Context) -> None:
    """A query reads without a transaction, on the replica where it may."""
    context.read_only = True
    # The operation type is first known when execution starts, so this is
    # where a query may move to the replica: the request's session has not
    # been used yet, and swapping it now leaves every resolver, the commit and
    # the close unchanged.
    if (
        context.replica is not None
        and route_of(context.caller, OperationType.QUERY) is Route.REPLICA
    ):
        context.db = await context.replica.read_session(context.db)
    elif context.has_session:
        read_only_later(context.db)
    else:  # not opened yet, maybe never (an answer from the response cache)
        context.on_open = read_only_later


async def end_operation(context: Context, result: Result | None) -> None:
    """Commit the request's one write, if it wrote, and close the session.

    If the commit fails, the answer becomes that error (nothing was
    written), never a success.
    """
    try:
        if context.wrote:
            try:
                await commit(context.db)
            finally:
                # This worker's next request must not be answered from before
                # the write, whenever the notification arrives.
                if context.answers is not None:
                    context.answers.version.bump()
    except Exception as e:
        if result is not None:
            result.data = None
            result.errors = [
                GraphQLError("The write was not committed.", original_error=e)
            ]
    finally:
        try:
            if context.has_session:
                await context.db.close()
        except Exception:  # the database may be gone; the answer says so already
            log.warning("closing the session failed", exc_info=True)


class CloseSession(SchemaExtension):
    """Starts a query's reads and ends the request's session once the
    operation is done."""

    async def on_execute(self) -> Any:
        ec = self.execution_context
        context = ec.context
        if isinstance(context, Context) and ec.operation_type is OperationType.QUERY:
            await start_query(context)
        yield

    async def on_operation(self) -> Any:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            await end_operation(context, self.execution_context.result)
