"""What a query selects below a field, with fragments flattened.

The resolvers load each nested dataset once per request; this module turns
strawberry's selection into the plain set of field names they need.
"""

from collections.abc import Iterable, Sequence

from strawberry.types.nodes import (
    FragmentSpread,
    InlineFragment,
    SelectedField,
    Selection,
)


def children(selections: Iterable[Selection]) -> dict[str, list[SelectedField]]:
    """Field name -> every selection of it (aliases and fragments merged)."""
    out: dict[str, list[SelectedField]] = {}
    stack = list(selections)
    while stack:
        s = stack.pop()
        if isinstance(s, SelectedField):
            out.setdefault(s.name, []).append(s)
        elif isinstance(s, FragmentSpread | InlineFragment):
            stack.extend(s.selections)
    return out


def descend(fields: Sequence[Selection], *path: str) -> list[SelectedField]:
    """Follow field names down from `fields`: descend(f, "edges", "node")."""
    current: list[Selection] = list(fields)
    found: list[SelectedField] = []
    for name in path:
        found = [c for f in current for c in children(f.selections).get(name, [])]
        current = list(found)
    return found


def selects(fields: Sequence[Selection], name: str) -> bool:
    return any(name in children(f.selections) for f in fields)
