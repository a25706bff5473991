"""The public portal's pages: what they show, what they refuse, what they never show."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import unquote

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.credit_code import complete_credit_code
from hub.enums import Grade, ObjectionStatus, RatingStatus, Scheme
from hub.ingest.table import read_table
from hub.models import CreditRating, Enterprise, Objection
from seeds import builders as b
from tests.conftest import NOW
from tests.helpers import error_of, post_graphql
from tests.test_audit_requests import entry_for

pytestmark = pytest.mark.anyio

TODAY = date(2026, 6, 15)  # NOW in China Standard Time
LOOKUP = "query($code: String!) { enterprise(code: $code) { code } }"


class Clock:
    """The app's clock, moved by the test (forms refuse posts within seconds)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def settings(settings: Settings, clock: Clock) -> Settings:
    return replace(settings, clock=clock)


async def company(
    db: AsyncSession, name: str | None = None, *, district: str = "320205"
) -> Enterprise:
    owner = b.enterprise(name=name, district_code=district)
    db.add(owner)
    await db.commit()
    return owner


async def rate(
    db: AsyncSession,
    owner: Enterprise,
    grade: Grade = Grade.GREEN,
    *,
    status: RatingStatus = RatingStatus.FINAL,
    scheme: Scheme = Scheme.JS_DYNAMIC_12,
    year: int | None = None,
    valid_from: date = date(2026, 1, 1),
    valid_to: date | None = None,
    notice_until: date | None = None,
) -> CreditRating:
    rating = b.rating(
        owner,
        grade=grade,
        status=status,
        scheme=scheme,
        year=year,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    rating.notice_until = notice_until
    db.add(rating)
    await db.commit()
    return rating


async def in_notice(db: AsyncSession, name: str | None = None) -> CreditRating:
    """An annual grade in public notice until ten days from today."""
    owner = await company(db, name)
    return await rate(
        db,
        owner,
        Grade.YELLOW,
        status=RatingStatus.IN_PUBLIC_NOTICE,
        scheme=Scheme.JS_ANNUAL_100,
        year=2025,
        notice_until=TODAY + timedelta(days=10),
    )


def text_of(response: httpx.Response) -> str:
    """The page's text without tags, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", response.text))


def link(response: httpx.Response, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{label}</a>', response.text)
    assert found is not None, f"no link {label!r}"
    return unescape(found.group(1))


def form_fields(response: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's form."""
    return {
        m.group(1): unescape(m.group(2))
        for m in re.finditer(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text
        )
    }


async def objection_count(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(Objection)) or 0


async def post_objection(
    client: httpx.AsyncClient,
    rating: CreditRating,
    fields: dict[str, str],
    **changes: str,
) -> httpx.Response:
    """Post the objection form: its hidden `fields`, a filer's details, `changes`."""
    data = {
        **fields,
        "website": "",
        "name": "李四",
        "contact": "li@example.cn",
        "text": "评分有误。",
        **changes,
    }
    return await client.post(f"/notice/{rating.id}/objection", data=data)


async def objection_form(
    client: httpx.AsyncClient, db: AsyncSession, rating: CreditRating
) -> dict[str, str]:
    """The hidden fields of the objection form, served now."""
    owner = await db.get(Enterprise, rating.enterprise_id)
    assert owner is not None
    form = await client.get(
        f"/notice/{rating.id}/objection", params={"code": owner.code}
    )
    assert form.status_code == 200, text_of(form)
    return form_fields(form)


class TestSearch:
    async def test_the_empty_search_shows_the_form(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert '<label for="q">企业名称或统一社会信用代码</label>' in response.text
        assert '<html lang="zh-CN">' in response.text

    async def test_by_name(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        # given
        wanted = await company(db, "无锡蓝天印染有限公司")
        other = await company(db, "江阴长江化工有限公司")
        await rate(db, wanted, Grade.BLUE)
        # when
        response = await client.get("/", params={"q": "蓝天"})
        # then
        assert response.status_code == 200
        assert f'<a href="/enterprises/{wanted.code}">无锡蓝天印染有限公司</a>' in (
            response.text
        )
        assert other.name not in response.text
        assert '<span class="badge BLUE">蓝色</span>' in response.text

    async def test_nothing_found_by_name(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", params={"q": "不存在的企业"})
        assert response.status_code == 200
        assert "没有名称包含“不存在的企业”的企业。" in response.text

    async def test_by_code_redirects_to_the_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = b.enterprise(code=complete_credit_code("91320205MA1XK7L3"))
        db.add(owner)
        await db.commit()
        response = await client.get("/", params={"q": f" {owner.code.lower()} "})
        assert response.status_code == 303
        assert response.headers["location"] == f"/enterprises/{owner.code}"

    async def test_a_malformed_code_gets_the_apis_message(
        self, client: httpx.AsyncClient
    ) -> None:
        # given: a valid code with its check character changed
        code = b.credit_code(1)
        bad = code[:-1] + ("0" if code[-1] != "0" else "1")
        api = error_of(await post_graphql(client, LOOKUP, {"code": bad}))
        assert api["extensions"]["reason"] == "INVALID_CREDIT_CODE"
        # when
        response = await client.get("/", params={"q": bad})
        # then
        assert response.status_code == 400
        assert f"统一社会信用代码格式不正确：{escape(api['message'])}" in response.text

    async def test_a_letter_outside_the_alphabet_is_named(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/", params={"q": "91320205MA1XOOOOOO"})
        assert response.status_code == 400
        assert "is not allowed" in response.text

    async def test_an_unknown_code(self, client: httpx.AsyncClient) -> None:
        code = b.credit_code(999_999)
        response = await client.get("/", params={"q": code})
        assert response.status_code == 200
        assert f"没有找到统一社会信用代码为 {code} 的企业" in response.text

    async def test_pages_of_twenty(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        names = [f"无锡翻页测试{n:02d}有限公司" for n in range(25)]
        for name in names:
            await company(db, name)
        # when
        first = await client.get("/", params={"q": "翻页测试"})
        second = await client.get(link(first, "下一页"))
        back = await client.get(link(second, "上一页"))
        # then
        assert [n for n in names if n in first.text] == names[:20]
        assert [n for n in names if n in second.text] == names[20:]
        assert "下一页" not in second.text
        assert "上一页" not in first.text
        assert back.text == first.text

    async def test_a_forged_cursor_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", params={"q": "化工", "after": "bm90LWl0OjE"})
        assert response.status_code == 400
        assert "翻页参数无效" in response.text

    async def test_a_long_query_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", params={"q": "化" * 101})
        assert response.status_code == 400
        assert "查询内容过长：最多 100 个字符。" in response.text


class TestEnterprisePage:
    async def test_grade_history_and_penalties(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        owner = await company(db, "无锡清源水务有限公司", district="320206")
        await rate(db, owner, Grade.RED, valid_from=date(2025, 1, 1))
        await rate(db, owner, Grade.GREEN, valid_from=date(2026, 3, 1))
        penalty = b.penalty(owner, number="锡环罚〔2026〕18号")
        db.add(penalty)
        await db.commit()
        # when
        response = await client.get(f"/enterprises/{owner.code}")
        text = text_of(response)
        # then
        assert response.status_code == 200
        assert "<h1>无锡清源水务有限公司</h1>" in response.text
        assert "惠山区" in text
        current = response.text.split('id="current-title"')[1].split("</section>")[0]
        assert '<span class="badge GREEN">绿色</span>' in current
        assert "环保诚信" in current
        assert "江苏省企事业环保信用评价（动态记分）" in current
        assert "积极的信贷支持" in current  # a measure of the grade
        history = response.text.split('id="history-title"')[1].split("</section>")[0]
        assert history.index("badge GREEN") < history.index("badge RED")
        penalties = text_of(response).split("行政处罚信息")[1]
        for shown in (
            "锡环罚〔2026〕18号",
            "2026-03-01",
            "罚款",
            "无锡市锡山生态环境局",
            "2027-03-01",
        ):
            assert shown in penalties

    async def test_no_published_grade(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = await company(db)
        response = await client.get(f"/enterprises/{owner.code}")
        assert response.status_code == 200
        assert "暂无已发布的环保信用等级。" in response.text

    async def test_a_grade_in_notice_is_preliminary(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        rating = await in_notice(db)
        owner = await db.get(Enterprise, rating.enterprise_id)
        assert owner is not None
        response = await client.get(f"/enterprises/{owner.code}")
        assert "暂无已发布的环保信用等级。" in response.text
        assert "公示中（初评结果，尚未生效）" in response.text
        assert f"/notice/{rating.id}/objection?code={owner.code}" in response.text

    async def test_an_unknown_code_is_404(self, client: httpx.AsyncClient) -> None:
        code = b.credit_code(999_998)
        response = await client.get(f"/enterprises/{code}")
        assert response.status_code == 404
        assert f"没有找到统一社会信用代码为 {code} 的企业。" in response.text

    async def test_a_malformed_code_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/enterprises/91320205")
        assert response.status_code == 400
        assert "credit code must have 18 characters, got 8" in response.text

    async def test_a_lower_case_code_moves_to_the_canonical_page(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = b.enterprise(code=complete_credit_code("91320205MA1XK7L2"))
        db.add(owner)
        await db.commit()
        response = await client.get(f"/enterprises/{owner.code.lower()}")
        assert response.status_code == 301
        assert response.headers["location"] == f"/enterprises/{owner.code}"


class TestRatings:
    async def test_by_year_grade_district_and_scheme(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        for name, grade, year, district in (
            ("甲公司", Grade.GREEN, 2025, "320205"),
            ("乙公司", Grade.RED, 2025, "320205"),
            ("丙公司", Grade.GREEN, 2024, "320205"),
            ("丁公司", Grade.GREEN, 2025, "320206"),
        ):
            owner = await company(db, name, district=district)
            await rate(db, owner, grade, scheme=Scheme.JS_ANNUAL_100, year=year)
        # when
        response = await client.get(
            "/ratings",
            params={
                "year": "2025",
                "grade": "GREEN",
                "district": "320205",
                "scheme": "JS_ANNUAL_100",
            },
        )
        # then
        assert response.status_code == 200
        assert "甲公司" in response.text
        for other in ("乙公司", "丙公司", "丁公司"):
            assert other not in response.text
        assert "评价结果（共 1 条）" in response.text
        assert '<option value="320205" selected>锡山区</option>' in response.text

    async def test_final_by_default_and_the_notice_on_request(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        await in_notice(db, "公示中公司")
        published = await company(db, "已发布公司")
        await rate(db, published)
        default = await client.get("/ratings")
        every = await client.get("/ratings", params={"status": "ALL"})
        assert "已发布公司" in default.text
        assert "公示中公司" not in default.text
        assert "公示中公司" in every.text
        assert "公示中（初评结果，尚未生效）" in every.text

    async def test_pages_of_fifty(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        for n in range(55):
            await rate(db, await company(db, f"评价翻页{n:02d}公司"))
        # when
        first = await client.get("/ratings")
        second = await client.get(link(first, "下一页"))
        back = await client.get(link(second, "上一页"))
        # then
        assert len(re.findall("评价翻页\\d\\d公司</a>", first.text)) == 50
        assert len(re.findall("评价翻页\\d\\d公司</a>", second.text)) == 5
        assert "评价结果（共 55 条）" in second.text
        assert back.text == first.text

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"year": "二〇二五"}, "年度无效：应为 1990 到 2100 之间的整数。"),
            ({"year": "1900"}, "年度无效：应为 1990 到 2100 之间的整数。"),
            ({"grade": "PURPLE"}, "等级无效：'PURPLE' 不是可选的值。"),
            ({"district": "110101"}, "区县无效：'110101' 不是可选的值。"),
            ({"status": "DRAFT"}, "状态无效：'DRAFT' 不是可选的值。"),
            ({"after": "<script>"}, "翻页参数无效，请从第一页重新查询。"),
        ],
    )
    async def test_bad_parameters_are_400(
        self, client: httpx.AsyncClient, params: dict[str, str], message: str
    ) -> None:
        response = await client.get("/ratings", params=params)
        assert response.status_code == 400
        assert escape(message) in response.text


class TestNotice:
    async def test_grades_in_notice_until_when(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        rating = await in_notice(db, "公示期内公司")
        response = await client.get("/notice")
        assert response.status_code == 200
        assert "公示期内公司" in response.text
        assert "2026-06-25" in response.text  # noticeUntil
        assert f'href="/notice/{rating.id}/objection?code=' in response.text
        assert "如何提出异议" in response.text

    async def test_an_objection_is_filed(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        # given
        rating = await in_notice(db)
        form = await client.get(link(await client.get("/notice"), "提出异议.*?"))
        assert form.status_code == 200
        assert 'maxlength="2000"' in form.text
        clock.advance(seconds=5)
        # when
        response = await client.post(
            f"/notice/{rating.id}/objection",
            data={
                **form_fields(form),
                "website": "",
                "name": "王小明",
                "contact": "13800001234",
                "text": "该企业去年已完成整改，初评结果未反映。",
            },
            headers={"Origin": "http://hub.test", "Sec-Fetch-Site": "same-origin"},
        )
        # then
        assert response.status_code == 200, text_of(response)
        assert "异议已提交" in response.text
        assert "王小明" not in response.text
        assert "13800001234" not in response.text
        filed = (await db.scalars(select(Objection))).one()
        assert (filed.rating_id, filed.filer_name, filed.filer_contact) == (
            rating.id,
            "王小明",
            "13800001234",
        )
        assert filed.status is ObjectionStatus.OPEN
        assert f"异议编号 {filed.id}" in response.text

    async def test_the_honeypot_refuses(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        response = await post_objection(
            client, rating, fields, website="http://spam.example"
        )
        assert response.status_code == 400
        assert "提交未通过校验" in response.text
        assert await objection_count(db) == 0

    async def test_too_fast_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=2)
        response = await post_objection(client, rating, fields)
        assert response.status_code == 400
        assert "提交过快" in response.text
        assert "评分有误。" in response.text  # what the visitor typed, kept
        assert await objection_count(db) == 0

    async def test_an_old_form_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(hours=2, seconds=1)
        response = await post_objection(client, rating, fields)
        assert response.status_code == 400
        assert "表单打开已超过 2 小时" in response.text
        assert await objection_count(db) == 0

    async def test_a_token_for_another_rating_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating, other = await in_notice(db), await in_notice(db)
        fields = await objection_form(client, db, other)
        owner = await db.get(Enterprise, rating.enterprise_id)
        assert owner is not None
        clock.advance(seconds=5)
        response = await post_objection(client, rating, fields, code=owner.code)
        assert response.status_code == 400
        assert "表单已失效" in response.text
        assert await objection_count(db) == 0

    async def test_five_an_hour_per_address(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        # given
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        for _ in range(5):
            assert (await post_objection(client, rating, fields)).status_code == 200
        # when
        refused = await post_objection(client, rating, fields)
        clock.advance(hours=1)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        later = await post_objection(client, rating, fields)
        # then
        assert refused.status_code == 429
        assert "每小时最多提交 5 份异议" in refused.text
        assert later.status_code == 200
        assert await objection_count(db) == 6

    async def test_missing_fields_reshow_the_form(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        response = await post_objection(client, rating, fields, text="  ")
        assert response.status_code == 400
        assert "请填写姓名或单位名称、联系方式和异议内容。" in response.text
        assert '<textarea id="text"' in response.text

    async def test_a_long_text_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        response = await post_objection(client, rating, fields, text="异" * 2001)
        assert response.status_code == 400
        assert "异议内容不超过 2000 个字符。" in response.text
        assert await objection_count(db) == 0

    async def test_after_the_notice_no_objection(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        # given: the form was served on the notice's last day
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        # when: posted the day after
        clock.advance(days=11)
        response = await post_objection(client, rating, fields)
        # then
        assert response.status_code == 400
        assert "该评价结果的公示期已于 2026-06-25 结束，不再受理异议。" in response.text
        assert await objection_count(db) == 0

    async def test_a_rating_not_in_notice_has_no_form(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = await company(db)
        final = await rate(db, owner)
        response = await client.get(
            f"/notice/{final.id}/objection", params={"code": owner.code}
        )
        assert response.status_code == 404
        assert "没有找到该公示中的评价结果" in response.text

    async def test_a_cross_site_post_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        response = await client.post(
            f"/notice/{rating.id}/objection",
            data={**fields, "name": "甲", "contact": "乙", "text": "丙"},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403
        assert await objection_count(db) == 0


class TestRedBlack:
    async def test_the_last_half_year_by_default(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        black = await company(db, "黑名单公司")
        await rate(db, black, Grade.BLACK, valid_from=date(2025, 3, 1))
        red = await company(db, "红名单公司")
        await rate(db, red, Grade.RED, valid_from=date(2025, 12, 1))
        green = await company(db, "绿色公司")
        await rate(db, green, Grade.GREEN, valid_from=date(2025, 1, 1))
        # when
        response = await client.get("/red-black")
        first_half = await client.get(
            "/red-black", params={"year": "2025", "half": "1"}
        )
        # then
        assert response.status_code == 200
        assert "2025年下半年共 2 家企业列入名单" in response.text
        black_list = response.text.split("黑名单（1 家）")[1].split("</section>")[0]
        red_list = response.text.split("红名单（1 家）")[1].split("</section>")[0]
        assert "黑名单公司" in black_list
        assert "红名单公司" in red_list
        assert "绿色公司" not in response.text
        assert "2025年上半年共 1 家企业列入名单" in first_half.text

    async def test_a_bad_half_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/red-black", params={"year": "2025", "half": "3"})
        assert response.status_code == 400
        assert "半年度无效：应为 1 到 2 之间的整数。" in response.text


class TestDownloads:
    async def test_ratings_as_csv_and_xlsx(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        owner = await company(db, '=HYPERLINK("http://x")公司')
        await rate(
            db,
            owner,
            Grade.BLUE,
            scheme=Scheme.JS_ANNUAL_100,
            year=2025,
            valid_from=date(2026, 5, 1),
            valid_to=date(2027, 4, 30),
        )
        other_year = await company(db)
        await rate(db, other_year, scheme=Scheme.JS_ANNUAL_100, year=2024)
        for suffix in ("csv", "xlsx"):
            # when
            response = await client.get(
                f"/downloads/ratings.{suffix}", params={"year": "2025"}
            )
            # then
            assert response.status_code == 200
            disposition = response.headers["content-disposition"]
            assert disposition.startswith(
                f'attachment; filename="ratings_2025.{suffix}"; '
            )
            assert unquote(disposition.split("UTF-8''")[1]) == (
                f"企业环保信用评价结果_2025年度.{suffix}"
            )
            table = read_table(response.content, f"ratings.{suffix}")
            assert table.header == [
                "统一社会信用代码",
                "企业名称",
                "所属区县",
                "评价办法",
                "评价年度",
                "信用等级",
                "评价分值",
                "状态",
                "有效期起",
                "有效期止",
            ]
            assert len(table.rows) == 1
            row = dict(zip(table.header, table.rows[0][1], strict=True))
            assert row["统一社会信用代码"] == owner.code
            assert row["信用等级"] == "蓝色"
            assert row["评价办法"] == "江苏省企业环保信用评价（年度百分制）"
            assert str(row["评价年度"]) == "2025"
            assert row["状态"] == "已发布"
            assert row["所属区县"] == "锡山区"
            name = row["企业名称"]
            # never a live formula: CSV gets the "'" prefix, XLSX a string cell
            expected = owner.name if suffix == "xlsx" else "'" + owner.name
            assert name == expected

    async def test_the_red_black_list(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        black = await company(db, "黑色企业")
        await rate(db, black, Grade.BLACK, valid_from=date(2025, 3, 1))
        for suffix in ("csv", "xlsx"):
            response = await client.get(
                f"/downloads/red-black.{suffix}", params={"year": "2025", "half": "2"}
            )
            assert response.status_code == 200
            disposition = response.headers["content-disposition"]
            assert unquote(disposition.split("UTF-8''")[1]) == (
                f"红黑名单_2025年下半年.{suffix}"
            )
            table = read_table(response.content, f"list.{suffix}")
            assert table.header == [
                "统一社会信用代码",
                "企业名称",
                "所属区县",
                "信用等级",
                "生效日期",
            ]
            [(_, row)] = table.rows
            assert row[:4] == [black.code, "黑色企业", "锡山区", "黑色"]
            assert str(row[4])[:10] == "2025-03-01"

    async def test_score_in_the_download(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = await company(db)
        await rate(db, owner, year=2025, scheme=Scheme.JS_ANNUAL_100)
        response = await client.get("/downloads/ratings.csv", params={"year": "2025"})
        table = read_table(response.content, "ratings.csv")
        assert Decimal(str(table.rows[0][1][6])) == Decimal("8")

    async def test_an_unknown_file_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/downloads/penalties.csv")
        assert response.status_code == 404
        assert "没有这个下载文件" in response.text


async def every_page(
    client: httpx.AsyncClient, db: AsyncSession, codes: list[str]
) -> list[httpx.Response]:
    """Every page and download the portal has, over the enterprises `codes`."""
    notice = (
        await db.scalars(
            select(CreditRating).where(
                CreditRating.status == RatingStatus.IN_PUBLIC_NOTICE
            )
        )
    ).all()
    paths = [
        "/",
        "/?q=公司",
        "/ratings",
        "/ratings?status=ALL",
        "/notice",
        "/red-black",
        "/red-black?year=2026&half=1",
        "/downloads/ratings.csv?status=ALL",
        "/downloads/red-black.csv?year=2026&half=1",
        *(f"/enterprises/{code}" for code in codes),
        *(f"/?q={code}" for code in codes),
    ]
    for rating in notice:
        owner = await db.get(Enterprise, rating.enterprise_id)
        assert owner is not None
        paths.append(f"/notice/{rating.id}/objection?code={owner.code}")
    return [await client.get(path) for path in paths]


class TestEveryPage:
    async def test_security_headers_and_an_audit_entry(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        owner = await company(db, "审计公司")
        await rate(db, owner, Grade.RED)
        await in_notice(db)
        # when
        responses = await every_page(client, db, [owner.code])
        # then
        for response in responses:
            assert response.status_code in (200, 303), response.url
            headers = response.headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "script-src 'self'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            entry = await entry_for(db, response)
            assert (entry.kind, entry.client_id) == ("PORTAL", None)
            if response.url.path != "/" or response.url.query:
                assert (entry.operation_name or "").startswith("Portal"), response.url
        page = await client.get(f"/enterprises/{owner.code}")
        assert (await entry_for(db, page)).enterprises == [owner.code]

    async def test_the_objection_post_is_audited(
        self, client: httpx.AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        clock.advance(seconds=5)
        response = await post_objection(client, rating, fields)
        entry = await entry_for(db, response)
        assert (entry.kind, entry.operation_name) == ("PORTAL", "PortalObjection")
        assert entry.variables["contact"] == "[REDACTED]"

    async def test_no_inline_script_or_style(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        owner = await company(db)
        await rate(db, owner)
        await in_notice(db)
        for response in await every_page(client, db, [owner.code]):
            if response.headers.get("content-type", "").startswith("text/html"):
                assert "<script" not in response.text
                assert " style=" not in response.text
                assert "<style" not in response.text

    async def test_nothing_unpublished_or_personal_is_shown(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: a published grade beside a draft, a preliminary grade, an
        # expired penalty, a legal representative and an objector's details
        owner = await company(db, "公示测试公司")
        owner.legal_representative = "欧阳保密"
        await rate(db, owner, Grade.BLUE)
        await rate(
            db,
            owner,
            Grade.BLACK,
            status=RatingStatus.DRAFT,
            scheme=Scheme.JS_ANNUAL_100,
            year=2019,
            valid_from=date(2019, 3, 17),
        )
        other = await company(db, "初评测试公司")
        await rate(
            db,
            other,
            Grade.RED,
            status=RatingStatus.PRELIMINARY,
            scheme=Scheme.JS_ANNUAL_100,
            year=2018,
            valid_from=date(2018, 4, 23),
        )
        expired = b.penalty(
            owner,
            number="锡环罚〔2019〕过期77号",
            decision_date=date(2019, 2, 11),
            publication_end_date=date(2026, 6, 14),
        )
        noticed = await in_notice(db, "异议测试公司")
        objection = Objection(
            rating_id=noticed.id,
            filed_at=datetime(2026, 6, 10, tzinfo=UTC),
            filer_name="司马隐私",
            filer_contact="13912345678",
            text="异议内容。",
            status=ObjectionStatus.OPEN,
        )
        db.add_all([expired, objection])
        await db.commit()
        secrets = [
            "欧阳保密",
            "2019-03-17",
            "2018-04-23",
            "badge BLACK",
            "badge RED",
            "锡环罚〔2019〕过期77号",
            "2019-02-11",
            "司马隐私",
            "13912345678",
            "异议内容。",
        ]
        codes = [owner.code, other.code]
        # when
        responses = await every_page(client, db, codes)
        # then
        for response in responses:
            assert response.status_code in (200, 303), response.url
            body = response.content.decode("utf-8-sig")
            for secret in secrets:
                assert secret not in body, (secret, str(response.url))
        # and the published grade is shown
        page = await client.get(f"/enterprises/{owner.code}")
        assert '<span class="badge BLUE">蓝色</span>' in page.text


class TestSharedAnswers:
    """The red/black and dashboard pages share one answer a minute per worker."""

    async def test_a_shared_list_is_kept_a_minute_and_still_audited(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given a red enterprise, and the list seen once
        first = await company(db, "红榜甲公司")
        await rate(db, first, Grade.RED)
        seen = await client.get("/red-black?year=2026&half=1")
        assert "红榜甲公司" in text_of(seen)
        # when another turns red and the list is asked again at once
        second = await company(db, "红榜乙公司")
        await rate(db, second, Grade.RED)
        again = await client.get("/red-black?year=2026&half=1")
        # then the same answer, and its entry still names what it showed
        assert "红榜乙公司" not in text_of(again)
        entry = await entry_for(db, again)
        assert (entry.operation_name, entry.enterprises) == (
            "PortalRedBlack",
            [first.code],
        )


class TestUnsharedAnswers:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, portal_cache_seconds=0)

    async def test_without_sharing_every_view_is_fresh(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        first = await company(db, "红榜丙公司")
        await rate(db, first, Grade.RED)
        await client.get("/red-black?year=2026&half=1")
        second = await company(db, "红榜丁公司")
        await rate(db, second, Grade.RED)
        again = await client.get("/red-black?year=2026&half=1")
        assert "红榜丁公司" in text_of(again)


class TestRedBlackPages:
    async def test_a_long_list_is_shown_a_hundred_at_a_time(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given 105 red enterprises
        owners = [b.enterprise() for _ in range(105)]
        db.add_all(owners)
        await db.flush()
        db.add_all(
            b.rating(o, grade=Grade.RED, valid_from=date(2026, 1, 1)) for o in owners
        )
        await db.commit()
        # when
        first = await client.get("/red-black?year=2026&half=1")
        second = await client.get("/red-black?year=2026&half=1&page=2")
        beyond = await client.get("/red-black?year=2026&half=1&page=3")
        # then
        rows = re.compile(r'<tr>\s*<td><a href="/enterprises/')
        assert (len(rows.findall(first.text)), len(rows.findall(second.text))) == (
            100,
            5,
        )
        assert "第 1 / 2 页" in text_of(first)
        assert beyond.status_code == 400
        assert len((await entry_for(db, second)).enterprises) == 5


class TestTwoWorkers:
    async def test_a_form_served_by_one_worker_is_taken_by_another(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        # given a form served by this app, and a second app (another worker)
        rating = await in_notice(db)
        fields = await objection_form(client, db, rating)
        other = create_app(settings, sessionmaker=sessionmaker)
        clock.advance(seconds=5)
        # when the form is sent to the other worker
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other), base_url="http://hub.test"
        ) as second:
            response = await post_objection(second, rating, fields)
        await other.state.audit.aclose()
        # then it is filed
        assert response.status_code == 200, text_of(response)
        assert await objection_count(db) == 1
