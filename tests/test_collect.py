"""Recording and correcting one record at a time (the write mutations)."""

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind, BatchSource, Dataset
from hub.models import (
    AnnualEmission,
    CollectionBatch,
    Enterprise,
    EnvironmentalEvent,
    PenaltyDecision,
    RecordHistory,
)
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

RECORD_PENALTY = """
mutation($input: PenaltyInput!) { recordPenalty(input: $input) { outcome id batchId } }
"""
CORRECT_PENALTY = """
mutation($input: PenaltyInput!, $reason: String!) {
  correctPenalty(input: $input, reason: $reason) { outcome id batchId }
}
"""
RECORD_ENTERPRISE = """
mutation($input: EnterpriseInput!) { recordEnterprise(input: $input) { outcome id } }
"""
RECORD_POLICY = """
mutation($input: InsurancePolicyInput!) {
  recordInsurancePolicy(input: $input) { outcome id }
}
"""
RECORD_EMISSIONS = """
mutation($input: EmissionsInput!) { recordEmissions(input: $input) { outcome id } }
"""
RECORD_EVENT = """
mutation($input: EventInput!) { recordEvent(input: $input) { outcome id } }
"""
AUTHORITY = b.CITY_BUREAU_CODE


@pytest.fixture
async def owner(db: AsyncSession) -> Enterprise:
    enterprise = b.enterprise(district_code="320205")
    db.add(enterprise)
    await db.commit()
    return enterprise


@pytest.fixture
async def epb(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.CITY_EPB)


def penalty_input(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "decisionNumber": "锡山环罚决〔2026〕45号",
        "enterpriseCode": code,
        "categories": ["FINE"],
        "violationType": "超标排放大气污染物",
        "facts": "执法监测发现废气排放口颗粒物浓度超标。",
        "legalBasis": "《中华人民共和国大气污染防治法》第九十九条第二项",
        "fineAmount": "200000",
        "decisionDate": "2026-05-20",
        "authorityName": "无锡市锡山生态环境局",
        "authorityCode": AUTHORITY,
    } | changes


async def count(db: AsyncSession, model: Any) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


