"""One schema's limits: thresholds from the settings, measured shapes, the budget.

`guard_for(schema, settings)` builds it on first use and keeps it with the
schema object, so the shape cache and the in-memory buckets live as long as
the app (create_app closes it, and with it the Redis connections).
"""

from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLSchema

from hub.config import Settings
from hub.kept import kept_on
from hub.limits.budget import Budget, MemoryBudget
from hub.limits.check import Limits
from hub.limits.redis_budget import RedisBudget
from hub.limits.shape import CostModel, Shape, ShapeCache

MAX_COST_REPORTED = 10**15  # JSON clients read integers up to 2**53 exactly


@dataclass(slots=True)
class Guard:
    limits: Limits
    shapes: ShapeCache
    budget: Budget

    @classmethod
    def from_settings(cls, schema: GraphQLSchema, settings: Settings) -> "Guard":
        limits = Limits(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_root_fields=settings.max_root_fields,
            max_fields=settings.max_fields,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_cost,
        )
        model = CostModel(
            page_cap=settings.max_page_size, batch_cap=settings.max_batch_codes
        )
        return cls(limits, ShapeCache(schema, model), budget_of(settings))

    def measure(
        self,
        document: DocumentNode,
        operation_name: str | None,
        *,
        text: str | None,
        variables: dict[str, Any] | None,
    ) -> tuple[Shape, int]:
        """The operation's shape (cached by text) and this request's cost.

        Every request costs at least 1, so that even `{ __typename }` in a
        loop is paced by the budget; a cost past MAX_COST_REPORTED (only an
        attack gets there) is reported as that.
        """
        shape = self.shapes.get(document, operation_name, text=text)
        return shape, min(max(1, shape.cost.of(variables)), MAX_COST_REPORTED)

    async def aclose(self) -> None:
        await self.budget.aclose()


def budget_of(settings: Settings) -> Budget:
    local = MemoryBudget(
        settings.budget_points,
        settings.budget_refill_per_second,
        clock=settings.monotonic,
    )
    if settings.redis_url is None:
        return local
    return RedisBudget(
        settings.redis_url,
        settings.budget_points,
        settings.budget_refill_per_second,
        prefix=settings.redis_key_prefix,
        fallback=local,
    )


def guard_for(schema: GraphQLSchema, settings: Settings) -> Guard:
    """The schema's guard, built from `settings` on first use."""
    return kept_on(schema, "_hub_guard", lambda: Guard.from_settings(schema, settings))
