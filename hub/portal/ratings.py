"""/ratings: the published ratings by year, grade, district, scheme and status."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.enums import Grade, Scheme
from hub.portal.labels import DISTRICT_NAMES, PUBLIC_STATUSES
from hub.portal.pages import data_of, page, render
from hub.portal.params import Pager, Params, choice_param, year_param
from hub.portal.site import Site
from resolvers.context import cst_date

RATINGS = """
query PortalRatings($filter: RatingFilter!, $after: String) {
  ratings(filter: $filter, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id scheme year grade status validFrom validTo
      enterprise { code name district { name } }
    }
  }
}
"""
ALL = "ALL"  # every status the public may see, the notice's included
STATUS_CHOICES = (*(s.name for s in PUBLIC_STATUSES), ALL)
YEARS_OFFERED = 10


@dataclass(frozen=True, slots=True)
class RatingChoice:
    """What a visitor asked the ratings list for (the page's form, the downloads')."""

    year: int | None = None
    grade: str | None = None
    district: str | None = None
    scheme: str | None = None
    status: str = PUBLIC_STATUSES[0].name

    @classmethod
    def of(cls, params: Params) -> "RatingChoice":
        status = choice_param(params, "status", label="状态", choices=STATUS_CHOICES)
        return cls(
            year=year_param(params),
            grade=choice_param(
                params, "grade", label="等级", choices=Grade.__members__
            ),
            district=choice_param(
                params, "district", label="区县", choices=DISTRICT_NAMES
            ),
            scheme=choice_param(
                params, "scheme", label="评价办法", choices=Scheme.__members__
            ),
            status=status or PUBLIC_STATUSES[0].name,
        )

    def api_filter(self) -> dict[str, Any]:
        """The `RatingFilter` of the API."""
        return {
            "year": self.year,
            "grade": self.grade,
            "district": self.district,
            "scheme": self.scheme,
            "status": None if self.status == ALL else self.status,
        }

    def query(self) -> dict[str, str]:
        """The choice as query parameters, for links."""
        return {
            "year": str(self.year or ""),
            "grade": self.grade or "",
            "district": self.district or "",
            "scheme": self.scheme or "",
            "status": self.status,
        }


def routes(site: Site) -> list[Route]:
    async def ratings(request: Request) -> Response:
        choice = RatingChoice.of(request.query_params)
        pager = Pager.of(request.query_params)
        variables = {"filter": choice.api_filter(), "after": pager.after}
        found = data_of(await site.ask(request, RATINGS, variables))["ratings"]
        info = found["pageInfo"]
        query = choice.query()
        this_year = cst_date(site.public.settings.clock()).year
        years = list(range(this_year, this_year - YEARS_OFFERED, -1))
        if choice.year is not None and choice.year not in years:
            years.append(choice.year)
        values = {
            "nav": "ratings",
            "choice": choice,
            "years": years,
            "grades": list(Grade.__members__),
            "schemes": list(Scheme.__members__),
            "statuses": STATUS_CHOICES,
            "ratings": found["nodes"],
            "total": found["totalCount"],
            "previous_url": pager.previous_url("/ratings", query),
            "next_url": pager.next_url("/ratings", query, info["endCursor"])
            if info["hasNextPage"]
            else None,
            "download_query": urlencode({k: v for k, v in query.items() if v}),
        }
        return render(site, request, "ratings.html", values)

    return [Route("/ratings", page(site, "ratings", ratings), methods=["GET"])]
