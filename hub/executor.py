"""Completes whole object subtrees with compiled plans instead of field by field.

graphql-core completes a response one field at a time: for each field it
builds a resolve info, looks up a resolver, wraps and awaits it and coerces
its value. That is about 3-5 µs per field, or most of the CPU of a batch of
1,000 enterprises. Below the root, the hub's types are plain views
(resolvers/views.py) whose fields are attributes or small synchronous picks
from lists already loaded, so a selection can be compiled once per document
into nested closures that build the response dicts directly.

What is compiled: object, list and leaf types below any field, when every
field in the subtree is an attribute or a synchronous resolver without field
extensions, and no selection carries a directive (@skip/@include depend on
variables). Arguments and each resolver's Info are bound once per request,
not once per object. Anything else, and any error or null in a non-null
position while running a plan, goes to graphql-core's own completion, which
then produces the standard answer and error paths. Plans are pure (they read
views and call pure resolvers), so running the general path after an aborted
plan repeats no side effect.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

from hub.kept import kept_on

PLAN_CACHE_SIZE = 2048

# (value, per-request bindings) -> JSON-ready value
Writer = Callable[[Any, list["Binding"]], Any]


class Unsupported(Exception):
    """The selection needs graphql-core's general completion."""


class NullInNonNull(Exception):
    """A non-null position got null: graphql-core reports it properly."""


@dataclass(slots=True)
class Binding:
    """A resolver call prepared for one request: kwargs without the source."""

    kwargs: dict[str, Any]
    source_names: tuple[str, ...]
    positional_self: bool


@dataclass(frozen=True, slots=True)
class Call:
    """A resolver field whose arguments and Info are bound per request."""

    field_def: GraphQLField
    definition: StrawberryField
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    # Without arguments or an Info parameter, the same for every request.
    static: Binding | None = None
    # No variable in its arguments: they convert to the same values each time.
    constant_arguments: bool = False


@dataclass(slots=True)
class Plan:
    writer: Writer
    calls: list[Call] = field(default_factory=list)
    anchors: tuple[object, ...] = ()  # keeps the keyed nodes alive (ids stay unique)
    # slot -> converted arguments of a call with constant_arguments, once
    # converted (strawberry's conversion was a tenth of a single lookup's plan).
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)


