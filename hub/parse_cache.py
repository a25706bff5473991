"""Parse and validate each document text once per worker.

Banks send the same few documents thousands of times. Unlike strawberry's
ParserCache, a text that fails to parse is left to strawberry's own parser,
which then answers the syntax error the usual way on every transport (over
the websocket too, where an error raised by a hook ends the operation bare).
"""

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension, ValidationCache

DOCUMENT_CACHE_SIZE = 1024


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parse(query: str, options: tuple[tuple[str, object], ...]) -> DocumentNode:
    return parse(query, **dict(options))  # type: ignore[arg-type]


class CachedParse(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            # On a syntax error strawberry parses again and reports it.
            with suppress(GraphQLError):
                ec.graphql_document = _parse(
                    ec.query, tuple(sorted(ec.parse_options.items()))
                )
        yield


class CachedValidation(ValidationCache):
    """strawberry's validation cache, keyed by the parsed document CachedParse keeps."""

    def __init__(self) -> None:
        super().__init__(maxsize=DOCUMENT_CACHE_SIZE)
