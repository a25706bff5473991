"""Who is evaluated, evaluation runs, and what a score is made of."""

import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.config import Settings
from hub.enums import (
    AgencyKind,
    EnterpriseStatus,
    RatingStatus,
    Scheme,
    SupervisionCategory,
)
from hub.evaluate.policy import SCHEMES_DIR, PolicyError
from hub.models import AnnualEmission, CreditRating, Enterprise, EvaluationRun
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

LIST = "query($year: Int!) { evaluationList(year: $year) { code reasons } }"
EVALUATE = """
mutation($scheme: Scheme!, $year: Int!) {
  evaluate(scheme: $scheme, year: $year) {
    id scheme policyVersion year asOf listed rated notRated replaced
  }
}
"""
EXPLAIN = """
query($id: ID!) { ratingExplanation(ratingId: $id) { rule label points records } }
"""

NATIONAL = SupervisionCategory.NATIONAL_KEY
CITY = SupervisionCategory.CITY_KEY
OTHER = SupervisionCategory.OTHER


async def register(
    db: AsyncSession,
    emissions: dict[str, tuple[SupervisionCategory, int, int]],
    *,
    district: str = "320205",
    year: int = 2025,
) -> dict[str, Enterprise]:
    """Enterprises by label, each with (category, COD t, SO2 t) for `year`."""
    made = {
        label: b.enterprise(
            name=f"{label}公司", category=category, district_code=district
        )
        for label, (category, _, _) in emissions.items()
    }
    db.add_all(made.values())
    await db.flush()
    db.add_all(
        AnnualEmission(
            enterprise_id=made[label].id, year=year, cod=Decimal(cod), so2=Decimal(so2)
        )
        for label, (_, cod, so2) in emissions.items()
    )
    await db.commit()
    return made


@pytest.fixture
async def epb(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.CITY_EPB)


