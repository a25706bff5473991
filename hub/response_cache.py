"""Answers of queries kept per worker until the data changes (HUB_RESPONSE_CACHE_MB).

Banks check the same portfolio again and again. An answer is kept under
everything it depends on: the document and operation (as authorized), the
variables, the caller (client, scopes, row rules: auth.caller.Caller) and the
date in China Standard Time (the row rules' "today"). It is served only while the data
version it was read under is still current (hub/data_version.py: any
committed write anywhere moves it), and never while the version's listener
is not live.

Only documents whose every field is listed in CACHEABLE are kept: fields
that read tables without the change trigger (the audit log behind
`Enterprise.accessLog`), or that depend on more than the key, are not, and a
field added to the schema is not cached until it is listed here. An answer
with errors is never kept. A hit is still authorized, charged, metered and
audited like any request, with the enterprises the answer carries.

Answers are kept as their JSON bytes (orjson.Fragment), which bounds the
memory exactly and spares encoding them again; least recently used go first.
"""

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.caller import Caller
from hub.config import Settings
from hub.data_version import DataVersion
from hub.metrics import RESPONSE_CACHE
from resolvers.context import Context

# Schema coordinates whose answers depend only on the key and on tables that
# notify (migration 0012). Enterprise.accessLog reads the audit log: never.
CACHEABLE = frozenset(
    {
        "Query.enterprise",
        "Query.enterprisesByCodes",
        "Query.enterprises",
        "Query.changes",
        *(
            f"Enterprise.{f}"
            for f in [
                "code",
                "name",
                "district",
                "industry",
                "supervisionCategory",
                "status",
                "address",
                "legalRepresentative",
                "compulsoryInsuranceYears",
                "currentRating",
                "ratingHistory",
                "penalties",
                "riskLevel",
                "insurance",
            ]
        ),
        *(f"District.{f}" for f in ("code", "name", "nameEn")),
        *(
            f"Rating.{f}"
            for f in [
                "id",
                "scheme",
                "year",
                "grade",
                "score",
                "status",
                "reason",
                "decidedBy",
                "decidedAt",
                "validFrom",
                "validTo",
                "noticeUntil",
                "enterprise",
            ]
        ),
        *(
            f"PenaltyDecision.{f}"
            for f in [
                "id",
                "decisionNumber",
                "categories",
                "violationType",
                "facts",
                "legalBasis",
                "content",
                "fineAmount",
                "confiscationAmount",
                "decisionDate",
                "authorityName",
                "authorityCode",
                "publicationEndDate",
                "status",
                "enterprise",
            ]
        ),
        *(
            f"RiskAssessment.{f}"
            for f in [
                "id",
                "overallLevel",
                "air",
                "water",
                "levelString",
                "assessedOn",
                "planFilingNumber",
                "planFiledOn",
                "filingAuthority",
                "enterprise",
            ]
        ),
        *(f"MediumRisk.{f}" for f in ("level", "q", "m", "e")),
        *(
            f"InsurancePolicy.{f}"
            for f in [
                "id",
                "insurerName",
                "insurerCode",
                "policyNumber",
                "startDate",
                "endDate",
                "cumulativeLimit",
                "perAccidentLimit",
                "premium",
                "status",
            ]
        ),
        *(
            f"EnterpriseConnection.{f}"
            for f in ("edges", "nodes", "pageInfo", "totalCount")
        ),
        "EnterpriseEdge.cursor",
        "EnterpriseEdge.node",
        "PageInfo.hasNextPage",
        "PageInfo.endCursor",
        *(f"ChangePage.{f}" for f in ("nodes", "endCursor", "hasNextPage")),
        *(
            f"Change.{f}"
            for f in [
                "seq",
                "cursor",
                "at",
                "dataset",
                "kind",
                "enterpriseCode",
                "recordId",
                "payload",
            ]
        ),
    }
)

Key = tuple[object, ...]
MAX_CALLERS = 10_000  # (caller, date) pairs shared between keys
_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Answer:
    data: orjson.Fragment
    size: int  # bytes of JSON
    version: int
    # The enterprises it carries, for the audit entry, as one string: a set
    # of a batch's thousand codes would hold about 100 KB beside its answer,
    # outside the count.
    codes: str


