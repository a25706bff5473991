"""/downloads/ratings.{csv,xlsx} and /downloads/red-black.{csv,xlsx}.

The lists the /ratings and /red-black pages show, as files: read through the
public GraphQL (the ratings a page of 100 at a time), written with Chinese
headers and terms, text never a live formula (hub/ingest/export.py).
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.enums import GRADE_ZH, Grade, RatingStatus, Scheme
from hub.export_files import LABELS, MEDIA_TYPES, FileFormat
from hub.ingest.export import write_csv, write_xlsx
from hub.ingest.table import Cell
from hub.portal.pages import PageError, data_of, page
from hub.portal.ratings import RatingChoice
from hub.portal.red_black import HalfYear, fetch_list
from hub.portal.site import SECURITY_HEADERS, Site
from resolvers.context import cst_date

RATINGS = """
query PortalDownloadRatings($filter: RatingFilter!, $after: String, $count: Boolean!) {
  ratings(filter: $filter, first: 100, after: $after) {
    totalCount @include(if: $count)
    pageInfo { hasNextPage endCursor }
    nodes {
      scheme year grade score status validFrom validTo
      enterprise { code name district { name } }
    }
  }
}
"""
MAX_ROWS = 100_000
RATING_HEADER = (
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
)
RED_BLACK_HEADER = ("统一社会信用代码", "企业名称", "所属区县", "信用等级", "生效日期")
STATUS_ZH = {
    RatingStatus.FINAL.name: "已发布",
    RatingStatus.REPAIRED.name: "已修复",
    RatingStatus.IN_PUBLIC_NOTICE.name: "公示中（初评结果）",
}
FORMATS = {f.value: f for f in (FileFormat.CSV, FileFormat.XLSX)}

Rows = list[Sequence[Cell]]
# A list's file: its Chinese title, an ASCII title, its rows.
Collect = Callable[[Request], Awaitable[tuple[str, str, Rows]]]


def routes(site: Site) -> list[Route]:
    async def ratings(request: Request) -> tuple[str, str, Rows]:
        choice = RatingChoice.of(request.query_params)
        rows: Rows = []
        after = None
        while True:
            variables = {
                "filter": choice.api_filter(),
                "after": after,
                "count": after is None,
            }
            found = data_of(await site.ask(request, RATINGS, variables))["ratings"]
            if after is None and found["totalCount"] > MAX_ROWS:
                raise PageError(
                    400,
                    f"符合条件的评价结果有 {found['totalCount']} 条，超过单个文件"
                    f"最多 {MAX_ROWS} 条的限制，请缩小筛选范围后下载。",
                )
            rows += [rating_row(r) for r in found["nodes"]]
            if not found["pageInfo"]["hasNextPage"] or len(rows) >= MAX_ROWS:
                break
            after = found["pageInfo"]["endCursor"]
        year = f"{choice.year}年度" if choice.year else "全部年度"
        ascii_year = str(choice.year) if choice.year else "all"
        return f"企业环保信用评价结果_{year}", f"ratings_{ascii_year}", rows

    async def red_black(request: Request) -> tuple[str, str, Rows]:
        today = cst_date(site.public.settings.clock())
        half = HalfYear.of(request.query_params, today)
        found = await fetch_list(site, request, half)
        rows: Rows = [red_black_row(e) for e in found["entries"]]
        return (
            f"红黑名单_{half.label}",
            f"red-black_{half.year}-H{half.half}",
            rows,
        )

    lists: dict[str, tuple[tuple[str, ...], Collect]] = {
        "ratings": (RATING_HEADER, ratings),
        "red-black": (RED_BLACK_HEADER, red_black),
    }

    async def download(request: Request) -> Response:
        name, _, suffix = request.path_params["name"].rpartition(".")
        if name not in lists or suffix not in FORMATS:
            raise PageError(
                404,
                "没有这个下载文件：可下载 ratings.csv、ratings.xlsx、"
                "red-black.csv 和 red-black.xlsx。",
            )
        fmt = FORMATS[suffix]
        header, collect = lists[name]
        title, ascii_title, rows = await collect(request)
        if fmt is FileFormat.CSV:
            body = await run_in_threadpool(write_csv, header, rows)
        else:
            body = await run_in_threadpool(
                write_xlsx, header, rows, sheet_title=title[:31]
            )
        return Response(
            body,
            media_type=MEDIA_TYPES[fmt],
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": content_disposition(
                    title, ascii_title, fmt.value
                ),
            },
        )

    return [
        Route("/downloads/{name}", page(site, "ratings", download), methods=["GET"])
    ]


def rating_row(r: dict[str, Any]) -> list[Cell]:
    e = r["enterprise"]
    return [
        e["code"],
        e["name"],
        e["district"]["name"],
        LABELS[Scheme[r["scheme"]]],
        r["year"],
        GRADE_ZH[Grade[r["grade"]]],
        Decimal(r["score"]) if r["score"] is not None else None,
        STATUS_ZH.get(r["status"], r["status"]),
        date.fromisoformat(r["validFrom"]),
        date.fromisoformat(r["validTo"]) if r["validTo"] else None,
    ]


def red_black_row(e: dict[str, Any]) -> list[Cell]:
    return [
        e["code"],
        e["name"],
        e["district"]["name"],
        GRADE_ZH[Grade[e["grade"]]],
        date.fromisoformat(e["validFrom"]),
    ]


def content_disposition(title: str, ascii_title: str, suffix: str) -> str:
    """An attachment named in Chinese (RFC 6266 filename*, RFC 8187), with an
    ASCII name for clients that know only `filename`."""
    return (
        f'attachment; filename="{ascii_title}.{suffix}"; '
        f"filename*=UTF-8''{quote(f'{title}.{suffix}', safe='')}"
    )
