"""Publishing grades: review, public notice, objections, finalisation, history."""

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.enums import AgencyKind, Grade, ObjectionStatus, RatingStatus as S, Scheme
from hub.models import (
    CreditRating,
    Enterprise,
    EvaluationRun,
    Objection,
    RatingTransition,
)
from seeds import builders as b
from tests.conftest import NOW, Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

REVIEW = """mutation($ids: [ID!], $runId: Int) {
  reviewRatings(ids: $ids, runId: $runId) { status changed } }"""
NOTICE = """mutation($ids: [ID!], $days: Int) {
  startPublicNotice(ids: $ids, days: $days) { status changed noticeUntil } }"""
FINALIZE = """mutation($ids: [ID!]) {
  finalizeRatings(ids: $ids) { status changed superseded } }"""
ADJUST = """mutation($id: ID!, $grade: Grade!, $reason: String!) {
  adjustRating(id: $id, grade: $grade, reason: $reason) {
    fromStatus toStatus fromGrade toGrade reason } }"""
FILE = """mutation($ratingId: ID!, $text: String!) {
  fileObjection(ratingId: $ratingId, filerName: "李明", contact: "13800000000",
                text: $text) { id status } }"""
RESOLVE = """mutation($id: ID!, $upheld: Boolean!, $grade: Grade) {
  resolveObjection(id: $id, upheld: $upheld, reason: "经核实", grade: $grade) {
    status resolution } }"""
TRANSITIONS = """query($id: ID!) { ratingTransitions(ratingId: $id) {
  fromStatus toStatus fromGrade toGrade at actor agencyName reason } }"""
GRADE_ON = """query($code: String!, $asOf: Date!) {
  enterprise(code: $code) { currentRating(asOf: $asOf) { grade } } }"""
OBJECTION_TEXT = "该企业已于2025年完成整改，评价未采纳整改材料。"
PUBLISHING = [
    (REVIEW, "reviewRatings"),
    (NOTICE, "startPublicNotice"),
    (FINALIZE, "finalizeRatings"),
    (RESOLVE, "resolveObjection"),
]


