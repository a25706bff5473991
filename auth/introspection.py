"""Introspection shows each caller only what its scopes let it read.

Fields the caller may not read are removed from `__schema` and `__type`
answers, and types reachable only through such fields disappear too, so the
schema a caller discovers is the schema it may use.
"""

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    get_named_type,
)

from auth.authorizer import Authorizer


def reachable_types(authorizer: Authorizer, scopes: frozenset[str]) -> set[str]:
    """Type names reachable from the root types through readable fields."""
    schema = authorizer.schema
    roots = [
        t
        for t in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if t
    ]
    seen: set[str] = {name for name in schema.type_map if name.startswith("__")}
    seen |= {"String", "Boolean"}  # introspection itself returns them
    stack: list[GraphQLNamedType] = list(roots)
    while stack:
        current = stack.pop()
        if current.name in seen and current.name not in {"String", "Boolean"}:
            continue
        seen.add(current.name)
        if isinstance(current, GraphQLObjectType):
            readable = authorizer.readable_fields(current.name, scopes) or set()
            for name, field in current.fields.items():
                if name not in readable:
                    continue
                stack.append(get_named_type(field.type))
                stack.extend(get_named_type(arg.type) for arg in field.args.values())
        elif isinstance(current, GraphQLInputObjectType):
            stack.extend(get_named_type(f.type) for f in current.fields.values())
    return seen


def filter_introspection(
    data: dict[str, Any],
    keys: dict[str, str],
    authorizer: Authorizer,
    scopes: frozenset[str],
) -> None:
    """Trim `__schema`/`__type` answers in `data`; keys maps response key -> meta-field."""
    visible = reachable_types(authorizer, scopes)
    for key, meta in keys.items():
        value = data.get(key)
        if value is None:
            continue
        if meta == "__type":
            if value.get("name") is not None and value["name"] not in visible:
                data[key] = None
            else:
                _trim_type(value, authorizer, scopes)
        elif meta == "__schema" and isinstance(value.get("types"), list):
            value["types"] = [
                _trim_type(t, authorizer, scopes)
                for t in value["types"]
                if t.get("name") is None or t["name"] in visible
            ]


def _trim_type(
    entry: dict[str, Any], authorizer: Authorizer, scopes: frozenset[str]
) -> dict[str, Any]:
    name = entry.get("name")
    fields = entry.get("fields")
    if name is None or not isinstance(fields, list):
        return entry
    readable = authorizer.readable_fields(name, scopes)
    if readable is not None:
        entry["fields"] = [
            f for f in fields if f.get("name") is None or f["name"] in readable
        ]
    return entry
