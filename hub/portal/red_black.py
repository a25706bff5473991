"""/red-black: the half-yearly red and black lists (红黑名单)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.audit.draft import draft_of
from hub.portal.pages import PageError, data_of, page, render
from hub.portal.params import Params, int_param, year_param
from hub.portal.public import PublicResult
from hub.portal.site import Site
from resolvers.context import cst_date

RED_BLACK = """
query PortalRedBlack($year: Int!, $half: Int!) {
  redBlackList(year: $year, half: $half) {
    year half asOf scheme count
    entries { code name grade validFrom district { name } }
  }
}
"""
YEARS_OFFERED = 10
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class HalfYear:
    year: int
    half: int

    @classmethod
    def of(cls, params: Params, today: date) -> "HalfYear":
        """The half-year asked for; by default the last one that has ended."""
        year = year_param(params)
        half = int_param(params, "half", label="半年度", low=1, high=2)
        latest = cls(today.year, 1) if today.month > 6 else cls(today.year - 1, 2)
        if year is None and half is not None:
            raise PageError(400, "请同时选择年度和半年度。")
        return cls(year or latest.year, half or (latest.half if year is None else 1))

    @property
    def label(self) -> str:
        return f"{self.year}年{'上' if self.half == 1 else '下'}半年"


async def fetch_list(
    site: Site, request: Request, half: HalfYear, *, shown_only: bool = False
) -> dict[str, Any]:
    """The list, as redBlackList answers it. With `shown_only` the page notes
    in its audit entry only the enterprises it shows (note_shown); otherwise
    (a file) every enterprise of the list."""
    variables = {"year": half.year, "half": half.half}
    result: PublicResult = await site.ask_shared(
        request, RED_BLACK, variables, codes=(lambda _: ()) if shown_only else _codes
    )
    found: dict[str, Any] = data_of(result)["redBlackList"]
    return found


def note_shown(request: Request, codes: list[str]) -> None:
    """The page's audit entry names the enterprises on this page of the list."""
    draft = draft_of(request.scope)
    if draft is not None:
        draft.enterprises = tuple(sorted(set(codes)))


def _codes(result: PublicResult) -> list[str]:
    found = (result.data or {}).get("redBlackList") or {}
    return [e["code"] for e in found.get("entries", [])]


def routes(site: Site) -> list[Route]:
    async def red_black(request: Request) -> Response:
        today = cst_date(site.public.settings.clock())
        half = HalfYear.of(request.query_params, today)
        found = await fetch_list(site, request, half, shown_only=True)
        entries = found["entries"]
        black = [e for e in entries if e["grade"] == "BLACK"]
        red = [e for e in entries if e["grade"] == "RED"]
        # Black first, then red, a page at a time: a city's list runs to
        # thousands; the files below carry all of it.
        listed = black + red
        pages = max(1, -(-len(listed) // PAGE_SIZE))
        number = (
            int_param(request.query_params, "page", label="页码", low=1, high=pages)
            or 1
        )
        shown = listed[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        note_shown(request, [e["code"] for e in shown])
        years = list(range(today.year, today.year - YEARS_OFFERED, -1))
        if half.year not in years:
            years.append(half.year)
        values = {
            "nav": "red-black",
            "half": half,
            "years": years,
            "list": found,
            "black_count": len(black),
            "red_count": len(red),
            "black": [e for e in shown if e["grade"] == "BLACK"],
            "red": [e for e in shown if e["grade"] == "RED"],
            "page": number,
            "pages": pages,
        }
        return render(site, request, "red_black.html", values)

    return [Route("/red-black", page(site, "red-black", red_black), methods=["GET"])]