@dataclass
class Clock:
    """The hub's clock, which a story may move on (tokens must then be renewed)."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Story:
    """An enterprise in Xishan (320205), the city bureau, and the hub's clock."""

    client: httpx.AsyncClient
    tokens: Tokens
    db: AsyncSession
    clock: Clock
    owner: Enterprise
    city: dict[str, str]

    async def post(
        self,
        query: str,
        variables: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await post_graphql(self.client, query, variables, headers=headers)

    async def as_city(self, query: str, variables: dict[str, Any]) -> httpx.Response:
        return await self.post(query, variables, self.city)

    async def seed(
        self,
        status: S,
        *,
        grade: Grade = Grade.BLUE,
        notice_until: date | None = None,
        valid_from: date = date(2026, 1, 1),
        run: EvaluationRun | None = None,
    ) -> str:
        """A rating of the enterprise in `status`; its id as GraphQL spells it."""
        rating = b.rating(self.owner, grade=grade, status=status, valid_from=valid_from)
        rating.notice_until = notice_until
        rating.run_id = run.id if run else None
        self.db.add(rating)
        await self.db.commit()
        return str(rating.id)

    async def objection(self, rating_id: str) -> str:
        """An open objection to the rating; its id."""
        objection = Objection(
            rating_id=int(rating_id),
            filed_at=NOW,
            filer_name="李明",
            filer_contact="13800000000",
            text=OBJECTION_TEXT,
            status=ObjectionStatus.OPEN,
        )
        self.db.add(objection)
        await self.db.commit()
        return str(objection.id)

    async def stored(self, rating_id: str) -> CreditRating:
        rating = await self.db.get(CreditRating, int(rating_id), populate_existing=True)
        assert rating is not None
        return rating

    async def count(self, model: Any) -> int:
        return int(await self.db.scalar(select(func.count()).select_from(model)) or 0)

    async def later(self, days: int) -> None:
        """Move the clock on; the city's token is renewed, the old one expired."""
        self.clock.now += timedelta(days=days)
        self.city = await self.tokens.headers(AgencyKind.CITY_EPB)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(settings: Settings, clock: Clock) -> Settings:
    return dataclasses.replace(settings, clock=clock)


@pytest.fixture
async def story(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, clock: Clock
) -> Story:
    owner = b.enterprise(district_code="320205")
    db.add(owner)
    await db.commit()
    city = await tokens.headers(AgencyKind.CITY_EPB)
    return Story(client, tokens, db, clock, owner, city)


def refusal(reason: str, rating_id: str, message: str) -> dict[str, Any]:
    """The extensions of a batch refused for one rating."""
    return {
        "code": "BAD_USER_INPUT",
        "reason": reason,
        "field": "ids",
        "problems": [{"ratingId": rating_id, "reason": reason, "message": message}],
        "problemCount": 1,
    }


class TestPublicationPath:
    async def test_review_notice_objection_then_final(self, story: Story) -> None:
        # given: an official BLUE grade since 2025 and a preliminary YELLOW one
        old = await story.seed(S.FINAL, valid_from=date(2025, 1, 1))
        new = await story.seed(S.PRELIMINARY, grade=Grade.YELLOW)
        # when: reviewed, noticed, and objected to by the public
        reviewed = await story.as_city(REVIEW, {"ids": [new]})
        noticed = await story.as_city(NOTICE, {"ids": [new]})
        filed = await story.post(FILE, {"ratingId": new, "text": OBJECTION_TEXT})
        # then
        assert data_of(reviewed) == {
            "reviewRatings": {"status": "REVIEWED", "changed": 1}
        }
        assert data_of(noticed)["startPublicNotice"] == {
            "status": "IN_PUBLIC_NOTICE",
            "changed": 1,
            "noticeUntil": "2026-06-30",
        }
        objection = data_of(filed)["fileObjection"]
        # when: the notice is over, but the objection is open
        await story.later(days=16)
        blocked = await story.as_city(FINALIZE, {"ids": [new]})
        # then
        assert error_of(blocked)["extensions"] == refusal(
            "OPEN_OBJECTION", new, f"rating {new} has 1 open objection(s)"
        )
        # when: the objection is rejected
        data_of(await story.as_city(RESOLVE, {"id": objection["id"], "upheld": False}))
        done = await story.as_city(FINALIZE, {"ids": [new]})
        # then: final from today; the old grade ended yesterday
        assert data_of(done)["finalizeRatings"] == {
            "status": "FINAL",
            "changed": 1,
            "superseded": 1,
        }
        final, previous = await story.stored(new), await story.stored(old)
        assert (final.status, final.grade, final.valid_from, final.valid_to) == (
            S.FINAL,
            Grade.YELLOW,
            date(2026, 7, 1),
            None,
        )
        assert (final.published_at, final.supersedes_id) == (story.clock.now, int(old))
        assert (previous.status, previous.valid_to) == (S.FINAL, date(2026, 6, 30))


class TestBatches:
    async def test_wrong_status_refuses_all(self, story: Story) -> None:
        # given
        waiting = [await story.seed(S.PRELIMINARY) for _ in range(2)]
        final = await story.seed(S.FINAL)
        # when
        response = await story.as_city(REVIEW, {"ids": [*waiting, final]})
        # then
        assert error_of(response)["extensions"] == refusal(
            "WRONG_STATUS", final, f"rating {final} is FINAL, not PRELIMINARY"
        )
        assert [(await story.stored(i)).status for i in waiting] == [S.PRELIMINARY] * 2
        assert await story.count(RatingTransition) == 0

    async def test_a_run_moves_its_waiting_ratings(self, story: Story) -> None:
        # given: a run of three ratings, one already reviewed
        run = EvaluationRun(
            scheme=Scheme.JS_DYNAMIC_12,
            policy_version="2020",
            as_of=date(2026, 6, 1),
            at=NOW,
            actor="client:test",
            listed=3,
            rated=3,
            not_rated=0,
            skipped={},
        )
        story.db.add(run)
        await story.db.commit()
        waiting = [await story.seed(S.PRELIMINARY, run=run) for _ in range(2)]
        await story.seed(S.REVIEWED, run=run)
        # when
        response = await story.as_city(REVIEW, {"runId": run.id})
        # then
        assert data_of(response) == {
            "reviewRatings": {"status": "REVIEWED", "changed": 2}
        }
        assert [(await story.stored(i)).status for i in waiting] == [S.REVIEWED] * 2

    async def test_notice_not_over_is_refused(self, story: Story) -> None:
        # given: the notice ends today
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 15))
        # when
        response = await story.as_city(FINALIZE, {"ids": [rating]})
        # then
        assert error_of(response)["extensions"] == refusal(
            "NOTICE_NOT_OVER",
            rating,
            f"rating {rating} is in public notice until 2026-06-15",
        )
        assert (await story.stored(rating)).status is S.IN_PUBLIC_NOTICE

    @pytest.mark.parametrize(
        "kind", [None, AgencyKind.COMMERCIAL_BANK, AgencyKind.COUNTY_EPB]
    )
    @pytest.mark.parametrize(("operation", "field"), PUBLISHING)
    async def test_only_the_city_bureau_publishes(
        self, story: Story, kind: AgencyKind | None, operation: str, field: str
    ) -> None:
        # given
        rating = await story.seed(S.PRELIMINARY)
        headers = await story.tokens.headers(kind) if kind else {}
        # when
        variables = {"ids": [rating], "id": rating, "upheld": False}
        response = await story.post(operation, variables, headers)
        # then
        assert response.json()["data"] == {field: None}
        assert error_of(response)["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "MISSING_SCOPE",
            "requiredScopes": [["ratings:publish"]],
        }
        assert (await story.stored(rating)).status is S.PRELIMINARY


