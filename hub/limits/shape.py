"""What one operation asks for: depth, aliases, root fields, cost.

The operation is measured as it will run, with every fragment (named or
inline) expanded in place: an alias inside a fragment spread ten times counts
ten times, and a fragment's fields are as deep as where it is spread. Each
named fragment is measured once and reused, so a document that spreads
fragments exponentially is still measured in linear time, and a fragment
cycle (which validation refuses) is cut instead of followed.

Depth is the number of fields on the longest path from the root to a leaf:
`{ enterprise(code: "…") { name } }` is 2. Fields counts every field selected
(so `name name name` is 3: validating repeated fields takes time quadratic in
their number). What introspection fields (`__schema`, `__type`,
`__typename`) select counts toward neither: the introspection schema's own
nesting (`ofType { ofType { … } }` in GraphiQL's query) is bounded by the
parser and the token limit, and costs no database work.

The cost model (a request's cost is the number of objects it may return):

- a field returning an object costs 1; a scalar or enum costs nothing;
- a field returning a list multiplies the cost of one item by the list's size:
  a field's declared `@listSize` (schema/directives.py: the length of a
  slicing argument such as `applications`, or an assumed size),
  `codes` (enterprisesByCodes: one item per code, up to HUB_MAX_BATCH_CODES),
  `first` (a connection's page, up to HUB_MAX_PAGE_SIZE; `changes` and
  `webhookDeliveries` up to their own maximum), otherwise an estimate of 10
  (penalties, ratingHistory, introspection lists, ...);
- a mutation field costs 10 on top of what it selects.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NullValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

from hub.limits.cost import FREE, Cost, VariableSize, clamp
from schema.directives import ListSize

# A document nested past what can be walked (the parser refuses most of those).
UNWALKABLE_DEPTH = 1_000_000
SHAPE_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class CostModel:
    page_cap: int = 100  # HUB_MAX_PAGE_SIZE: a connection's `first`
    batch_cap: int = 1000  # HUB_MAX_BATCH_CODES: enterprisesByCodes' `codes`
    list_size: int = 10  # any other list of objects: an estimate, not a bound
    mutation_cost: int = 10  # each mutation field, on top of what it selects


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int
    aliases: int
    root_fields: int
    fields: int  # every field selected, fragments expanded
    cost: Cost


@dataclass(frozen=True, slots=True)
class _Summary:
    """A selection set measured: `level` counts the fields of its own level."""

    depth: int = 0
    aliases: int = 0
    level: int = 0
    fields: int = 0
    cost: Cost = FREE

    def __add__(self, other: "_Summary") -> "_Summary":
        return _Summary(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.level + other.level,
            self.fields + other.fields,
            self.cost + other.cost,
        )


_EMPTY = _Summary()
Page = int | VariableSize | None  # a connection's size, for its edges and nodes


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    model: CostModel,
) -> Shape:
    """Measure the operation the request runs (pure; see ShapeCache)."""
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    if not operations:  # strawberry refuses the request before validation
        return Shape(0, 0, 0, 0, FREE)
    operation = operations[0]
    walk = _Walk(schema, document, operation, model)
    try:
        summary = walk.selections(
            operation.selection_set, schema.get_root_type(operation.operation), None
        )
    except RecursionError:
        return Shape(UNWALKABLE_DEPTH, 0, 0, 0, FREE)
    return Shape(
        summary.depth, summary.aliases, summary.level, summary.fields, summary.cost
    )


class ShapeCache:
    """Shapes by (query text, operation name): a repeated document is a lookup."""

    def __init__(
        self, schema: GraphQLSchema, model: CostModel, maxsize: int = SHAPE_CACHE_SIZE
    ) -> None:
        self.schema = schema
        self.model = model
        self.maxsize = maxsize
        self._shapes: dict[tuple[str, str | None], Shape] = {}

    def get(
        self, document: DocumentNode, operation_name: str | None, *, text: str | None
    ) -> Shape:
        key = (text, operation_name) if text is not None else None
        if key is not None and (found := self._shapes.get(key)) is not None:
            return found
        shape = analyse(self.schema, document, operation_name, self.model)
        if key is not None:
            if len(self._shapes) >= self.maxsize:  # oldest first: dicts keep order
                del self._shapes[next(iter(self._shapes))]
            self._shapes[key] = shape
        return shape


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        model: CostModel,
    ) -> None:
        self.schema = schema
        self.model = model
        self.fragments = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.variable_defaults: Mapping[str, ValueNode | None] = {
            v.variable.name.value: v.default_value
            for v in operation.variable_definitions or ()
        }
        self.measured: dict[tuple[str, Page], _Summary] = {}
        self.open: set[str] = (
            set()
        )  # fragments being measured: a spread of one is a cycle

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        page: Page,
    ) -> _Summary:
        total = _EMPTY
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                target = self.type_of(selection.type_condition, parent)
                total += self.selections(selection.selection_set, target, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, page)
        return total

    def spread(self, name: str, page: Page) -> _Summary:
        key = (name, page)
        if (found := self.measured.get(key)) is not None:
            return found
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:  # validation refuses both
            return _EMPTY
        self.open.add(name)
        try:
            target = self.type_of(fragment.type_condition, None)
            summary = self.selections(fragment.selection_set, target, page)
        finally:
            self.open.discard(name)
        self.measured[key] = summary
        return summary

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, page: Page
    ) -> _Summary:
        name = node.name.value
        definition = self.definition_of(parent, name)
        named, is_list = _unwrap(definition.type) if definition else (None, False)
        leaf = named is None or is_leaf_type(named)
        children = _EMPTY
        if node.selection_set is not None:
            inner_page = None
            if definition is not None and not is_list and "first" in definition.args:
                inner_page = self.size_of(node, definition, "first", counted=False)
            child_parent = None if leaf else named
            children = self.selections(node.selection_set, child_parent, inner_page)
        introspection = name.startswith("__")
        depth = 0 if introspection else 1 + children.depth
        fields = 1 if introspection else 1 + children.fields
        aliases = (1 if node.alias else 0) + children.aliases
        cost = self.cost_of(node, definition, parent, children, page)
        return _Summary(depth, aliases, 1, fields, cost)

    def cost_of(
        self,
        node: FieldNode,
        definition: GraphQLField | None,
        parent: GraphQLNamedType | None,
        children: _Summary,
        page: Page,
    ) -> Cost:
        if definition is None:  # unknown field: validation refuses it
            return FREE
        named, is_list = _unwrap(definition.type)
        in_mutation = parent is not None and parent is self.schema.mutation_type
        base = self.model.mutation_cost if in_mutation else 0
        if not is_leaf_type(named):
            base = max(base, 1)
        if base == 0:
            return FREE
        each = Cost(base) + children.cost
        if not is_list:
            return each
        size: Page
        declared = _declared_size(definition)
        slicing = declared.slicing_arguments if declared else None
        if slicing and (argument := _given(node, slicing)) is not None:
            size = self.size_of(node, definition, argument, counted=True)
        elif declared is not None and declared.assumed_size is not None:
            size = declared.assumed_size
        elif "codes" in definition.args:
            size = self.size_of(node, definition, "codes", counted=True)
        elif "first" in definition.args:
            size = self.size_of(node, definition, "first", counted=False)
        else:
            size = page if page is not None else self.model.list_size
        return each.times(size) if isinstance(size, int) else each.per_item_of(size)

    def size_of(
        self, node: FieldNode, definition: GraphQLField, argument: str, *, counted: bool
    ) -> int | VariableSize:
        """The list size an argument asks for: a number, or one read per request."""
        named, _ = _unwrap(definition.type)
        cap = None
        if counted:  # one item per element: a batch (codes, applications)
            cap = self.model.batch_cap
        elif named.name.endswith("Connection"):
            cap = self.model.page_cap
        value = next(
            (a.value for a in node.arguments or () if a.name.value == argument), None
        )
        fallback = _default_size(definition.args[argument], counted)
        if isinstance(value, VariableNode):
            variable = value.name.value
            declared = self.variable_defaults.get(variable)
            default = fallback if declared is None else _literal_size(declared, counted)
            return VariableSize(variable, counted, clamp(default, cap), cap)
        if value is None or isinstance(value, NullValueNode):
            return clamp(fallback, cap)
        return clamp(_literal_size(value, counted), cap)

    def definition_of(
        self, parent: GraphQLNamedType | None, name: str
    ) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = parent.fields.get(name)
            return found
        return None

    def type_of(
        self, condition: NamedTypeNode | None, parent: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value)


def _unwrap(output: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    return get_named_type(output), isinstance(inner, GraphQLList)


def _literal_size(value: ValueNode, counted: bool) -> int:
    if isinstance(value, ListValueNode):
        return len(value.values)
    if isinstance(value, IntValueNode):
        # Validation refuses Ints past 32 bits; int() refuses 4,300 digits.
        return int(value.value) if len(value.value) < 19 else 10**18
    return 1 if counted and not isinstance(value, VariableNode) else 0


def _default_size(argument: GraphQLArgument, counted: bool) -> int:
    default = argument.default_value
    if counted:
        return len(default) if isinstance(default, list) else 0
    return default if isinstance(default, int) and not isinstance(default, bool) else 0


def _declared_size(definition: GraphQLField) -> ListSize | None:
    """The field's @listSize, declared beside it in schema/."""
    found = (definition.extensions or {}).get("strawberry-definition")
    for directive in getattr(found, "directives", None) or ():
        if isinstance(directive, ListSize):
            return directive
    return None


def _given(node: FieldNode, names: list[str]) -> str | None:
    """The first of `names` the field node passes an argument for."""
    passed = {a.name.value for a in node.arguments or ()}
    return next((n for n in names if n in passed), None)
