"""/enterprises/{code}: one enterprise's published grade, history and penalties."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.portal.pages import PageError, data_of, page, render
from hub.portal.site import SECURITY_HEADERS, Site
from resolvers.context import cst_date

# Only fields the anonymous public may read (no @requiresScopes beyond the
# public's): no legal representative, no penalty facts or amounts, no risk
# level, no insurance.
ENTERPRISE = """
query PortalEnterprise($code: String!) {
  enterprise(code: $code) {
    code name address industry supervisionCategory status
    district { name }
    currentRating { grade scheme year score validFrom validTo decidedBy }
    ratingHistory {
      id scheme year grade score status validFrom validTo noticeUntil decidedBy
    }
    penalties {
      decisionNumber decisionDate categories violationType authorityName
      publicationEndDate status
    }
  }
}
"""
MEASURES = """
query PortalMeasures($scheme: Scheme!, $grade: Grade!) {
  measures(scheme: $scheme, grade: $grade) { zh direction }
}
"""
MAX_CODE = 40


def routes(site: Site) -> list[Route]:
    async def enterprise(request: Request) -> Response:
        code = request.path_params["code"]
        if len(code) > MAX_CODE:
            raise PageError(400, "统一社会信用代码格式不正确：代码应为 18 个字符。")
        found = data_of(await site.ask(request, ENTERPRISE, {"code": code}))
        shown = found["enterprise"]
        if shown is None:
            raise PageError(404, f"没有找到统一社会信用代码为 {code} 的企业。")
        if shown["code"] != code:  # lower case, full-width, spaces: the one address
            redirect = RedirectResponse(f"/enterprises/{shown['code']}", 301)
            redirect.headers.update(SECURITY_HEADERS)
            return redirect
        today = cst_date(site.public.settings.clock()).isoformat()
        current = shown["currentRating"]
        values: dict[str, Any] = {
            "nav": "search",
            "e": shown,
            "today": today,
            "in_notice": [
                r
                for r in shown["ratingHistory"]
                if r["status"] == "IN_PUBLIC_NOTICE"
                and r["noticeUntil"] is not None
                and r["noticeUntil"] >= today
            ],
            "measures": await measures(request, current) if current else [],
        }
        return render(site, request, "enterprise.html", values)

    async def measures(request: Request, rating: dict[str, Any]) -> list[str]:
        """The reward and punishment measures (奖惩措施) of the grade."""
        variables = {"scheme": rating["scheme"], "grade": rating["grade"]}
        found = data_of(await site.ask(request, MEASURES, variables))["measures"]
        return list(dict.fromkeys(m["zh"] for m in found))

    return [
        Route(
            "/enterprises/{code}",
            page(site, "search", enterprise),
            methods=["GET"],
        )
    ]
