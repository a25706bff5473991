"""What `make bench` asks: the same questions in each server's own words.

A bank sends a constant query text with variables. The hub (and D, the same
hub unguarded) takes the hub's GraphQL; the reference server the same bodies
on one path per scenario; PostGraphile the closest query its generated
schema offers. Where the semantics differ, DIFFERENCES says how.
"""

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

SEED = 2026
PAGE = 100

SELECTION = (
    "code name status district { code name } "
    "currentRating { grade scheme score validFrom validTo } "
    "penalties { decisionNumber decisionDate categories fineAmount status } "
    "riskLevel { overallLevel assessedOn } "
    "insurance { insurerName policyNumber startDate endDate status }"
)
FEED_SELECTION = "seq cursor at dataset kind enterpriseCode recordId payload"

# PostGraphile v5 (Amber preset) on the same tables: relations are connections
# named after the foreign key, orderBy only on indexed columns, conditions
# only equality; primary keys are rowId.
PG_SELECTION = (
    "code name status districtByDistrictCode { code name } "
    'creditRatingsByEnterpriseId(condition: {scheme: "JS_DYNAMIC_12"}, '
    "orderBy: PRIMARY_KEY_DESC, first: 1) "
    "{ nodes { grade scheme score validFrom validTo } } "
    "penaltyDecisionsByEnterpriseId(orderBy: DECISION_DATE_DESC) "
    "{ nodes { decisionNumber decisionDate categories fineAmount status } } "
    "riskAssessmentsByEnterpriseId(orderBy: ASSESSED_ON_DESC, first: 1) "
    "{ nodes { overallLevel assessedOn } } "
    "insurancePoliciesByEnterpriseId(orderBy: START_DATE_DESC, first: 1) "
    "{ nodes { insurerName policyNumber startDate endDate status } }"
)

HUB_QUERIES = {
    "single": f"query Lookup($code: String!) {{ enterprise(code: $code) {{ {SELECTION} }} }}",
    "batch": "query Batch($codes: [String!]!) "
    f"{{ enterprisesByCodes(codes: $codes) {{ {SELECTION} }} }}",
    "list": "query Page($district: String!) "
    f"{{ enterprises(filter: {{district: $district}}, first: {PAGE}) "
    f"{{ nodes {{ {SELECTION} }} pageInfo {{ hasNextPage endCursor }} }} }}",
    "feed": "query Feed($after: String) "
    f"{{ changes(after: $after, first: {PAGE}) "
    f"{{ nodes {{ {FEED_SELECTION} }} endCursor hasNextPage }} }}",
}

PG_QUERIES = {
    "single": f"query Lookup($code: String!) {{ enterpriseByCode(code: $code) {{ {PG_SELECTION} }} }}",
    "batch": "query Batch($codes: [String!]!) "
    f"{{ enterprisesByCodes(codes: $codes) {{ nodes {{ {PG_SELECTION} }} }} }}",
    "list": "query Page($district: String!) "
    "{ allEnterprises(condition: {districtCode: $district}, orderBy: PRIMARY_KEY_ASC, "
    f"first: {PAGE}) {{ nodes {{ {PG_SELECTION} }} pageInfo {{ hasNextPage endCursor }} }} }}",
    "feed": "query Feed($after: Cursor) "
    f"{{ allChangeEvents(orderBy: PRIMARY_KEY_ASC, first: {PAGE}, after: $after) "
    "{ edges { cursor node { seq at dataset kind enterpriseCode recordId payload } } "
    "pageInfo { endCursor hasNextPage } } }",
}

FEED_CURSORS = (
    "{ allChangeEvents(orderBy: PRIMARY_KEY_ASC) { edges { cursor node { seq } } } }"
)