class Compiler:
    """Turns a selection of an output type into a Writer."""

    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.calls: list[Call] = []

    def writer(self, type_: GraphQLOutputType, nodes: Sequence[FieldNode]) -> Writer:
        if isinstance(type_, GraphQLNonNull):
            inner = self.writer(type_.of_type, nodes)

            def non_null(value: Any, b: list[Binding]) -> Any:
                if value is None:
                    raise NullInNonNull
                return inner(value, b)

            return non_null
        if isinstance(type_, GraphQLList):
            item = self.writer(type_.of_type, nodes)

            def listed(value: Any, b: list[Binding]) -> Any:
                return None if value is None else [item(v, b) for v in value]

            return listed
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return _leaf(type_)
        if isinstance(type_, GraphQLObjectType):
            return self._object(type_, nodes)
        raise Unsupported  # interfaces and unions: graphql-core resolves the type

    def _object(self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]) -> Writer:
        fields: list[tuple[str, Writer]] = []
        for key, field_nodes in self._collect(type_, nodes).items():
            fields.append((key, self._field(type_, field_nodes)))
        entries = tuple(fields)

        def obj(value: Any, b: list[Binding]) -> Any:
            if value is None:
                return None
            return {key: get(value, b) for key, get in entries}

        return obj

    def _field(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> Writer:
        name = nodes[0].name.value
        if name == "__typename":
            type_name = parent.name
            return lambda _value, _b: type_name
        field_def, definition = self.field_of(parent, nodes)
        sub = self.writer(field_def.type, nodes)
        resolver = definition.base_resolver
        if resolver is None:
            attr = definition.python_name

            def attribute(value: Any, b: list[Binding]) -> Any:
                return sub(getattr(value, attr), b)

            return attribute
        if resolver.is_async:
            raise Unsupported
        slot = len(self.calls)
        self.calls.append(self.call_of(parent, nodes))
        function = resolver.wrapped_func

        def resolved(value: Any, b: list[Binding]) -> Any:
            return sub(invoke(function, b[slot], value), b)

        return resolved

    def field_of(
        self, parent: GraphQLObjectType, nodes: list[FieldNode]
    ) -> tuple[GraphQLField, StrawberryField]:
        """The field the nodes select, if nothing but its resolver wraps it."""
        field_def = parent.fields.get(nodes[0].name.value)
        definition = (
            field_def.extensions.get("strawberry-definition") if field_def else None
        )
        if field_def is None or not isinstance(definition, StrawberryField):
            raise Unsupported
        if definition.extensions or definition.permission_classes:
            raise Unsupported
        return field_def, definition

    def call_of(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> Call:
        """A resolver field's call, its arguments and Info bound per request."""
        field_def, definition = self.field_of(parent, nodes)
        resolver = definition.base_resolver
        if resolver is None or not callable(resolver.wrapped_func):
            raise Unsupported
        static = None
        if not (field_def.args or nodes[0].arguments or resolver.info_parameter):
            static = Binding(
                {}, _source_names(resolver), resolver.self_parameter is not None
            )
        constant = not any(map(_uses_variables, nodes[0].arguments or ()))
        return Call(field_def, definition, nodes, parent, static, constant)

    def _collect(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]
    ) -> dict[str, list[FieldNode]]:
        """Response key -> field nodes, fragments applied, in document order."""
        out: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is not None:
                self.collect_set(type_, node.selection_set, out, set())
        return out

    def collect_set(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        out: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise Unsupported
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                out.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, type_):
                    self.collect_set(type_, selection.selection_set, out, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if fragment.directives:
                    raise Unsupported
                if self._applies(fragment.type_condition.name.value, type_):
                    self.collect_set(type_, fragment.selection_set, out, visited)

    def _applies(self, condition: str, type_: GraphQLObjectType) -> bool:
        if condition == type_.name:
            return True
        target = self.schema.get_type(condition)
        return target is not None and self.schema.is_sub_type(target, type_)  # type: ignore[arg-type]


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Writer:
    coerce = type_.coerce_output_value
    if isinstance(type_, GraphQLEnumType):
        return _enum_leaf(type_, coerce)
    if type_ is GraphQLString:
        return lambda v, _b: v if v is None or type(v) is str else coerce(v)
    if type_ is GraphQLInt:
        return lambda v, _b: v if v is None or type(v) is int else coerce(v)
    if type_ is GraphQLBoolean:
        return lambda v, _b: v if v is None or type(v) is bool else coerce(v)

    def leaf(value: Any, _b: list[Binding]) -> Any:
        return None if value is None else coerce(value)

    return leaf


def _enum_leaf(type_: GraphQLEnumType, coerce: Callable[[Any], Any]) -> Writer:
    """Python enum members by name from a dict: strawberry's coercion scans
    every value of the enum for each one (a tenth of a batch's completion)."""
    wrapped = getattr(type_, "wrapped_cls", None)
    names: dict[Any, str] = {}
    if isinstance(wrapped, type):
        try:
            for name, value in type_.values.items():
                member = wrapped(value.value)
                if names.setdefault(member, name) != name:  # an alias
                    raise ValueError(name)
        except ValueError:  # left to coerce, which knows what to answer
            names = {}

    def leaf(value: Any, _b: list[Binding]) -> Any:
        if value is None:
            return None
        name = names.get(value) if type(value) is wrapped else None
        return coerce(value) if name is None else name

    return leaf


Plans = OrderedDict[tuple[int, ...], Plan | None]
_compiled = [0]  # plans this worker compiled, for tests


def plan_for(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    return_type: GraphQLOutputType,
    nodes: list[FieldNode],
) -> Plan | None:
    """The cached plan for completing `nodes` as `return_type`; None: not compilable."""
    key = (
        id(nodes[0]),
        id(return_type),
        *(id(n) for n in nodes[1:]),
        *(id(f) for f in fragments.values()),
    )
    plans: Plans = kept_on(schema, "_hub_plans", OrderedDict)
    if key in plans:
        plans.move_to_end(key)
        return plans[key]
    compiler = Compiler(schema, fragments)
    try:
        plan: Plan | None = Plan(
            compiler.writer(return_type, nodes),
            compiler.calls,
            (return_type, *nodes, *fragments.values()),
        )
    except Unsupported:
        plan = None
    else:
        _compiled[0] += 1
    plans[key] = plan
    if len(plans) > PLAN_CACHE_SIZE:
        plans.popitem(last=False)
    return plan


def compiled_plans() -> int:
    """How many plans this worker has compiled (for tests)."""
    return _compiled[0]


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, completing compilable subtrees in one go."""

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if (
            result is not None
            and not self.is_awaitable(result)
            and isinstance(get_named_type(return_type), GraphQLObjectType)
            and all(d.fragment_variable_values is None for d in field_details_list)
        ):
            nodes = [d.node for d in field_details_list]
            plan = plan_for(self.schema, self.fragment_definitions, return_type, nodes)
            if plan is not None:
                try:
                    return plan.writer(
                        result, self.bind(plan.calls, plan.arguments, path)
                    )
                except Exception:  # graphql-core redoes it and reports properly
                    pass
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def bind(
        self, calls: Sequence[Call], arguments: dict[int, dict[str, Any]], path: Path
    ) -> list[Binding]:
        """Each call's arguments and Info for this request; `arguments` keeps
        the converted arguments of calls without variables, by slot."""
        strawberry_schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        info_class = strawberry_schema.config.info_class
        bindings = []
        for slot, call in enumerate(calls):
            if call.static is not None:
                bindings.append(call.static)
                continue
            resolver = call.definition.base_resolver
            assert resolver is not None
            info = None
            if resolver.info_parameter is not None or slot not in arguments:
                info = info_class(
                    _raw_info=self.build_resolve_info(
                        call.field_def, call.nodes, call.parent_type, path
                    ),
                    _field=call.definition,
                )
            converted = arguments.get(slot)
            if converted is None:
                converted = self._convert(call, info, strawberry_schema)
                if call.constant_arguments and all(
                    isinstance(v, _IMMUTABLE) for v in converted.values()
                ):
                    arguments[slot] = converted
            kwargs = dict(converted)
            if resolver.info_parameter is not None:
                kwargs[resolver.info_parameter.name] = info
            bindings.append(
                Binding(
                    kwargs,
                    _source_names(resolver),
                    resolver.self_parameter is not None,
                )
            )
        return bindings

    def _convert(self, call: Call, info: Any, strawberry_schema: Any) -> dict[str, Any]:
        """The call's arguments as its resolver takes them (without Info)."""
        node = call.nodes[0]
        raw = (
            get_argument_values(call.field_def, node, self.variable_values)
            if call.field_def.args or node.arguments
            else {}
        )
        return dict(
            convert_arguments(
                raw,
                call.definition.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=strawberry_schema.config,
                info=info,
            )
        )


def invoke(function: Any, bound: Binding, source: Any) -> Any:
    """A resolver's result for `source`, the object it belongs to (at the
    root: the root value)."""
    kwargs = dict(bound.kwargs)
    for source_name in bound.source_names:
        kwargs[source_name] = source
    if bound.positional_self:
        return function(source, **kwargs)
    return function(**kwargs)


# Argument values that may be handed to every request's resolver call.
_IMMUTABLE = (type(None), str, int, float, bool, date, datetime, Decimal, Enum)


def _uses_variables(value: Any) -> bool:
    """Whether an argument (or value node) mentions a variable anywhere."""
    if isinstance(value, ArgumentNode | ObjectFieldNode):
        return _uses_variables(value.value)
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(map(_uses_variables, value.values))
    if isinstance(value, ObjectValueNode):
        return any(map(_uses_variables, value.fields))
    return False


def _source_names(resolver: StrawberryResolver[Any]) -> tuple[str, ...]:
    """The parameters that receive the object being completed."""
    names = []
    if resolver.parent_parameter is not None:
        names.append(resolver.parent_parameter.name)
    if resolver.root_parameter is not None:
        names.append(resolver.root_parameter.name)
    return tuple(names)
