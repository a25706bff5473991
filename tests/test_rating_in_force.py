"""currentRating without arguments reads only the rating in force (chosen in
SQL, resolvers/graph.py select_rating_in_force); with arguments, or beside
ratingHistory, every rating (chosen in memory). Both must pick the same one."""

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, Grade, RatingStatus, Scheme
from hub.models import Enterprise
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, post_graphql

pytestmark = pytest.mark.anyio

RATING = "grade validFrom status"
ALONE = f"currentRating {{ {RATING} }}"
# The same pick made in memory from every rating the caller may see.
IN_MEMORY = f"currentRating {{ {RATING} }} ratingHistory {{ grade }}"
WITH_ARGUMENTS = f"currentRating(scheme: JS_DYNAMIC_12) {{ {RATING} }}"


@pytest.fixture(autouse=True)
async def as_a_bank(client: httpx.AsyncClient, tokens: Tokens) -> None:
    client.headers.update(await tokens.headers(AgencyKind.COMMERCIAL_BANK))


def history(e: Enterprise, case: str) -> list[Any]:
    """Ratings of one enterprise (today is 2026-06-15, the official scheme
    JS_DYNAMIC_12), by the case they make."""
    r = b.rating
    official = {
        "downgrade inside the period": [
            r(
                e,
                grade=Grade.GREEN,
                valid_from=date(2025, 1, 1),
                valid_to=date(2025, 12, 31),
            ),
            r(
                e,
                grade=Grade.BLUE,
                valid_from=date(2026, 1, 1),
                valid_to=date(2026, 12, 31),
            ),
            r(
                e,
                grade=Grade.RED,
                valid_from=date(2026, 5, 1),
                valid_to=date(2026, 12, 31),
            ),
        ],
        "the same day: the later decision": [
            r(e, grade=Grade.YELLOW, valid_from=date(2026, 3, 1)),
            r(e, grade=Grade.BLUE, valid_from=date(2026, 3, 1)),
        ],
        "expired": [
            r(
                e,
                grade=Grade.GREEN,
                valid_from=date(2025, 1, 1),
                valid_to=date(2026, 6, 14),
            ),
        ],
        "starts tomorrow": [
            r(e, grade=Grade.GREEN, valid_from=date(2026, 1, 1)),
            r(e, grade=Grade.BLACK, valid_from=date(2026, 6, 16)),
        ],
        "unpublished and noticed ones pass over": [
            r(e, grade=Grade.BLUE, valid_from=date(2026, 1, 1)),
            r(
                e,
                grade=Grade.RED,
                valid_from=date(2026, 4, 1),
                status=RatingStatus.DRAFT,
            ),
            r(
                e,
                grade=Grade.YELLOW,
                valid_from=date(2026, 5, 1),
                status=RatingStatus.IN_PUBLIC_NOTICE,
            ),
            r(
                e,
                grade=Grade.GREEN,
                valid_from=date(2026, 5, 2),
                status=RatingStatus.REPAIRED,
            ),
        ],
        "another scheme": [
            r(e, grade=Grade.BLUE, valid_from=date(2026, 1, 1)),
            r(
                e,
                grade=Grade.RED,
                valid_from=date(2026, 2, 1),
                scheme=Scheme.JS_ANNUAL_100,
            ),
        ],
        "none": [],
    }
    return official[case]


CASES = {
    "downgrade inside the period": {"grade": "RED", "validFrom": "2026-05-01"},
    "the same day: the later decision": {"grade": "BLUE", "validFrom": "2026-03-01"},
    "expired": None,
    "starts tomorrow": {"grade": "GREEN", "validFrom": "2026-01-01"},
    "unpublished and noticed ones pass over": {
        "grade": "GREEN",
        "validFrom": "2026-05-02",
    },
    "another scheme": {"grade": "BLUE", "validFrom": "2026-01-01"},
    "none": None,
}


@pytest.fixture
async def enterprises(db: AsyncSession) -> dict[str, str]:
    """case -> credit code of an enterprise with those ratings."""
    made = {case: b.enterprise() for case in CASES}
    db.add_all(made.values())
    await db.flush()
    for case, e in made.items():
        db.add_all(history(e, case))
    await db.commit()
    return {case: e.code for case, e in made.items()}


def picked(enterprise: dict[str, Any] | None) -> dict[str, Any] | None:
    rating = enterprise and enterprise["currentRating"]
    return rating and {k: rating[k] for k in ("grade", "validFrom")}


class TestRatingInForce:
    @pytest.mark.parametrize("case", CASES)
    async def test_a_lookup_picks_what_memory_picks(
        self, client: httpx.AsyncClient, enterprises: dict[str, str], case: str
    ) -> None:
        answers = []
        for selection in (ALONE, IN_MEMORY, WITH_ARGUMENTS):
            response = await post_graphql(
                client,
                f"query($code: String!) {{ enterprise(code: $code) {{ {selection} }} }}",
                {"code": enterprises[case]},
            )
            answers.append(picked(data_of(response)["enterprise"]))
        assert answers == [CASES[case]] * 3

    async def test_an_argument_by_a_variable_is_read_each_time(
        self, client: httpx.AsyncClient, enterprises: dict[str, str]
    ) -> None:
        """Which ratings a document reads is decided once per document, so a
        variable argument counts as an argument even when it is left out."""
        document = (
            "query($code: String!, $asOf: Date) "
            f"{{ enterprise(code: $code) {{ currentRating(asOf: $asOf) {{ {RATING} }} }} }}"
        )
        code = enterprises["downgrade inside the period"]
        today = await post_graphql(client, document, {"code": code})
        last_year = await post_graphql(
            client, document, {"code": code, "asOf": "2025-06-15"}
        )
        assert (
            picked(data_of(today)["enterprise"]) == CASES["downgrade inside the period"]
        )
        assert picked(data_of(last_year)["enterprise"]) == {
            "grade": "GREEN",
            "validFrom": "2025-01-01",
        }

    async def test_a_batch_and_a_list_page(
        self, client: httpx.AsyncClient, enterprises: dict[str, str]
    ) -> None:
        codes = list(enterprises.values())
        expected = {enterprises[case]: rating for case, rating in CASES.items()}
        for selection in (ALONE, IN_MEMORY):
            batch = await post_graphql(
                client,
                "query($codes: [String!]!) "
                f"{{ enterprisesByCodes(codes: $codes) {{ code {selection} }} }}",
                {"codes": codes},
            )
            page = await post_graphql(
                client,
                f"{{ enterprises(first: 20) {{ nodes {{ code {selection} }} }} }}",
            )
            found = data_of(batch)["enterprisesByCodes"]
            listed = data_of(page)["enterprises"]["nodes"]
            assert {e["code"]: picked(e) for e in found} == expected
            assert {e["code"]: picked(e) for e in listed} == expected

    async def test_through_a_nested_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        # given an enterprise with a downgrade and a published penalty
        e = b.enterprise()
        db.add(e)
        await db.flush()
        db.add_all([*history(e, "downgrade inside the period"), b.penalty(e)])
        await db.commit()
        # when its penalties are listed with their enterprise's grade
        response = await post_graphql(
            client,
            "{ penaltyDecisions(first: 5) { nodes { enterprise { code "
            + ALONE
            + " } } } }",
        )
        # then
        (node,) = data_of(response)["penaltyDecisions"]["nodes"]
        assert picked(node["enterprise"]) == CASES["downgrade inside the period"]
