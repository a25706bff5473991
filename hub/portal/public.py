"""The portal's way to the data: the hub's own schema, asked as the anonymous public.

Pages never query the database themselves. Each runs a GraphQL document on
the same schema, extensions and row rules as an anonymous POST to /graphql
(authorization, limits and the budget keyed by the visitor's address, the
audit notes), so a page can never show more than the public may read.
"""

from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from auth.caller import Caller
from hub.config import Settings
from hub.evaluate.loading import Policies
from hub.graphql import database_gone, format_error
from hub.replica import Replica
from hub.request_id import request_id_of
from hub.review.rulebook import Rulebook
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class PublicResult:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reason(self) -> str | None:
        """The first error's `extensions.reason` (or code), if any."""
        if not self.errors:
            return None
        extensions = self.errors[0].get("extensions", {})
        found = extensions.get("reason") or extensions.get("code")
        return str(found) if found else None

    def message(self) -> str | None:
        return str(self.errors[0]["message"]) if self.errors else None


class PublicGraphQL:
    """Runs documents as the anonymous public, for server-rendered pages."""

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        policies: Policies,
        rulebook: Rulebook,
        replica: Replica | None = None,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.policies = policies
        self.rulebook = rulebook
        self.replica = replica

    async def run(
        self, request: Request, document: str, variables: dict[str, Any] | None = None
    ) -> PublicResult:
        """The result of `document`, errors formatted as /graphql formats them."""
        context = Context(
            request=request,
            response=Response(),
            sessions=self.sessionmaker,
            settings=self.settings,
            caller=Caller.public(),
            request_id=request_id_of(request.scope),
            now=self.settings.clock(),
            policies=self.policies,
            rulebook=self.rulebook,
            replica=self.replica,
        )
        result = await self.schema.execute(
            document, variable_values=variables, context_value=context
        )
        errors = result.errors or []
        gone = database_gone(errors, context.request_id)
        if gone is not None:  # as /graphql answers it: 503, no detail
            return PublicResult(None, [gone])
        return PublicResult(
            result.data, [format_error(e, context.request_id) for e in errors]
        )
