"""/dashboard: the statistics page and its CSV downloads, as the public sees them."""

import csv
import io
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.test_statistics import graded_city, insured_city, penalised_city

pytestmark = pytest.mark.anyio

Rows = list[list[str]]
MONTHS = [f"2025-{m:02d}" for m in range(7, 13)] + [
    f"2026-{m:02d}" for m in range(1, 7)
]
GRADES_TABLE = [
    ["区县代码", "区县", "绿色", "蓝色", "黄色", "红色", "黑色", "合计"],
    ["320205", "锡山区", "1", "1", "0", "0", "0", "2"],
    ["320206", "惠山区", "0", "0", "1", "0", "0", "1"],
    ["320213", "梁溪区", "0", "0", "0", "1", "0", "1"],
    ["", "合计", "1", "1", "1", "1", "0", "4"],
]
CHANGES_TABLE = [
    ["月份", "降级", "修复"],
    *([m, "1" if m == "2026-04" else "0", "0"] for m in MONTHS),
    ["合计", "1", "0"],
]
PENALTY_MONTHS = {
    "2025-12": ["1", "0", "1", "0"],
    "2026-03": ["2", "1", "2", "0"],
    "2026-05": ["1", "0", "0", "1"],
}
PENALTIES_TABLE = [
    ["月份", "处罚决定数", "警告", "罚款", "责令停产停业"],
    *([m, *PENALTY_MONTHS.get(m, ["0"] * 4)] for m in MONTHS),
    ["合计", "4", "1", "3", "1"],
]
INSURANCE_TABLE = [
    ["区县代码", "区县", "应投保企业数", "已投保", "未投保", "投保率"],
    ["320205", "锡山区", "3", "1", "2", "33.3%"],
    ["320206", "惠山区", "1", "1", "0", "100.0%"],
    ["320213", "梁溪区", "1", "0", "1", "0.0%"],
    ["", "合计", "5", "2", "3", "40.0%"],
]