class TestRecordPenalty:
    async def test_records_and_traces_the_batch(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # when
        response = await post_graphql(
            client, RECORD_PENALTY, {"input": penalty_input(owner.code)}, headers=epb
        )
        # then
        result = data_of(response)["recordPenalty"]
        assert result["outcome"] == "CREATED"
        stored = await db.get(PenaltyDecision, int(result["id"]))
        assert stored is not None
        assert stored.fine_amount == Decimal("200000.00")
        assert stored.decision_number_key == "锡山环罚决〔2026〕45号"
        # default publication window: three years (NDRC 2023)
        assert str(stored.publication_end_date) == "2029-05-20"
        batch = await db.get(CollectionBatch, result["batchId"])
        assert batch is not None
        assert (batch.dataset, batch.source, batch.created) == (
            Dataset.PENALTIES,
            BatchSource.MUTATION,
            1,
        )
        assert stored.batch_id == batch.id

    @pytest.mark.parametrize(
        "number",
        [
            "锡山环罚决[2026]45号",
            "锡山环罚决﹝2026﹞45号",
            "锡山环罚决［２０２６］45号",
            "锡山环罚决【2026】45号",
        ],
    )
    async def test_same_decision_in_another_bracket_form_is_the_same_record(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
        number: str,
    ) -> None:
        # given
        first = data_of(
            await post_graphql(
                client,
                RECORD_PENALTY,
                {"input": penalty_input(owner.code)},
                headers=epb,
            )
        )["recordPenalty"]
        # when
        again = data_of(
            await post_graphql(
                client,
                RECORD_PENALTY,
                {"input": penalty_input(owner.code, decisionNumber=number)},
                headers=epb,
            )
        )["recordPenalty"]
        # then: no second record, no second batch
        assert again == {"outcome": "UNCHANGED", "id": first["id"], "batchId": None}
        assert await count(db, PenaltyDecision) == 1
        assert await count(db, CollectionBatch) == 1

    async def test_other_content_under_the_same_number_is_a_conflict(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # given
        data_of(
            await post_graphql(
                client,
                RECORD_PENALTY,
                {"input": penalty_input(owner.code)},
                headers=epb,
            )
        )
        # when
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty_input(owner.code, fineAmount="300000")},
            headers=epb,
        )
        # then
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "CONFLICT"
        assert error["extensions"]["field"] == "input.fineAmount"
        assert "200000.00 recorded, 300000.00 given" in error["message"]
        assert response.json()["data"] == {"recordPenalty": None}
        stored = await db.scalar(select(PenaltyDecision.fine_amount))
        assert stored == Decimal("200000.00")

    async def test_every_bad_field_is_named(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # when: a future date, a negative fine and a malformed authority code
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {
                "input": penalty_input(
                    owner.code,
                    decisionDate="2026-06-16",
                    fineAmount="-1",
                    authorityCode="91110108600037341E",
                )
            },
            headers=epb,
        )
        # then
        error = error_of(response)
        problems = {(p["field"], p["reason"]) for p in error["extensions"]["problems"]}
        assert problems == {
            ("input.decisionDate", "FUTURE_DATE"),
            ("input.fineAmount", "NEGATIVE"),
            ("input.authorityCode", "INVALID_CREDIT_CODE"),
        }
        assert error["extensions"]["problemCount"] == 3
        assert await count(db, PenaltyDecision) == 0

    async def test_a_malformed_amount_names_its_field(
        self, client: httpx.AsyncClient, epb: dict[str, str], owner: Enterprise
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty_input(owner.code, fineAmount="两万")},
            headers=epb,
        )
        error = error_of(response)
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "INVALID_VARIABLE",
            "field": "input.fineAmount",
        }

    async def test_unknown_enterprise(
        self, client: httpx.AsyncClient, epb: dict[str, str], owner: Enterprise
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty_input(b.credit_code(999_001))},
            headers=epb,
        )
        error = error_of(response)
        assert error["extensions"]["reason"] == "UNKNOWN_ENTERPRISE"
        assert error["extensions"]["field"] == "input.enterpriseCode"

    async def test_a_county_bureau_cannot_reach_another_district(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given: an enterprise in Huishan, a bureau of Xishan
        elsewhere = b.enterprise(district_code="320206")
        db.add(elsewhere)
        await db.commit()
        xishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty_input(elsewhere.code)},
            headers=xishan,
        )
        # then: exactly as if it did not exist
        error = error_of(response)
        assert error["extensions"]["reason"] == "UNKNOWN_ENTERPRISE"
        assert await count(db, PenaltyDecision) == 0

    @pytest.mark.parametrize("kind", [AgencyKind.COMMERCIAL_BANK, AgencyKind.INSURER])
    async def test_readers_may_not_write(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        owner: Enterprise,
        kind: AgencyKind,
    ) -> None:
        headers = await tokens.headers(kind)
        response = await post_graphql(
            client,
            RECORD_PENALTY,
            {"input": penalty_input(owner.code)},
            headers=headers,
        )
        error = error_of(response)
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["requiredScopes"] == [["data:write"]]

    async def test_the_public_may_not_write(
        self, client: httpx.AsyncClient, owner: Enterprise, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client, RECORD_PENALTY, {"input": penalty_input(owner.code)}
        )
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"
        assert await count(db, PenaltyDecision) == 0

    async def test_one_write_per_request(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # when
        response = await post_graphql(
            client,
            """mutation($a: PenaltyInput!, $b: PenaltyInput!) {
              a: recordPenalty(input: $a) { outcome }
              b: recordPenalty(input: $b) { outcome }
            }""",
            {
                "a": penalty_input(owner.code),
                "b": penalty_input(owner.code, decisionNumber="锡山环罚决〔2026〕46号"),
            },
            headers=epb,
        )
        # then: the first lands, the second is refused
        body = response.json()
        assert body["data"] == {"a": {"outcome": "CREATED"}, "b": None}
        assert body["errors"][0]["extensions"]["reason"] == "ONE_WRITE_PER_REQUEST"
        assert await count(db, PenaltyDecision) == 1


class TestCorrectPenalty:
    async def test_keeps_the_previous_values(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        # given
        first = data_of(
            await post_graphql(
                client,
                RECORD_PENALTY,
                {"input": penalty_input(owner.code)},
                headers=epb,
            )
        )["recordPenalty"]
        # when
        response = await post_graphql(
            client,
            CORRECT_PENALTY,
            {
                "input": penalty_input(owner.code, fineAmount="150000.50"),
                "reason": "复议变更罚款金额",
            },
            headers=epb,
        )
        # then
        corrected = data_of(response)["correctPenalty"]
        assert corrected["outcome"] == "UPDATED"
        assert corrected["id"] == first["id"]
        history = (await db.scalars(select(RecordHistory))).one()
        assert history.previous == {"fine_amount": "200000.00"}
        assert history.changed == ["fine_amount"]
        batch = await db.get(CollectionBatch, corrected["batchId"])
        assert batch is not None
        assert batch.note == "复议变更罚款金额"
        db.expire_all()
        assert await db.scalar(select(PenaltyDecision.fine_amount)) == Decimal(
            "150000.50"
        )

    async def test_nothing_to_correct(
        self, client: httpx.AsyncClient, epb: dict[str, str], owner: Enterprise
    ) -> None:
        response = await post_graphql(
            client,
            CORRECT_PENALTY,
            {"input": penalty_input(owner.code), "reason": "更正"},
            headers=epb,
        )
        assert error_of(response)["extensions"]["reason"] == "NOT_RECORDED"


class TestRecordEnterprise:
    def enterprise_input(self, **changes: Any) -> dict[str, Any]:
        return {
            "code": b.credit_code(777_001),
            "name": "无锡新材料科技有限公司",
            "districtCode": "锡山区",
            "address": "江苏省无锡市锡山区东港镇港下工业园8号",
            "industryCode": "c2614",
        } | changes

    async def test_district_by_name(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        data_of(
            await post_graphql(
                client,
                RECORD_ENTERPRISE,
                {"input": self.enterprise_input()},
                headers=epb,
            )
        )
        stored = (await db.scalars(select(Enterprise))).one()
        assert (stored.district_code, stored.industry_code) == ("320205", "C2614")

    async def test_abolished_district_names_its_successor(
        self, client: httpx.AsyncClient, epb: dict[str, str]
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_ENTERPRISE,
            {"input": self.enterprise_input(districtCode="320202")},
            headers=epb,
        )
        error = error_of(response)
        assert error["extensions"]["reason"] == "ABOLISHED_DISTRICT"
        assert "320213" in error["message"]

    async def test_a_county_bureau_records_in_its_district_only(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        huishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        response = await post_graphql(
            client,
            RECORD_ENTERPRISE,
            {"input": self.enterprise_input()},
            headers=huishan,
        )
        assert error_of(response)["extensions"]["reason"] == "OUTSIDE_JURISDICTION"


class TestRecordInsurancePolicy:
    def policy_input(self, code: str, **changes: Any) -> dict[str, Any]:
        return {
            "enterpriseCode": code,
            "policyNumber": "PICC-WX-2026-000123",
            "startDate": "2026-01-01",
            "endDate": "2026-12-31",
            "cumulativeLimit": "2000000",
            "perAccidentLimit": "1000000",
            "premium": "30000",
        } | changes

    async def test_an_insurer_records_its_own_policy(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        insurer_code = b.credit_code(555_001, "320200")
        headers = await tokens.headers(
            AgencyKind.INSURER,
            name="人保财险无锡市分公司",
            enterprise_code=insurer_code,
        )
        response = await post_graphql(
            client,
            RECORD_POLICY,
            {"input": self.policy_input(owner.code)},
            headers=headers,
        )
        assert data_of(response)["recordInsurancePolicy"]["outcome"] == "CREATED"

    async def test_an_insurer_may_not_submit_another_insurers_policy(
        self, client: httpx.AsyncClient, tokens: Tokens, owner: Enterprise
    ) -> None:
        headers = await tokens.headers(
            AgencyKind.INSURER, enterprise_code=b.credit_code(555_001, "320200")
        )
        response = await post_graphql(
            client,
            RECORD_POLICY,
            {
                "input": self.policy_input(
                    owner.code,
                    insurerCode=b.credit_code(555_002, "320200"),
                    insurerName="别家",
                )
            },
            headers=headers,
        )
        error = error_of(response)
        assert error["extensions"]["reason"] == "OTHER_INSURER"
        assert error["extensions"]["field"] == "input.insurerCode"

    async def test_limits_are_consistent(
        self, client: httpx.AsyncClient, epb: dict[str, str], owner: Enterprise
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_POLICY,
            {
                "input": self.policy_input(
                    owner.code,
                    insurerName="人保财险",
                    insurerCode=b.credit_code(555_001, "320200"),
                    perAccidentLimit="3000000",
                )
            },
            headers=epb,
        )
        assert error_of(response)["extensions"]["reason"] == "ABOVE_CUMULATIVE"


class TestRecordEmissionsAndEvents:
    async def test_emissions(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_EMISSIONS,
            {
                "input": {
                    "enterpriseCode": owner.code,
                    "year": 2025,
                    "cod": "12.345",
                    "nox": "0.5",
                }
            },
            headers=epb,
        )
        assert data_of(response)["recordEmissions"]["outcome"] == "CREATED"
        stored = (await db.scalars(select(AnnualEmission))).one()
        assert (stored.cod, stored.nox, stored.so2) == (
            Decimal("12.345"),
            Decimal("0.500"),
            None,
        )

    async def test_next_years_emissions_are_refused(
        self, client: httpx.AsyncClient, epb: dict[str, str], owner: Enterprise
    ) -> None:
        response = await post_graphql(
            client,
            RECORD_EMISSIONS,
            {"input": {"enterpriseCode": owner.code, "year": 2027, "cod": "1"}},
            headers=epb,
        )
        error = error_of(response)
        assert (error["extensions"]["reason"], error["extensions"]["field"]) == (
            "OUT_OF_RANGE",
            "input.year",
        )

    async def test_an_emergency_needs_its_level(
        self,
        client: httpx.AsyncClient,
        epb: dict[str, str],
        owner: Enterprise,
        db: AsyncSession,
    ) -> None:
        event = {
            "enterpriseCode": owner.code,
            "kind": "EMERGENCY",
            "reference": "锡环应急〔2026〕3号",
            "occurredOn": "2026-04-02",
            "authorityName": "无锡市生态环境局",
            "authorityCode": AUTHORITY,
            "description": "储罐泄漏导致河道水质异常。",
        }
        refused = await post_graphql(
            client, RECORD_EVENT, {"input": event}, headers=epb
        )
        assert error_of(refused)["extensions"]["reason"] == "SEVERITY_MISSING"
        accepted = await post_graphql(
            client, RECORD_EVENT, {"input": event | {"severity": "LARGER"}}, headers=epb
        )
        assert data_of(accepted)["recordEvent"]["outcome"] == "CREATED"
        assert await count(db, EnvironmentalEvent) == 1