class TestAdjustRating:
    async def test_needs_a_reason(self, story: Story) -> None:
        # given
        rating = await story.seed(S.PRELIMINARY)
        # when
        response = await story.as_city(
            ADJUST, {"id": rating, "grade": "RED", "reason": "  "}
        )
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "REQUIRED",
            "field": "reason",
        }
        assert (await story.stored(rating)).grade is Grade.BLUE

    async def test_the_city_adjusts_a_reviewed_grade_and_it_is_kept(
        self, story: Story
    ) -> None:
        # given
        rating = await story.seed(S.REVIEWED)
        # when
        response = await story.as_city(
            ADJUST, {"id": rating, "grade": "YELLOW", "reason": "漏计一次超标排放处罚"}
        )
        # then
        assert data_of(response)["adjustRating"] == {
            "fromStatus": "REVIEWED",
            "toStatus": "REVIEWED",
            "fromGrade": "BLUE",
            "toGrade": "YELLOW",
            "reason": "漏计一次超标排放处罚",
        }
        assert (await story.stored(rating)).grade is Grade.YELLOW
        assert await story.count(RatingTransition) == 1

    async def test_a_county_adjusts_its_districts_preliminary_grade(
        self, story: Story
    ) -> None:
        # given
        rating = await story.seed(S.PRELIMINARY)
        xishan = await story.tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        variables = {"id": rating, "grade": "GREEN", "reason": "信用承诺加分"}
        response = await story.post(ADJUST, variables, xishan)
        # then
        assert data_of(response)["adjustRating"]["toGrade"] == "GREEN"

    async def test_another_district_is_like_nothing(self, story: Story) -> None:
        # given: Binhu's bureau, a rating in Xishan and an id that does not exist
        rating = await story.seed(S.PRELIMINARY)
        binhu = await story.tokens.headers(AgencyKind.COUNTY_EPB, district="320211")
        # when
        answers = [
            error_of(
                await story.post(
                    ADJUST, {"id": i, "grade": "RED", "reason": "x"}, binhu
                )
            )
            for i in (rating, "999999")
        ]
        # then
        assert [a["message"] for a in answers] == [
            f"No rating {rating}.",
            "No rating 999999.",
        ]
        assert (
            answers[0]["extensions"]
            == answers[1]["extensions"]
            == {
                "code": "NOT_FOUND",
                "reason": "RATING_NOT_FOUND",
                "field": "id",
            }
        )

    async def test_a_county_cannot_touch_a_reviewed_grade(self, story: Story) -> None:
        # given
        rating = await story.seed(S.REVIEWED)
        xishan = await story.tokens.headers(AgencyKind.COUNTY_EPB, district="320205")
        # when
        variables = {"id": rating, "grade": "GREEN", "reason": "信用承诺加分"}
        response = await story.post(ADJUST, variables, xishan)
        # then
        assert error_of(response)["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "CITY_BUREAU_ONLY",
        }
        assert (await story.stored(rating)).grade is Grade.BLUE