class TestEvaluationList:
    async def test_the_80_percent_rule_by_hand(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        # given: COD total 100 t (national 30 counts first; then city-key from
        # the largest: 30+40=70 < 80, +20=90 ≥ 80, stop: C3 is not needed);
        # SO2 total 120 t: C3's 100 t is taken first (83 % ≥ 80 %).
        made = await register(
            db,
            {
                "N1": (NATIONAL, 30, 0),
                "C1": (CITY, 40, 10),
                "C2": (CITY, 20, 0),
                "C3": (CITY, 10, 100),
                "C4": (CITY, 0, 5),
                "O1": (OTHER, 0, 5),
            },
        )
        # when
        listed = data_of(await post_graphql(client, LIST, {"year": 2025}, headers=epb))
        # then
        reasons = {item["code"]: item["reasons"] for item in listed["evaluationList"]}
        by_label = {label: reasons.get(e.code) for label, e in made.items()}
        assert by_label["N1"] == ["国家重点监控企业 (nationally key-monitored)"]
        assert by_label["C1"] == [
            "化学需氧量 COD: rank 1 among city-key enterprises, 40 t; "
            "listed share 70.0% of the city's 100 t"
        ]
        assert by_label["C2"] == [
            "化学需氧量 COD: rank 2 among city-key enterprises, 20 t; "
            "listed share 90.0% of the city's 100 t"
        ]
        assert by_label["C3"] == [
            "二氧化硫 SO2: rank 1 among city-key enterprises, 100 t; "
            "listed share 83.3% of the city's 120 t"
        ]
        assert (by_label["C4"], by_label["O1"]) == (None, None)

    async def test_a_county_sees_its_part_of_the_city_list(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        await register(db, {"N1": (NATIONAL, 1, 0)}, district="320205")
        other = await register(db, {"N2": (NATIONAL, 1, 0)}, district="320206")
        huishan = await tokens.headers(AgencyKind.COUNTY_EPB, district="320206")
        listed = data_of(
            await post_graphql(client, LIST, {"year": 2025}, headers=huishan)
        )
        assert [i["code"] for i in listed["evaluationList"]] == [other["N2"].code]

    async def test_a_bank_may_not_see_it(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        response = await post_graphql(client, LIST, {"year": 2025}, headers=headers)
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"


class TestEvaluate:
    async def test_a_run_makes_preliminary_grades_with_explanations(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        # given: a national-key enterprise fined in 2025, and a closed one
        made = await register(db, {"N1": (NATIONAL, 1, 0), "N2": (NATIONAL, 1, 0)})
        closed = await db.get(Enterprise, made["N2"].id)
        assert closed is not None
        closed.status = EnterpriseStatus.CLOSED
        fined = b.penalty(made["N1"], decision_date=date(2025, 5, 1))
        db.add(fined)
        await db.commit()
        # when
        run = data_of(
            await post_graphql(
                client, EVALUATE, {"scheme": "JS_ANNUAL_100", "year": 2025}, headers=epb
            )
        )["evaluate"]
        # then
        assert run | {"id": 0} == {
            "id": 0,
            "scheme": "JS_ANNUAL_100",
            "policyVersion": "3.0",
            "year": 2025,
            "asOf": "2025-12-31",
            "listed": 2,
            "rated": 1,
            "notRated": 1,
            "replaced": 0,
        }
        rating = (await db.scalars(select(CreditRating))).one()
        assert (rating.status, rating.enterprise_id, rating.run_id) == (
            RatingStatus.PRELIMINARY,
            made["N1"].id,
            run["id"],
        )
        assert rating.score is not None
        assert rating.score < 100
        stored_run = await db.get(EvaluationRun, run["id"])
        assert stored_run is not None
        assert stored_run.skipped == {made["N2"].code: "关闭 closed"}
        explained = data_of(
            await post_graphql(client, EXPLAIN, {"id": str(rating.id)}, headers=epb)
        )["ratingExplanation"]
        assert any(f"PENALTY:{fined.id}" in line["records"] for line in explained)
        total = sum(Decimal(line["points"]) for line in explained)
        assert Decimal(100) + total == rating.score

    async def test_the_public_does_not_see_preliminary_grades(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        made = await register(db, {"N1": (NATIONAL, 1, 0)})
        data_of(
            await post_graphql(
                client, EVALUATE, {"scheme": "JS_ANNUAL_100", "year": 2025}, headers=epb
            )
        )
        rating_id = await db.scalar(select(CreditRating.id))
        explained = await post_graphql(client, EXPLAIN, {"id": str(rating_id)})
        assert data_of(explained) == {"ratingExplanation": None}
        history = await post_graphql(
            client,
            "query($c: String!) { enterprise(code: $c) { ratingHistory { status } } }",
            {"c": made["N1"].code},
        )
        assert data_of(history) == {"enterprise": {"ratingHistory": []}}

    async def test_a_new_run_replaces_the_earlier_preliminary_grades(
        self, client: httpx.AsyncClient, epb: dict[str, str], db: AsyncSession
    ) -> None:
        await register(db, {"N1": (NATIONAL, 1, 0)})
        variables = {"scheme": "JS_DYNAMIC_12", "year": 2025}
        data_of(await post_graphql(client, EVALUATE, variables, headers=epb))
        second = data_of(await post_graphql(client, EVALUATE, variables, headers=epb))
        assert second["evaluate"]["replaced"] == 1
        statuses = sorted(
            s.value for s in (await db.scalars(select(CreditRating.status))).all()
        )
        assert statuses == ["PRELIMINARY", "REVOKED"]

    async def test_a_future_year_is_refused(
        self, client: httpx.AsyncClient, epb: dict[str, str]
    ) -> None:
        response = await post_graphql(
            client, EVALUATE, {"scheme": "JS_ANNUAL_100", "year": 2027}, headers=epb
        )
        assert error_of(response)["extensions"]["reason"] == "INVALID_YEAR"

    async def test_a_year_before_the_scheme_existed(
        self, client: httpx.AsyncClient, epb: dict[str, str]
    ) -> None:
        response = await post_graphql(
            client, EVALUATE, {"scheme": "NATIONAL_2013", "year": 2005}, headers=epb
        )
        error = error_of(response)
        assert error["extensions"]["reason"] == "NO_POLICY_VERSION"
        assert "its first takes effect on 2014-01-01" in error["message"]

    async def test_a_bank_may_not_evaluate(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        response = await post_graphql(
            client, EVALUATE, {"scheme": "JS_ANNUAL_100", "year": 2025}, headers=headers
        )
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"


class TestPolicyAtStartUp:
    def test_a_broken_policy_file_stops_the_hub(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        # given: the shipped files, one with a typo'd key on line 3
        policies = tmp_path / "schemes"
        shutil.copytree(SCHEMES_DIR, policies)
        target = policies / "js_dynamic_12.toml"
        lines = target.read_text(encoding="utf-8").splitlines()
        lines.insert(2, 'verison = "typo"')
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # when / then
        with pytest.raises(PolicyError) as refused:
            create_app(replace(settings, policy_dir=policies))
        assert refused.value.path == target
        assert refused.value.line == 3
        assert "verison" in refused.value.reason

    def test_an_active_scheme_needs_its_file(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        policies = tmp_path / "schemes"
        policies.mkdir()
        shutil.copy(SCHEMES_DIR / "js_dynamic_12.toml", policies)
        with pytest.raises(PolicyError, match="no policy file for active scheme"):
            create_app(replace(settings, policy_dir=policies))
        # and with only that scheme active, the hub starts
        create_app(
            replace(
                settings,
                policy_dir=policies,
                active_schemes=(Scheme.JS_DYNAMIC_12,),
                official_scheme=Scheme.JS_DYNAMIC_12,
            )
        )