DIFFERENCES = [
    "The hub (A, D) and the reference (B) answer with the hub's row rules for a "
    "bank: the published grade (FINAL or REPAIRED) in force today under the "
    "official scheme, penalties not revoked and inside their publication "
    "window, the latest risk assessment made by today, the policy covering "
    "today (not surrendered); amounts as decimals in yuan, scores in points.",
    "PostGraphile (C) has no such rules and filters only by equality on "
    "indexed columns: the newest JS_DYNAMIC_12 grade by id whatever its status "
    "and validity, every penalty decision, the newest risk assessment and "
    "insurance policy; raw columns (amounts in fen as BigInt strings, scores "
    "in tenths); relations wrapped in connections (`nodes`).",
    "Batches: the hub answers in input order with null for unknown codes; "
    "PostGraphile's `enterprises_by_codes` SQL function returns the found "
    "enterprises in input order.",
    "List: the hub's district filter includes the abolished codes merged into "
    "the district (the districts used have none); PostGraphile matches "
    "`districtCode` exactly.",
    "Feed: the hub filters the change feed by the caller's datasets and "
    "jurisdiction (a bank sees all of it); PostGraphile pages `change_event` "
    "by primary key with its own cursors.",
    "The hub (A) validates the bearer token, checks the purpose header, plans "
    "authorization per operation and writes one audit entry per request "
    "(group commit). D does none of these (a fixed bank caller with every "
    "scope). B and C check nothing.",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    connections: int
    query: str  # key of HUB_QUERIES / PG_QUERIES
    path: str  # the reference server's endpoint
    make_variables: Callable[["Inputs", random.Random], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the variables are drawn from."""

    codes: list[str]
    districts: list[str]
    feed_seqs: list[int]


def single_codes(inputs: Inputs, rng: random.Random) -> list[dict[str, Any]]:
    return [{"code": c} for c in rng.sample(inputs.codes, 4000)]


def code_sets(
    size: int, count: int
) -> Callable[[Inputs, random.Random], list[dict[str, Any]]]:
    def make(inputs: Inputs, rng: random.Random) -> list[dict[str, Any]]:
        return [{"codes": rng.sample(inputs.codes, size)} for _ in range(count)]

    return make


def districts(inputs: Inputs, rng: random.Random) -> list[dict[str, Any]]:
    return [{"district": d} for d in inputs.districts]


def feed_positions(inputs: Inputs, rng: random.Random) -> list[dict[str, Any]]:
    """Random places in the feed, each with a full page after it; seq 0 is the start."""
    last = max(0, len(inputs.feed_seqs) - PAGE)
    starts = [0, *inputs.feed_seqs[:last]]
    return [{"after": rng.choice(starts)} for _ in range(1000)]


SCENARIOS = [
    Scenario("single", "single lookup", 32, "single", "/single", single_codes),
    Scenario(
        "batch100", "batch of 100 codes", 32, "batch", "/batch", code_sets(100, 400)
    ),
    Scenario(
        "batch1000", "batch of 1,000 codes", 8, "batch", "/batch", code_sets(1000, 60)
    ),
    Scenario("list", "filtered list, page of 100", 32, "list", "/list", districts),
    Scenario("feed", "change feed, page of 100", 32, "feed", "/feed", feed_positions),
]


def hub_feed_cursor(seq: int) -> str | None:
    """The hub's cursor for a place in the feed (None: from the start)."""
    return base64.urlsafe_b64encode(f"feed:{seq}".encode()).decode() if seq else None


def bodies(
    scenario: Scenario,
    flavor: str,
    variables: list[dict[str, Any]],
    pg_cursors: dict[int, str] | None = None,
) -> list[bytes]:
    """One request body per variable set, in the flavor's words."""
    out = []
    for v in variables:
        if scenario.key == "feed":
            seq = v["after"]
            if flavor == "postgraphile":
                assert pg_cursors is not None
                v = {"after": pg_cursors.get(seq)}
            else:
                v = {"after": hub_feed_cursor(seq)}
        query = (PG_QUERIES if flavor == "postgraphile" else HUB_QUERIES)[
            scenario.query
        ]
        out.append(orjson.dumps({"query": query, "variables": v}))
    return out


def url_of(scenario: Scenario, flavor: str, base: str) -> str:
    return f"{base}{scenario.path}" if flavor == "reference" else f"{base}/graphql"