class TestObjections:
    async def test_anyone_may_object_during_the_notice(self, story: Story) -> None:
        # given
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 15))
        # when: without a token, on the notice's last day
        response = await story.post(FILE, {"ratingId": rating, "text": OBJECTION_TEXT})
        # then
        assert data_of(response)["fileObjection"]["status"] == "OPEN"
        objection = await story.db.scalar(select(Objection))
        assert objection is not None
        assert (objection.filer_name, objection.text, objection.filer_client_id) == (
            "李明",
            OBJECTION_TEXT,
            None,
        )

    async def test_not_before_the_notice(self, story: Story) -> None:
        # given: a reviewed grade is not public yet
        rating = await story.seed(S.REVIEWED)
        # when
        response = await story.post(FILE, {"ratingId": rating, "text": "有误"})
        # then: as for a rating that does not exist
        assert error_of(response)["extensions"] == {
            "code": "NOT_FOUND",
            "reason": "RATING_NOT_FOUND",
            "field": "ratingId",
        }

    async def test_not_after_the_notice(self, story: Story) -> None:
        # given: the notice ended yesterday
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 14))
        # when
        response = await story.post(FILE, {"ratingId": rating, "text": "有误"})
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "NOT_IN_NOTICE",
            "field": "ratingId",
        }
        assert await story.count(Objection) == 0

    async def test_text_is_limited(self, story: Story) -> None:
        # given
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 15))
        # when
        response = await story.post(FILE, {"ratingId": rating, "text": "长" * 2001})
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "TOO_LONG",
            "field": "text",
        }

    async def test_upheld_objection_renotices_the_new_grade(self, story: Story) -> None:
        # given
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 20))
        objection = await story.objection(rating)
        # when
        response = await story.as_city(
            RESOLVE, {"id": objection, "upheld": True, "grade": "GREEN"}
        )
        # then
        assert data_of(response)["resolveObjection"] == {
            "status": "UPHELD",
            "resolution": "经核实",
        }
        noticed = await story.stored(rating)
        assert (noticed.status, noticed.grade, noticed.notice_until) == (
            S.IN_PUBLIC_NOTICE,
            Grade.GREEN,
            date(2026, 6, 30),
        )
        change = await story.db.scalar(select(RatingTransition))
        assert change is not None
        assert (change.from_grade, change.to_grade, change.reason) == (
            Grade.BLUE,
            Grade.GREEN,
            f"objection {objection} upheld: 经核实",
        )

    async def test_upheld_needs_the_new_grade(self, story: Story) -> None:
        # given
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 20))
        objection = await story.objection(rating)
        # when
        response = await story.as_city(RESOLVE, {"id": objection, "upheld": True})
        # then
        assert error_of(response)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "reason": "GRADE_REQUIRED",
            "field": "grade",
        }
        assert (await story.stored(rating)).grade is Grade.BLUE

    async def test_rejected_objection_lets_finalisation_go_on(
        self, story: Story
    ) -> None:
        # given: the notice is over, one objection open
        rating = await story.seed(S.IN_PUBLIC_NOTICE, notice_until=date(2026, 6, 14))
        objection = await story.objection(rating)
        # when
        rejected = await story.as_city(RESOLVE, {"id": objection, "upheld": False})
        done = await story.as_city(FINALIZE, {"ids": [rating]})
        # then
        assert data_of(rejected)["resolveObjection"]["status"] == "REJECTED"
        assert data_of(done)["finalizeRatings"]["status"] == "FINAL"


