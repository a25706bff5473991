"""Enterprise lookups through the real app: one code, batches, lists."""

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, Grade, PenaltyStatus, RatingStatus
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, post_graphql, without_cost

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def as_a_bank(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """These stories are told by a commercial bank (published data, all read scopes)."""
    client.headers.update(await tokens.headers(AgencyKind.COMMERCIAL_BANK))


ENTERPRISE_QUERY = """
query($code: String!, $asOf: Date) {
  enterprise(code: $code) {
    code name district { code name } industry supervisionCategory status address
    legalRepresentative
    currentRating(asOf: $asOf) { grade scheme score status validFrom validTo }
    ratingHistory { grade status }
    penalties { decisionNumber fineAmount status categories }
    riskLevel { overallLevel levelString air { level } water { level q m e } }
    insurance { policyNumber endDate premium }
    compulsoryInsuranceYears
  }
}
"""


class TestEnterprise:
    async def test_with_every_dataset(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        e = b.enterprise(name="无锡市锡山新材料科技有限公司")
        db.add(e)
        await db.flush()
        policy = b.policy(e)
        db.add_all(
            [
                b.rating(
                    e,
                    grade=Grade.GREEN,
                    valid_from=date(2025, 1, 1),
                    valid_to=date(2025, 12, 31),
                    score=None,
                ),
                b.rating(e, grade=Grade.YELLOW, valid_from=date(2026, 1, 1)),
                b.rating(
                    e,
                    grade=Grade.RED,
                    valid_from=date(2026, 5, 1),
                    status=RatingStatus.DRAFT,
                ),
                b.penalty(e, number="锡山环罚决〔2026〕7号"),
                b.penalty(e, status=PenaltyStatus.REVOKED),
                b.penalty(
                    e,
                    decision_date=date(2024, 1, 5),
                    publication_end_date=date(2025, 1, 5),
                ),
                b.risk(e, assessed_on=date(2025, 6, 1)),
                policy,
                b.compulsory(e, 2026),
            ]
        )
        await db.commit()
        # when
        response = await post_graphql(
            client, ENTERPRISE_QUERY, {"code": e.code.lower()}
        )
        # then
        assert data_of(response) == {
            "enterprise": {
                "code": e.code,
                "name": "无锡市锡山新材料科技有限公司",
                "district": {"code": "320205", "name": "锡山区"},
                "industry": "C2614",
                "supervisionCategory": "CITY_KEY",
                "status": "OPERATING",
                "address": e.address,
                "legalRepresentative": "张伟",
                "currentRating": {
                    "grade": "YELLOW",
                    "scheme": "JS_DYNAMIC_12",
                    "score": "8.0",
                    "status": "FINAL",
                    "validFrom": "2026-01-01",
                    "validTo": None,
                },
                "ratingHistory": [
                    {"grade": "YELLOW", "status": "FINAL"},
                    {"grade": "GREEN", "status": "FINAL"},
                ],
                "penalties": [
                    {
                        "decisionNumber": "锡山环罚决〔2026〕7号",
                        "fineAmount": "50000.00",
                        "status": "EFFECTIVE",
                        "categories": ["FINE"],
                    }
                ],
                "riskLevel": {
                    "overallLevel": "LARGER",
                    "levelString": "LARGER[一般-大气(Q1-M1-E3)+LARGER-水(Q2-M2-E2)]",
                    "air": {"level": "GENERAL"},
                    "water": {"level": "LARGER", "q": None, "m": None, "e": None},
                },
                "insurance": {
                    "policyNumber": policy.policy_number,
                    "endDate": "2026-12-31",
                    "premium": "30000.00",
                },
                "compulsoryInsuranceYears": [2026],
            }
        }

    async def test_as_of_a_past_date(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        e = b.enterprise()
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.rating(
                    e,
                    grade=Grade.GREEN,
                    valid_from=date(2025, 1, 1),
                    valid_to=date(2025, 12, 31),
                ),
                b.rating(e, grade=Grade.YELLOW, valid_from=date(2026, 1, 1)),
            ]
        )
        await db.commit()
        # when
        before = await post_graphql(
            client, ENTERPRISE_QUERY, {"code": e.code, "asOf": "2025-03-01"}
        )
        too_early = await post_graphql(
            client, ENTERPRISE_QUERY, {"code": e.code, "asOf": "2024-12-31"}
        )
        # then
        assert data_of(before)["enterprise"]["currentRating"]["grade"] == "GREEN"
        assert data_of(too_early)["enterprise"]["currentRating"] is None

    async def test_unknown_code_is_null(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client, ENTERPRISE_QUERY, {"code": b.credit_code(999_999)}
        )
        assert data_of(response) == {"enterprise": None}

    @pytest.mark.parametrize(
        ("code", "message"),
        [
            (
                "91110108600037341E",
                "code: check character 18 ('E') is wrong: expected 'D'",
            ),
            ("91110108600037341", "code: credit code must have 18 characters, got 17"),
            (
                "9111010860I037341D",
                "code: character 11 ('I') is not allowed: a credit code uses digits "
                "and the letters A-Y without I, O, S, V, Z",
            ),
        ],
    )
    async def test_malformed_code(
        self, client: httpx.AsyncClient, db: AsyncSession, code: str, message: str
    ) -> None:
        response = await post_graphql(client, ENTERPRISE_QUERY, {"code": code})
        assert without_cost(response) == {
            "data": {"enterprise": None},
            "errors": [
                {
                    "message": message,
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["enterprise"],
                    "extensions": {
                        "code": "BAD_USER_INPUT",
                        "reason": "INVALID_CREDIT_CODE",
                        "field": "code",
                    },
                }
            ],
        }