class Page(HTMLParser):
    """The tables of a page by caption, the error shown, and what it holds."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, Rows] = {}
        self.errors: list[str] = []
        self.svgs = 0
        self.style_attributes = 0
        self._caption: str | None = None
        self._rows: Rows = []
        self._cell: list[str] | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.style_attributes += any(name == "style" for name, _ in attrs)
        if tag == "svg":
            self.svgs += 1
        elif tag == "table":
            self._rows, self._caption = [], None
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "caption" or (tag == "p" and ("class", "error") in attrs):
            self._in, self._cell = tag, []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._cell is None and tag != "table":
            return
        text = "".join(self._cell or []).strip()
        if tag in ("td", "th") and self._in is None:
            self._rows[-1].append(text)
            self._cell = None
        elif tag == "caption":
            self._caption, self._in, self._cell = text, None, None
        elif tag == "p" and self._in == "p":
            self.errors.append(text)
            self._in, self._cell = None, None
        elif tag == "table" and self._caption is not None:
            self.tables[self._caption] = self._rows


async def city(db: AsyncSession) -> None:
    await graded_city(db)
    await penalised_city(db)
    await insured_city(db)


def read_csv(response: httpx.Response) -> Rows:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


class TestDashboardPage:
    async def test_shows_each_figure_with_its_numbers(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await city(db)
        # when
        response = await client.get("/dashboard")
        # then
        assert response.status_code == 200
        page = Page(response.text)
        assert page.tables == {
            "2026 年信用等级分布（按区县）（数据）": GRADES_TABLE,
            "每月降级与信用修复（数据）": CHANGES_TABLE,
            "每月行政处罚决定（按处罚类别）（数据）": PENALTIES_TABLE,
            "2026 年环境污染责任保险投保情况（数据）": INSURANCE_TABLE,
        }
        assert (page.svgs, page.errors) == (4, [])

    async def test_is_safe_to_show(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await city(db)
        # when
        response = await client.get("/dashboard")
        # then: no inline style or script, no framing, nothing fetched elsewhere
        csp = response.headers["content-security-policy"]
        assert "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert Page(response.text).style_attributes == 0
        assert "<script" not in response.text
        assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")

    async def test_shows_no_draft_preliminary_or_personal_data(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given: a draft RED and a BLACK in public notice (graded_city)
        await city(db)
        # when
        response = await client.get("/dashboard")
        # then: BLACK and a second RED would show in the grade totals
        grades = Page(response.text).tables["2026 年信用等级分布（按区县）（数据）"]
        assert grades[-1] == ["", "合计", "1", "1", "1", "1", "0", "4"]
        # and no names, codes, legal representatives or fines
        for private in ("张伟", "化工有限公司", "91320", "50000", "12000.5"):
            assert private not in response.text

    async def test_a_district_and_a_range_are_asked_for(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await city(db)
        # when
        response = await client.get(
            "/dashboard",
            params={"district": "320206", "from": "2026-04-01", "to": "2026-05-31"},
        )
        # then
        tables = Page(response.text).tables
        assert tables["2026 年信用等级分布（按区县）（数据）"] == [
            GRADES_TABLE[0],
            ["320206", "惠山区", "0", "0", "1", "0", "0", "1"],
            ["", "合计", "0", "0", "1", "0", "0", "1"],
        ]
        assert tables["每月降级与信用修复（数据）"] == [
            ["月份", "降级", "修复"],
            ["2026-04", "1", "0"],
            ["2026-05", "0", "0"],
            ["合计", "1", "0"],
        ]
        assert tables["每月行政处罚决定（按处罚类别）（数据）"] == [
            ["月份", "处罚决定数", "责令停产停业"],
            ["2026-04", "0", "0"],
            ["2026-05", "1", "1"],
            ["合计", "1", "1"],
        ]
        assert (
            'href="/dashboard/penalties.csv?district=320206&amp;from=2026-04-01&amp;to=2026-05-31"'
            in response.text
        )

    async def test_the_form_shows_what_was_counted(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await client.get("/dashboard", params={"year": "2025"})
        # then
        for control in (
            'id="year" name="year" type="number" min="1990" max="2100" step="1" value="2025"',
            'id="from" name="from" type="date" value="2025-07-01"',
            'id="to" name="to" type="date" value="2026-06-15"',
            '<option value="JS_DYNAMIC_12" selected>',
            '<label for="district">区县</label>',
        ):
            assert control in response.text

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            (
                {"year": "2027"},
                "year 2027 has not begun: grades are known up to today (2026-06-15)",
            ),
            (
                {"from": "2026-05-01", "to": "2026-01-01"},
                "to (2026-01-01) is before from (2026-05-01)",
            ),
            (
                {"from": "2010-01-01", "to": "2026-01-01"},
                "from 2010-01-01 to 2026-01-01 spans more than 120 months (ten years); "
                "ask for a shorter range",
            ),
            (
                {"district": "锡山区"},
                "district must be a 6-digit division code such as 320205, got '锡山区'",
            ),
            (
                {"year": "二〇二六"},
                "Variable '$year' has invalid value: Int cannot represent "
                "non-integer value: '二〇二六'",
            ),
            (
                {"scheme": "GREEN"},
                "Variable '$scheme' has invalid value: Value 'GREEN' does not exist "
                "in 'Scheme' enum.",
            ),
        ],
    )
    async def test_bad_parameters_show_the_reason(
        self, client: httpx.AsyncClient, params: dict[str, str], message: str
    ) -> None:
        # when
        response = await client.get("/dashboard", params=params)
        # then
        assert response.status_code == 400
        page = Page(response.text)
        assert (page.errors, page.tables, page.svgs) == (
            [f"参数有误：{message}"],
            {},
            0,
        )
        assert "Traceback" not in response.text


class TestDashboardDownloads:
    @pytest.mark.parametrize(
        ("figure", "table"),
        [
            ("grades", GRADES_TABLE),
            ("rating-changes", CHANGES_TABLE),
            ("penalties", PENALTIES_TABLE),
            ("insurance", INSURANCE_TABLE),
        ],
    )
    async def test_each_figure_as_csv(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        figure: str,
        table: Rows,
    ) -> None:
        # given
        await city(db)
        # when
        response = await client.get(f"/dashboard/{figure}.csv")
        # then
        assert read_csv(response) == table
        assert response.headers["content-disposition"] == (
            f'attachment; filename="{figure}.csv"'
        )

    async def test_the_parameters_apply(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        # given
        await city(db)
        # when
        response = await client.get(
            "/dashboard/insurance.csv", params={"year": "2025", "district": "320205"}
        )
        # then
        assert read_csv(response) == [
            INSURANCE_TABLE[0],
            ["", "合计", "0", "0", "0", "—"],
        ]

    async def test_bad_parameters_are_refused(self, client: httpx.AsyncClient) -> None:
        # when
        response = await client.get("/dashboard/grades.csv", params={"year": "1800"})
        # then
        assert response.status_code == 400
        assert response.text == (
            "参数有误：year must be a calendar year between 1990 and 2100, got 1800"
        )

    async def test_an_unknown_figure_is_not_found(
        self, client: httpx.AsyncClient
    ) -> None:
        # when
        response = await client.get("/dashboard/fines.csv")
        # then
        assert response.status_code == 404
