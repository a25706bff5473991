"""Batch lookups: input order, nulls, limits, and a constant number of queries."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.enums import AgencyKind, Grade
from resolvers.views import EnterpriseView, RatingView
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def as_a_bank(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """These stories are told by a commercial bank (published data, all read scopes)."""
    client.headers.update(await tokens.headers(AgencyKind.COMMERCIAL_BANK))


BATCH_QUERY = """
query($codes: [String!]!) {
  enterprisesByCodes(codes: $codes) {
    code
    currentRating { grade }
  }
}
"""

FULL_BATCH_QUERY = """
query($codes: [String!]!) {
  enterprisesByCodes(codes: $codes) {
    code name district { code name } industry supervisionCategory status address legalRepresentative
    currentRating { grade score validFrom enterprise { code } }
    ratingHistory { grade scheme status enterprise { name } }
    penalties { decisionNumber fineAmount categories enterprise { code } }
    riskLevel { overallLevel air { level q } water { level } }
    insurance { policyNumber premium }
    compulsoryInsuranceYears
  }
}
"""


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def add_enterprises(db: AsyncSession, n: int) -> list[str]:
    enterprises = [b.enterprise() for _ in range(n)]
    db.add_all(enterprises)
    await db.flush()
    for i, e in enumerate(enterprises):
        db.add_all(
            [
                b.rating(e, grade=list(Grade)[i % 5], valid_from=date(2026, 1, 1)),
                b.rating(
                    e,
                    grade=Grade.BLUE,
                    valid_from=date(2025, 1, 1),
                    valid_to=date(2025, 12, 31),
                ),
                b.penalty(e),
                b.risk(e),
                b.policy(e),
                b.compulsory(e, 2026),
            ]
        )
    await db.commit()
    return [e.code for e in enterprises]


class TestEnterprisesByCodes:
    async def test_input_order_with_null_for_unknown(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        first, second = await add_enterprises(db, 2)
        unknown = b.credit_code(987_654)
        # when
        response = await post_graphql(
            client, BATCH_QUERY, {"codes": [second, unknown, first.lower(), second]}
        )
        # then
        assert data_of(response) == {
            "enterprisesByCodes": [
                {"code": second, "currentRating": {"grade": "BLUE"}},
                None,
                {"code": first, "currentRating": {"grade": "GREEN"}},
                {"code": second, "currentRating": {"grade": "BLUE"}},
            ]
        }

    async def test_empty_list(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(client, BATCH_QUERY, {"codes": []})
        assert data_of(response) == {"enterprisesByCodes": []}

    async def test_a_bad_code_names_its_index(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        [good] = await add_enterprises(db, 1)
        response = await post_graphql(
            client, BATCH_QUERY, {"codes": [good, "91110108600037341E"]}
        )
        error = error_of(response)
        assert (
            error["message"]
            == "codes[1]: check character 18 ('E') is wrong: expected 'D'"
        )
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_CREDIT_CODE",
            "field": "codes[1]",
        }
        assert response.json()["data"] is None

    async def test_over_the_limit(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        codes = [b.credit_code(i) for i in range(1001)]
        response = await post_graphql(client, BATCH_QUERY, {"codes": codes})
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "TOO_MANY_CODES",
            "field": "codes",
            "maxCodes": 1000,
        }

    async def test_constant_number_of_queries(
        self, client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given: 100 enterprises with every dataset
        codes = await add_enterprises(db, 100)
        # when
        with count_statements(engine) as statements:
            response = await post_graphql(client, FULL_BATCH_QUERY, {"codes": codes})
        # then: one query for the enterprises, one per dataset, and the two
        # lookups of authentication (client, revocations: uncached in tests)
        result = data_of(response)["enterprisesByCodes"]
        assert [e["code"] for e in result] == codes
        assert all(len(e["ratingHistory"]) == 2 and e["penalties"] for e in result)
        # the audit entry's own transaction is not a read
        reads = [
            s for s in statements if "audit_" not in s and not s.startswith("BEGIN")
        ]
        assert len(reads) <= 8, "\n".join(s[:90] for s in reads)

    async def test_the_answer_is_freed_without_the_collector(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: enterprises whose rows point back to them, and the collector
        # keeping what it finds
        codes = await add_enterprises(db, 20)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            # when
            response = await post_graphql(client, FULL_BATCH_QUERY, {"codes": codes})
            gc.collect()
            found = [
                o for o in gc.garbage if isinstance(o, EnterpriseView | RatingView)
            ]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        # then: each row names its enterprise, and no view was left in a cycle
        result = data_of(response)["enterprisesByCodes"]
        assert [e["currentRating"]["enterprise"]["code"] for e in result] == codes
        assert found == []

    async def test_queries_do_not_grow_with_the_batch(
        self, client: httpx.AsyncClient, db: AsyncSession, engine: AsyncEngine
    ) -> None:
        codes = await add_enterprises(db, 20)
        with count_statements(engine) as few:
            data_of(await post_graphql(client, FULL_BATCH_QUERY, {"codes": codes[:2]}))
        with count_statements(engine) as many:
            data_of(await post_graphql(client, FULL_BATCH_QUERY, {"codes": codes}))
        assert len(many) == len(few)
