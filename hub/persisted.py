"""Persisted operations over HTTP: a client runs a registered document by its id.

A request names a document in either of two ways, with no `query`:

- GraphQL over HTTP (persisted documents):
  `{"documentId": "sha256:<hex>", "operationName": ..., "variables": ...}`
  (the bare `<hex>` is accepted too);
- Apollo's APQ: `{"extensions": {"persistedQuery": {"version": 1,
  "sha256Hash": "<hex>"}}, ...}`.

The id is looked up for the calling client only, and its text then runs as
if it had been sent, so authorization, audit (the same document_sha256) and
limits apply unchanged. Documents are registered by staff (`hub operations
add`), never by a request: a `query` sent with an id only has to match it.

Refusals, before anything runs (`extensions.code` / `reason`):

- 400 PERSISTED_QUERY_NOT_FOUND: no such id for this client. Another
  client's id, a removed one and an anonymous caller get the same answer.
- 400 BAD_REQUEST / PERSISTED_QUERY_HASH_MISMATCH: `query` and id differ,
  or `documentId` and `sha256Hash` differ.
- 400 BAD_REQUEST / INVALID_DOCUMENT_ID, UNSUPPORTED_PERSISTED_QUERY_VERSION.
- 403 FORBIDDEN / PERSISTED_QUERY_REQUIRED: a persisted-only client sent a
  document without a registered id.
"""

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, StarletteRequestAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from strawberry.http import GraphQLRequestData

from auth.caller import Caller
from hub.audit.draft import AuditDraft
from hub.models import PersistedOperation

_HEX = re.compile(r"[0-9a-fA-F]{64}")
DOCUMENT_ID_PREFIX = "sha256:"


class PersistedRefused(Exception):
    """A persisted-operation request refused before execution."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        reason: str,
        *,
        sha256: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.reason = reason
        self.sha256 = sha256

    def note(self, draft: AuditDraft | None) -> None:
        """The audit entry records the refusal and the id asked for."""
        if draft is not None:
            draft.reason = self.reason
            draft.document_sha256 = draft.document_sha256 or self.sha256


def not_found(sha256: str) -> PersistedRefused:
    return PersistedRefused(
        400,
        "PersistedQueryNotFound: no registered document with this id for this client.",
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_FOUND",
        sha256=sha256,
    )


def _bad(message: str, reason: str, sha256: str | None = None) -> PersistedRefused:
    return PersistedRefused(400, message, "BAD_REQUEST", reason, sha256=sha256)


class RequestAdapter(StarletteRequestAdapter):
    """Strawberry's adapter, keeping the Starlette request (its scope holds the caller)."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request


class PersistedDocuments:
    """(client_id, sha256) -> text, for one worker.

    Found documents are kept for `ttl` seconds (HUB_AUTH_CACHE_SECONDS, the
    budget in which a removal reaches every worker) in a bounded LRU; misses
    are not kept, so a new registration works at once and unknown ids cannot
    push the hot documents out.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl: float,
        size: int = 4096,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.ttl = ttl
        self.size = size
        self._found: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()

    async def get(self, client_id: str, sha256: str) -> str | None:
        key = (client_id, sha256)
        now = time.monotonic()
        hit = self._found.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            self._found.move_to_end(key)
            return hit[1]
        async with self.sessionmaker() as session:
            text = await session.scalar(
                select(PersistedOperation.document).where(
                    PersistedOperation.client_id == client_id,
                    PersistedOperation.sha256 == sha256,
                )
            )
        if text is None:
            self._found.pop(key, None)
            return None
        self._found[key] = (now, text)
        self._found.move_to_end(key)
        if len(self._found) > self.size:
            self._found.popitem(last=False)
        return text

    async def resolve(
        self, data: GraphQLRequestData, caller: Caller, document_id: object
    ) -> GraphQLRequestData:
        """The request to execute: its own `query`, or the registered text."""
        sha256 = requested_sha256(document_id, data.extensions)
        if sha256 is None:
            if caller.persisted_only:
                raise PersistedRefused(
                    403,
                    "This client may run only its registered documents: send "
                    "documentId (or extensions.persistedQuery), not query.",
                    "FORBIDDEN",
                    "PERSISTED_QUERY_REQUIRED",
                )
            return data
        if data.query is not None and document_sha256(data.query) != sha256:
            raise _bad(
                "The query's SHA-256 does not match the document id.",
                "PERSISTED_QUERY_HASH_MISMATCH",
                sha256,
            )
        if data.query is not None and not caller.persisted_only:
            return data  # the text is here and may be sent raw: no lookup
        text = (
            None
            if caller.client_id is None
            else await self.get(caller.client_id, sha256)
        )
        if text is None:
            raise not_found(sha256)
        return replace(data, query=text)


def document_sha256(text: str) -> str:
    """A document's id: the SHA-256 of its exact UTF-8 text, lowercase hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_document_id(value: object) -> str:
    """The hex of `sha256:<hex>` or `<hex>` (any case), lowercased."""
    if not isinstance(value, str):
        raise _bad("documentId must be a string.", "INVALID_DOCUMENT_ID")
    hex_part = value.removeprefix(DOCUMENT_ID_PREFIX)
    if not _HEX.fullmatch(hex_part):
        raise _bad(
            "A document id is sha256:<64 hex digits> (or the 64 hex digits).",
            "INVALID_DOCUMENT_ID",
        )
    return hex_part.lower()


def requested_sha256(
    document_id: object, extensions: Mapping[str, Any] | None
) -> str | None:
    """The id a request names, in either form; None when it names none."""
    persisted = (extensions or {}).get("persistedQuery")
    ids = []
    if document_id is not None:
        ids.append(parse_document_id(document_id))
    if persisted is not None:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise _bad(
                "Only version 1 of extensions.persistedQuery is supported.",
                "UNSUPPORTED_PERSISTED_QUERY_VERSION",
            )
        ids.append(parse_document_id(persisted.get("sha256Hash")))
    if len(set(ids)) > 1:
        raise _bad(
            "documentId and persistedQuery.sha256Hash differ.",
            "PERSISTED_QUERY_HASH_MISMATCH",
        )
    return ids[0] if ids else None


async def document_id_of(adapter: AsyncHTTPRequestAdapter) -> object:
    """The top-level `documentId` of a JSON body or of a multipart `operations`.

    Strawberry parses the body but keeps only query, variables, operationName
    and extensions; the body (and form) is cached by Starlette, and parsed
    again only when it mentions documentId.
    """
    content_type = adapter.content_type or ""
    raw: object
    if adapter.method != "POST":
        return None
    if "application/json" in content_type:
        raw = await adapter.get_body()
    elif content_type.startswith("multipart/form-data"):
        raw = (await adapter.get_form_data()).form.get("operations")
    else:
        return None
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes) or b'"documentId"' not in raw:
        return None
    body = orjson.loads(raw)
    return body.get("documentId") if isinstance(body, dict) else None
