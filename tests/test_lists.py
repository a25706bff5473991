"""The lists: filters, keyset pages, totals, and the page-size cap."""

from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import (
    AgencyKind,
    Grade,
    PenaltyStatus,
    RatingStatus,
    RiskLevel,
    Scheme,
    SupervisionCategory,
)
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql, without_cost

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def as_a_bank(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """These stories are told by a commercial bank (published data, all read scopes)."""
    client.headers.update(await tokens.headers(AgencyKind.COMMERCIAL_BANK))


ENTERPRISES_QUERY = """
query($filter: EnterpriseFilter, $first: Int!, $after: String) {
  enterprises(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { name } }
  }
}
"""

PAGE_WITH_DATASETS = """
query($first: Int!, $after: String) {
  enterprises(first: $first, after: $after) {
    pageInfo { endCursor }
    nodes { name currentRating { grade } penalties { decisionNumber } }
  }
}
"""

RATINGS_QUERY = """
query($filter: RatingFilter) {
  ratings(filter: $filter, first: 100) {
    totalCount
    nodes { grade status year enterprise { name penalties { decisionNumber } } }
  }
}
"""

PENALTIES_QUERY = """
query($filter: PenaltyFilter) {
  penaltyDecisions(filter: $filter) { totalCount nodes { decisionNumber enterprise { name } } }
}
"""

RISKS_QUERY = """
query($filter: RiskFilter) {
  riskAssessments(filter: $filter) { nodes { overallLevel assessedOn enterprise { name } } }
}
"""

ENROLLMENT_QUERY = """
query($year: Int!, $filter: EnrollmentFilter) {
  insuranceEnrollment(year: $year, filter: $filter) {
    totalCount
    nodes { year compulsory insured policies { policyNumber } enterprise { name currentRating { grade } } }
  }
}
"""


async def names(
    client: httpx.AsyncClient, flt: dict[str, object], first: int = 100
) -> list[str]:
    response = await post_graphql(
        client, ENTERPRISES_QUERY, {"filter": flt, "first": first}
    )
    return [e["node"]["name"] for e in data_of(response)["enterprises"]["edges"]]


class TestEnterprises:
    async def test_pages_cover_the_list_once(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        db.add_all([b.enterprise(name=f"企业{i:02d}") for i in range(7)])
        await db.commit()
        # when: pages of 3
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            response = await post_graphql(
                client, ENTERPRISES_QUERY, {"first": 3, "after": after}
            )
            page = data_of(response)["enterprises"]
            assert page["totalCount"] == 7
            seen += [e["node"]["name"] for e in page["edges"]]
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        # then
        assert pages == 3
        assert seen == [f"企业{i:02d}" for i in range(7)]

    async def test_a_page_of_one_carries_its_own_datasets(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given two enterprises, each with its own grade and penalty
        red = b.enterprise(name="红色企业")
        green = b.enterprise(name="绿色企业")
        db.add_all([red, green])
        await db.flush()
        db.add_all(
            [
                b.rating(red, grade=Grade.RED, valid_from=date(2026, 1, 1)),
                b.rating(green, grade=Grade.GREEN, valid_from=date(2026, 1, 1)),
                b.penalty(red, number="锡山环罚决〔2026〕1号"),
                b.penalty(green, number="锡山环罚决〔2026〕2号"),
            ]
        )
        await db.commit()
        # when pages of one enterprise ask for two of its datasets (on
        # PostgreSQL one statement for a single enterprise id)
        first = await post_graphql(client, PAGE_WITH_DATASETS, {"first": 1})
        page = data_of(first)["enterprises"]
        rest = await post_graphql(
            client,
            PAGE_WITH_DATASETS,
            {"first": 1, "after": page["pageInfo"]["endCursor"]},
        )
        # then each carries its own
        assert [page["nodes"], data_of(rest)["enterprises"]["nodes"]] == [
            [
                {
                    "name": "红色企业",
                    "currentRating": {"grade": "RED"},
                    "penalties": [{"decisionNumber": "锡山环罚决〔2026〕1号"}],
                }
            ],
            [
                {
                    "name": "绿色企业",
                    "currentRating": {"grade": "GREEN"},
                    "penalties": [{"decisionNumber": "锡山环罚决〔2026〕2号"}],
                }
            ],
        ]

    async def test_filters(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        # given
        xishan = b.enterprise(name="锡山化工有限公司", district_code="320205")
        old_chongan = b.enterprise(name="崇安印染有限公司", district_code="320202")
        liangxi = b.enterprise(
            name="梁溪造纸有限公司",
            district_code="320213",
            category=SupervisionCategory.NATIONAL_KEY,
        )
        db.add_all([xishan, old_chongan, liangxi])
        await db.flush()
        db.add_all(
            [
                b.rating(xishan, grade=Grade.RED, valid_from=date(2026, 1, 1)),
                b.rating(
                    old_chongan,
                    grade=Grade.RED,
                    valid_from=date(2025, 1, 1),
                    valid_to=date(2025, 12, 31),
                ),
                b.rating(old_chongan, grade=Grade.GREEN, valid_from=date(2026, 1, 1)),
                b.rating(
                    liangxi,
                    grade=Grade.RED,
                    valid_from=date(2026, 1, 1),
                    status=RatingStatus.DRAFT,
                ),
                b.rating(
                    liangxi,
                    grade=Grade.BLUE,
                    scheme=Scheme.JS_ANNUAL_100,
                    year=2025,
                    valid_from=date(2026, 5, 1),
                ),
            ]
        )
        await db.commit()
        # then
        assert await names(client, {"district": "320213"}) == [
            "崇安印染有限公司",
            "梁溪造纸有限公司",
        ]
        assert await names(client, {"grade": "RED"}) == ["锡山化工有限公司"]
        assert await names(client, {"grade": "GREEN"}) == ["崇安印染有限公司"]
        assert await names(client, {"grade": "BLUE", "ratingYear": 2025}) == [
            "梁溪造纸有限公司"
        ]
        assert await names(client, {"scheme": "JS_ANNUAL_100"}) == ["梁溪造纸有限公司"]
        assert await names(client, {"supervisionCategory": "NATIONAL_KEY"}) == [
            "梁溪造纸有限公司"
        ]
        assert await names(client, {"nameContains": "印染"}) == ["崇安印染有限公司"]
        assert await names(client, {"nameContains": "%"}) == []

    async def test_page_size_over_the_cap(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(client, ENTERPRISES_QUERY, {"first": 101})
        assert without_cost(response) == {
            "data": None,
            "errors": [
                {
                    "message": "`first` is 101; a page holds at most 100 items",
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["enterprises"],
                    "extensions": {
                        "code": "BAD_USER_INPUT",
                        "reason": "PAGE_SIZE_EXCEEDED",
                        "field": "first",
                        "maxPageSize": 100,
                    },
                }
            ],
        }

    @pytest.mark.parametrize("first", [-1, -(2**31)])
    async def test_negative_page_size(
        self, client: httpx.AsyncClient, db: AsyncSession, first: int
    ) -> None:
        response = await post_graphql(client, ENTERPRISES_QUERY, {"first": first})
        assert error_of(response)["extensions"]["reason"] == "INVALID_PAGE_SIZE"

    @pytest.mark.parametrize(
        "cursor", ["garbage", "", "cmF0aW5nOjE", "ZW50ZXJwcmlzZTotMQ", "%%%"]
    )
    async def test_unknown_cursor(
        self, client: httpx.AsyncClient, db: AsyncSession, cursor: str
    ) -> None:
        # "cmF0aW5nOjE" is a cursor of the ratings list; "ZW50ZXJwcmlzZTotMQ" is enterprise:-1
        response = await post_graphql(
            client, ENTERPRISES_QUERY, {"first": 5, "after": cursor}
        )
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_CURSOR",
            "field": "after",
        }

    async def test_bad_district(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client, ENTERPRISES_QUERY, {"first": 5, "filter": {"district": "3202"}}
        )
        assert error_of(response)["extensions"]["reason"] == "INVALID_DISTRICT_CODE"


class TestDatasetLists:
    async def test_ratings_are_published_or_in_notice(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        e = b.enterprise(name="惠山钢铁有限公司", district_code="320206")
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.rating(e, grade=Grade.BLUE, valid_from=date(2025, 1, 1)),
                b.rating(
                    e,
                    grade=Grade.RED,
                    status=RatingStatus.DRAFT,
                    valid_from=date(2026, 1, 1),
                ),
                b.rating(
                    e,
                    grade=Grade.BLACK,
                    status=RatingStatus.REVOKED,
                    valid_from=date(2026, 2, 1),
                ),
                b.rating(
                    e,
                    grade=Grade.YELLOW,
                    status=RatingStatus.IN_PUBLIC_NOTICE,
                    valid_from=date(2026, 3, 1),
                ),
                b.penalty(e, number="锡惠环罚〔2026〕3号"),
            ]
        )
        await db.commit()
        # when
        response = await post_graphql(
            client, RATINGS_QUERY, {"filter": {"district": "320206"}}
        )
        drafts = await post_graphql(
            client, RATINGS_QUERY, {"filter": {"status": "DRAFT"}}
        )
        # then: the official grade, and the grade in public notice (公示)
        enterprise = {
            "name": "惠山钢铁有限公司",
            "penalties": [{"decisionNumber": "锡惠环罚〔2026〕3号"}],
        }
        assert data_of(response) == {
            "ratings": {
                "totalCount": 2,
                "nodes": [
                    {
                        "grade": "BLUE",
                        "status": "FINAL",
                        "year": None,
                        "enterprise": enterprise,
                    },
                    {
                        "grade": "YELLOW",
                        "status": "IN_PUBLIC_NOTICE",
                        "year": None,
                        "enterprise": enterprise,
                    },
                ],
            }
        }
        assert data_of(drafts) == {"ratings": {"totalCount": 0, "nodes": []}}

    async def test_penalties_inside_their_publication_window(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: today is 2026-06-15
        e = b.enterprise(name="宜兴陶瓷有限公司", district_code="320282")
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.penalty(
                    e, number="A〔2026〕1号", publication_end_date=date(2026, 6, 15)
                ),
                b.penalty(
                    e, number="B〔2025〕2号", publication_end_date=date(2026, 6, 14)
                ),
                b.penalty(e, number="C〔2026〕3号", status=PenaltyStatus.REVOKED),
                b.penalty(
                    e,
                    number="D〔2026〕4号",
                    status=PenaltyStatus.CHANGED,
                    categories=("WARNING",),
                ),
            ]
        )
        await db.commit()
        # when
        everything = await post_graphql(
            client, PENALTIES_QUERY, {"filter": {"enterpriseCode": e.code}}
        )
        warnings = await post_graphql(
            client, PENALTIES_QUERY, {"filter": {"category": "WARNING"}}
        )
        # then
        assert [
            p["decisionNumber"]
            for p in data_of(everything)["penaltyDecisions"]["nodes"]
        ] == [
            "A〔2026〕1号",
            "D〔2026〕4号",
        ]
        assert data_of(warnings)["penaltyDecisions"]["totalCount"] == 1

    async def test_risk_assessments(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        e = b.enterprise(name="新吴电子有限公司", district_code="320214")
        db.add(e)
        await db.flush()
        db.add_all(
            [
                b.risk(e, level=RiskLevel.GENERAL, assessed_on=date(2023, 4, 1)),
                b.risk(e, level=RiskLevel.MAJOR, assessed_on=date(2026, 4, 1)),
            ]
        )
        await db.commit()
        response = await post_graphql(
            client, RISKS_QUERY, {"filter": {"level": "MAJOR"}}
        )
        assert data_of(response) == {
            "riskAssessments": {
                "nodes": [
                    {
                        "overallLevel": "MAJOR",
                        "assessedOn": "2026-04-01",
                        "enterprise": {"name": "新吴电子有限公司"},
                    }
                ]
            }
        }
        bad = await post_graphql(
            client,
            RISKS_QUERY,
            {"filter": {"assessedFrom": "2026-05-01", "assessedTo": "2026-01-01"}},
        )
        assert error_of(bad)["extensions"]["reason"] == "INVALID_DATE_RANGE"

    async def test_insurance_enrollment_gaps(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: listed and insured, listed and not insured, insured voluntarily
        insured = b.enterprise(name="已投保化工有限公司")
        gap = b.enterprise(name="未投保电镀有限公司")
        voluntary = b.enterprise(name="自愿投保印染有限公司")
        db.add_all([insured, gap, voluntary])
        await db.flush()
        policy = b.policy(insured)
        db.add_all(
            [
                b.compulsory(insured, 2026),
                b.compulsory(gap, 2026),
                policy,
                b.policy(voluntary, start=date(2025, 7, 1), end=date(2026, 6, 30)),
                b.rating(gap, grade=Grade.YELLOW),
            ]
        )
        await db.commit()
        # when
        gaps = await post_graphql(
            client,
            ENROLLMENT_QUERY,
            {"year": 2026, "filter": {"compulsory": True, "insured": False}},
        )
        all_2026 = await post_graphql(client, ENROLLMENT_QUERY, {"year": 2026})
        # then
        assert data_of(gaps) == {
            "insuranceEnrollment": {
                "totalCount": 1,
                "nodes": [
                    {
                        "year": 2026,
                        "compulsory": True,
                        "insured": False,
                        "policies": [],
                        "enterprise": {
                            "name": "未投保电镀有限公司",
                            "currentRating": {"grade": "YELLOW"},
                        },
                    }
                ],
            }
        }
        nodes = data_of(all_2026)["insuranceEnrollment"]["nodes"]
        assert [
            (n["enterprise"]["name"], n["compulsory"], n["insured"]) for n in nodes
        ] == [
            ("已投保化工有限公司", True, True),
            ("未投保电镀有限公司", True, False),
            ("自愿投保印染有限公司", False, True),
        ]
        assert nodes[0]["policies"] == [{"policyNumber": policy.policy_number}]
