"""@requiresScopes: the scopes a field needs, declared beside the field.

Printed into the SDL so integrators see what each field needs; enforced once
per operation by hub.authorization before anything executes.
"""

import strawberry
from strawberry.schema_directive import Location

from auth.scopes import Scope


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresScopes",
    description=(
        "The caller needs every scope of at least one inner list (OR of AND sets, "
        "as Apollo's @requiresScopes). Without them the field is null and the "
        "response carries a FORBIDDEN error naming the scopes."
    ),
)
class RequiresScopes:
    scopes: list[list[str]]


def requires(*all_of: Scope) -> list[object]:
    """Directives for a field that needs all of these scopes."""
    return [RequiresScopes(scopes=[sorted(s.value for s in all_of)])]


def requires_any(*one_of: Scope) -> list[object]:
    """Directives for a field that needs any one of these scopes."""
    return [RequiresScopes(scopes=[[s.value] for s in one_of])]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description=(
        "How long the list is taken to be in a request's cost (as the GraphQL cost "
        "directive spec's @listSize): the length of a slicing argument given, else "
        "assumedSize."
    ),
)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: list[str] | None = None


def list_size(
    assumed: int | None = None, *, slicing: tuple[str, ...] = ()
) -> list[object]:
    """Directives for a list field whose length the cost model cannot guess."""
    return [ListSize(assumed_size=assumed, slicing_arguments=list(slicing) or None)]
