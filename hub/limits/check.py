"""The per-request limits on a measured operation, and the refusal each one gives."""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from hub.limits.shape import Shape

CODE = "GRAPHQL_VALIDATION_FAILED"  # a client error to tooling (schemathesis too)


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 8
    max_aliases: int = 15
    max_root_fields: int = 10
    max_fields: int = 200
    max_tokens: int = 2000
    max_cost: int = 50_000


@dataclass(frozen=True, slots=True)
class Violation:
    reason: str
    what: str
    limit: int
    actual: int

    def error(self) -> GraphQLError:
        return GraphQLError(
            f"The operation's {self.what} ({self.actual}) exceeds the limit of "
            f"{self.limit}.",
            extensions=self.extensions(),
        )

    def extensions(self) -> dict[str, Any]:
        return {
            "code": CODE,
            "reason": self.reason,
            "limit": self.limit,
            "actual": self.actual,
        }


def violation_of(shape: Shape, cost: int, limits: Limits) -> Violation | None:
    """The first limit the operation exceeds, or None."""
    if shape.depth > limits.max_depth:
        return Violation("QUERY_TOO_DEEP", "depth", limits.max_depth, shape.depth)
    if shape.aliases > limits.max_aliases:
        return Violation(
            "TOO_MANY_ALIASES", "number of aliases", limits.max_aliases, shape.aliases
        )
    if shape.root_fields > limits.max_root_fields:
        return Violation(
            "TOO_MANY_ROOT_FIELDS",
            "number of root fields",
            limits.max_root_fields,
            shape.root_fields,
        )
    if shape.fields > limits.max_fields:
        return Violation(
            "TOO_MANY_FIELDS", "number of fields", limits.max_fields, shape.fields
        )
    if cost > limits.max_cost:
        return Violation("QUERY_TOO_COMPLEX", "cost", limits.max_cost, cost)
    return None


def too_many_tokens(limits: Limits) -> GraphQLError:
    """The parser stops at the limit, so the actual count is not known."""
    return GraphQLError(
        f"The document has more tokens than the limit of {limits.max_tokens}.",
        extensions={
            "code": CODE,
            "reason": "TOO_MANY_TOKENS",
            "limit": limits.max_tokens,
        },
    )


def is_token_overflow(error: GraphQLError) -> bool:
    """graphql-core's parse(max_tokens=...) refusal."""
    message = error.message
    return message.startswith("Syntax Error: Document contains more than") and (
        message.endswith("tokens. Parsing aborted.")
    )
