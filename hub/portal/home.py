"""/ : search by enterprise name or credit code."""

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.credit_code import normalize_credit_code
from hub.portal.pages import PageError, data_of, page, page_error, render
from hub.portal.params import Pager, text_param
from hub.portal.site import SECURITY_HEADERS, Site

FIND_CODE = """
query PortalFindCode($code: String!) {
  enterprise(code: $code) { code }
}
"""
SEARCH = """
query PortalSearch($name: String!, $after: String) {
  enterprises(filter: {nameContains: $name}, first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { code name district { name } currentRating { grade } }
  }
}
"""
MAX_QUERY = 100
# 18 letters or digits once trimmed and folded: meant as a credit code, so
# the API says what is wrong with it (a letter outside the code's alphabet
# included) rather than a name search finding nothing.
_CODE_LIKE = re.compile(r"[0-9A-Z]{18}")


def looks_like_code(text: str) -> bool:
    return _CODE_LIKE.fullmatch(normalize_credit_code(text)) is not None


def routes(site: Site) -> list[Route]:
    async def home(request: Request) -> Response:
        values: dict[str, Any] = {"nav": "search", "q": ""}
        try:
            q = text_param(
                request.query_params, "q", label="查询内容", max_length=MAX_QUERY
            )
        except PageError as e:
            values["error"] = e.message
            return render(site, request, "home.html", values, status=e.status)
        values["q"] = q or ""
        if q is None:
            return render(site, request, "home.html", values)
        if looks_like_code(q):
            return await by_code(request, q, values)
        return await by_name(request, q, values)

    async def by_code(request: Request, q: str, values: dict[str, Any]) -> Response:
        result = await site.ask(request, FIND_CODE, {"code": q})
        if result.reason() == "INVALID_CREDIT_CODE":
            error = page_error(result)
            values["error"] = error.message
            return render(site, request, "home.html", values, status=error.status)
        found = data_of(result)["enterprise"]
        if found is None:
            values["not_found"] = normalize_credit_code(q)
            return render(site, request, "home.html", values)
        redirect = RedirectResponse(f"/enterprises/{found['code']}", status_code=303)
        redirect.headers.update(SECURITY_HEADERS)
        return redirect

    async def by_name(request: Request, q: str, values: dict[str, Any]) -> Response:
        try:
            pager = Pager.of(request.query_params)
            result = await site.ask(request, SEARCH, {"name": q, "after": pager.after})
            found = data_of(result)["enterprises"]
        except PageError as e:
            values["error"] = e.message
            return render(site, request, "home.html", values, status=e.status)
        info = found["pageInfo"]
        query = {"q": q}
        values |= {
            "results": found["nodes"],
            "first_page": pager.first_page,
            "previous_url": pager.previous_url("/", query),
            "next_url": pager.next_url("/", query, info["endCursor"])
            if info["hasNextPage"]
            else None,
        }
        return render(site, request, "home.html", values)

    return [Route("/", page(site, "search", home), methods=["GET"])]
