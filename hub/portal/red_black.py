"""/red-black: the half-yearly red and black lists (红黑名单)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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


async def fetch_list(site: Site, request: Request, half: HalfYear) -> dict[str, Any]:
    """The list, as redBlackList answers it."""
    variables = {"year": half.year, "half": half.half}
    result: PublicResult = await site.ask(request, RED_BLACK, variables)
    found: dict[str, Any] = data_of(result)["redBlackList"]
    return found


def routes(site: Site) -> list[Route]:
    async def red_black(request: Request) -> Response:
        today = cst_date(site.public.settings.clock())
        half = HalfYear.of(request.query_params, today)
        found = await fetch_list(site, request, half)
        entries = found["entries"]
        years = list(range(today.year, today.year - YEARS_OFFERED, -1))
        if half.year not in years:
            years.append(half.year)
        values = {
            "nav": "red-black",
            "half": half,
            "years": years,
            "list": found,
            "black": [e for e in entries if e["grade"] == "BLACK"],
            "red": [e for e in entries if e["grade"] == "RED"],
        }
        return render(site, request, "red_black.html", values)

    return [Route("/red-black", page(site, "red-black", red_black), methods=["GET"])]