class ResponseCache:
    """Answers by key, at most `max_bytes` of JSON (see the module docstring)."""

    def __init__(self, version: DataVersion, *, max_bytes: int) -> None:
        self.version = version
        self.max_bytes = max_bytes
        self.size = 0
        self.counts = {"hit": 0, "miss": 0, "stored": 0, "off": 0}
        self._counters = {k: RESPONSE_CACHE.labels(k) for k in self.counts}
        self._answers: OrderedDict[Key, Answer] = OrderedDict()
        self._who: dict[tuple[Caller, date], tuple[Caller, date]] = {}

    @classmethod
    def for_settings(
        cls, settings: Settings, engine: AsyncEngine
    ) -> "ResponseCache | None":
        """The cache, or None where it is off: a size of 0, SQLite (no
        notifications), or a replica (its answers may be behind the version)."""
        if (
            settings.response_cache_mb <= 0
            or engine.dialect.name != "postgresql"
            or settings.database_replica_url
        ):
            return None
        version = DataVersion(
            engine,
            check_seconds=settings.data_version_check_seconds,
            url=settings.data_version_url,
        )
        return cls(version, max_bytes=int(settings.response_cache_mb * 1024 * 1024))

    def key(
        self,
        operation: object,
        variables: Mapping[str, Any] | None,
        context: Context,
    ) -> Key | None:
        """The answer's key; None when nothing may be served or kept now.

        `operation` stands for the document and operation as executed (the
        direct path's prepared operation: one per document, operation and
        authorization plan), held by the key so that its identity stays
        unique. The caller and date are shared between the keys of one
        caller on one day: each request brings its own equal copies, and a
        worker kept four thousand of them for four thousand lookups.
        """
        self.version.ensure_listening()
        if not self.version.live:
            self._count("off")
            return None
        try:
            encoded = _exact(orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
        except TypeError:  # integers orjson cannot write: not worth keeping
            return None
        who = (context.caller, context.today)
        shared = self._who.get(who)
        if shared is None:
            if len(self._who) >= MAX_CALLERS:
                self._who.clear()  # old keys keep their own; new ones share anew
            shared = self._who[who] = who
        return (operation, encoded, shared)

    def get(self, key: Key, context: Context) -> orjson.Fragment | None:
        """The kept answer, its enterprises noted on the context; None: a miss."""
        answer = self._answers.get(key)
        if answer is None or answer.version != self.version.value:
            if answer is not None:  # read before a write: never again
                del self._answers[key]
                self.size -= answer.size
            self._count("miss")
            return None
        self._answers.move_to_end(key)
        self._count("hit")
        if answer.codes:
            context.returned_codes.update(answer.codes.split(_SEPARATOR))
        return answer.data

    def put(
        self, key: Key, version: int, data: dict[str, Any], context: Context
    ) -> orjson.Fragment | None:
        """Keep `data`, read under `version`; its JSON, or None if not kept."""
        if context.returned_ids or version != self.version.value:
            # Rows returned without their enterprise's code (the audit entry
            # looks those up), or a write committed while it was read.
            return None
        codes = _SEPARATOR.join(context.returned_codes)
        if codes.count(_SEPARATOR) != max(0, len(context.returned_codes) - 1):
            return None  # a code with the separator in it (none is valid)
        encoded = _exact(orjson.dumps(data))
        if len(encoded) > self.max_bytes:
            return None
        fragment = orjson.Fragment(encoded)
        old = self._answers.pop(key, None)
        if old is not None:
            self.size -= old.size
        self._answers[key] = Answer(fragment, len(encoded), version, codes)
        self.size += len(encoded)
        while self.size > self.max_bytes:
            _, dropped = self._answers.popitem(last=False)
            self.size -= dropped.size
        self._count("stored")
        return fragment

    def _count(self, result: str) -> None:
        self.counts[result] += 1
        self._counters[result].inc()

    async def aclose(self) -> None:
        await self.version.aclose()
        self._answers.clear()
        self.size = 0


def _exact(encoded: bytes) -> bytes:
    """A copy without orjson's spare capacity: its output keeps the buffer it
    grew (4 KiB at least), which held a 1.5 KB answer in 4 KiB and a 2 KB key
    in 16 KiB, two to ten times what is counted."""
    return bytes(memoryview(encoded))


def cacheable(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> bool:
    """Whether every field the operation selects is in CACHEABLE."""
    if operation.operation is not OperationType.QUERY or schema.query_type is None:
        return False
    fragments = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    return _listed(schema, fragments, schema.query_type, operation.selection_set)


def _listed(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    parent: GraphQLObjectType,
    selections: SelectionSetNode,
) -> bool:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if f"{parent.name}.{name}" not in CACHEABLE:
                return False
            if selection.selection_set is not None:
                child = get_named_type(parent.fields[name].type)
                if not isinstance(child, GraphQLObjectType) or not _listed(
                    schema, fragments, child, selection.selection_set
                ):
                    return False
            continue
        if isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        else:
            assert isinstance(selection, FragmentSpreadNode)
            fragment = fragments[selection.name.value]
            condition, inner = fragment.type_condition, fragment.selection_set
        target = schema.get_type(condition.name.value) if condition else parent
        if not isinstance(target, GraphQLObjectType) or not _listed(
            schema, fragments, target, inner
        ):
            return False
    return True
