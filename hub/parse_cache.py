"""Parse and validate each document text once per worker.

Banks send the same few documents thousands of times. Unlike strawberry's
ParserCache, a text that fails to parse is left to strawberry's own parser,
which then answers the syntax error the usual way on every transport (over
the websocket too, where an error raised by a hook ends the operation bare).
"""

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import suppress
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from hub.kept import kept_on

DOCUMENT_CACHE_SIZE = 1024
RULES = tuple(specified_rules)


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parse(query: str, options: tuple[tuple[str, object], ...]) -> DocumentNode:
    return parse(query, **dict(options))  # type: ignore[arg-type]


def parsed(query: str, options: Mapping[str, object]) -> DocumentNode | None:
    """The document of `query` (cached), or None if it does not parse."""
    with suppress(GraphQLError):
        return _parse(query, tuple(sorted(options.items())))
    return None


# Per schema (hub/kept.py), keyed by the document's id and anchored by the
# document (so the id cannot be reused while its entry lives): an AST node's
# own hash walks the whole document, a fiftieth of a single lookup's CPU.
Validated = OrderedDict[int, tuple[DocumentNode, list[GraphQLError]]]


def validation_errors(
    schema: GraphQLSchema, document: DocumentNode
) -> list[GraphQLError]:
    """What strawberry's validation finds in a parsed document (cached by it)."""
    validated: Validated = kept_on(schema, "_hub_validated", OrderedDict)
    key = id(document)
    found = validated.get(key)
    if found is not None and found[0] is document:
        validated.move_to_end(key)
        return found[1]
    errors = validate_document(schema, document, RULES)
    validated[key] = (document, errors)
    if len(validated) > DOCUMENT_CACHE_SIZE:
        validated.popitem(last=False)
    return errors


class CachedParse(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            # On a syntax error strawberry parses again and reports it.
            ec.graphql_document = parsed(ec.query, ec.parse_options)
        yield


class CachedValidation(SchemaExtension):
    """Validation keyed by the parsed document CachedParse keeps."""

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        assert ec.graphql_document is not None
        if ec.validation_rules == RULES:
            ec.pre_execution_errors = validation_errors(
                ec.schema._schema, ec.graphql_document
            )
        else:  # rules of its own: strawberry validates it
            ec.pre_execution_errors = None
        yield