class TestHistory:
    async def test_grade_as_of_a_date_across_transitions(self, story: Story) -> None:
        # given: official BLUE since 2025; YELLOW noticed until yesterday, GREEN
        # noticed until 1 July
        await story.seed(S.FINAL, valid_from=date(2025, 1, 1))
        yellow, green = [
            await story.seed(S.IN_PUBLIC_NOTICE, grade=g, notice_until=until)
            for g, until in (
                (Grade.YELLOW, date(2026, 6, 14)),
                (Grade.GREEN, date(2026, 7, 1)),
            )
        ]
        days = ["2024-12-31", "2026-03-01", "2026-06-14", "2026-06-15", "2026-07-15"]

        async def grades() -> list[str | None]:
            """The grade a bank is told for each day."""
            bank = await story.tokens.headers(AgencyKind.COMMERCIAL_BANK)
            found = []
            for day in days:
                variables = {"code": story.owner.code, "asOf": day}
                answer = data_of(await story.post(GRADE_ON, variables, bank))
                found.append((answer["enterprise"]["currentRating"] or {}).get("grade"))
            return found

        # then: before finalisation, the old grade
        assert await grades() == [None, "BLUE", "BLUE", "BLUE", "BLUE"]
        # when: YELLOW becomes final today
        data_of(await story.as_city(FINALIZE, {"ids": [yellow]}))
        # then
        assert await grades() == [None, "BLUE", "BLUE", "YELLOW", "YELLOW"]
        # when: a month later GREEN supersedes it
        await story.later(days=30)
        data_of(await story.as_city(FINALIZE, {"ids": [green]}))
        # then
        assert await grades() == [None, "BLUE", "BLUE", "YELLOW", "GREEN"]

    async def test_transitions_show_who_when_why(self, story: Story) -> None:
        # given: Xishan's bureau adjusts a grade, the city reviews it
        rating = await story.seed(S.PRELIMINARY)
        county = await story.tokens.register(
            AgencyKind.COUNTY_EPB, name="锡山分局", district="320205"
        )
        city = await story.tokens.register(AgencyKind.CITY_EPB, name="无锡市生态环境局")
        for credentials, operation, variables in (
            (county, ADJUST, {"id": rating, "grade": "YELLOW", "reason": "漏计处罚"}),
            (city, REVIEW, {"ids": [rating]}),
        ):
            token = await story.tokens.issue(credentials)
            headers = {"Authorization": f"Bearer {token}"}
            data_of(await story.post(operation, variables, headers))
        # when: the city asks
        response = await story.post(TRANSITIONS, {"id": rating}, headers)
        # then
        step = {"at": "2026-06-15T04:00:00+00:00", "fromGrade": "BLUE"}
        assert data_of(response)["ratingTransitions"] == [
            step
            | {
                "fromStatus": "PRELIMINARY",
                "toStatus": "PRELIMINARY",
                "toGrade": "YELLOW",
                "actor": f"client:{county.client_id}",
                "agencyName": "锡山分局",
                "reason": "漏计处罚",
            },
            step
            | {
                "fromStatus": "PRELIMINARY",
                "toStatus": "REVIEWED",
                "fromGrade": "YELLOW",
                "toGrade": "YELLOW",
                "actor": f"client:{city.client_id}",
                "agencyName": "无锡市生态环境局",
                "reason": None,
            },
        ]

    async def test_outside_the_bureau_only_public_steps(self, story: Story) -> None:
        # given: a grade adjusted inside the bureau, then noticed
        rating = await story.seed(S.REVIEWED)
        adjust = {"id": rating, "grade": "RED", "reason": "内部复核意见"}
        data_of(await story.as_city(ADJUST, adjust))
        data_of(await story.as_city(NOTICE, {"ids": [rating]}))
        bank = await story.tokens.headers(AgencyKind.COMMERCIAL_BANK)
        # when
        response = await story.post(TRANSITIONS, {"id": rating}, bank)
        # then
        steps = data_of(response)["ratingTransitions"]
        assert [(s["fromStatus"], s["toStatus"], s["reason"]) for s in steps] == [
            ("REVIEWED", "IN_PUBLIC_NOTICE", "public notice until 2026-06-30")
        ]

    async def test_the_public_cannot_see_a_preliminary_history(
        self, story: Story
    ) -> None:
        # given: a grade adjusted inside the bureau, not yet in notice
        rating = await story.seed(S.PRELIMINARY)
        adjust = {"id": rating, "grade": "RED", "reason": "内部复核意见"}
        data_of(await story.as_city(ADJUST, adjust))
        # when
        response = await story.post(TRANSITIONS, {"id": rating})
        # then: as for a rating that does not exist
        assert data_of(response) == {"ratingTransitions": []}
