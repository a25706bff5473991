"""/notice: the grades in public notice (公示), and the objection form (异议).

The form is filed through the public `fileObjection` mutation. Against abuse:
a honeypot field, a signed timestamp bound to the rating (refused when posted
within seconds of being served, or hours later), and a per-address limit.
Forms are same-origin only: the CSP's `form-action 'self'`, the browser's
Sec-Fetch-Site and Origin, and the token bound to the rating.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.portal.forms import KEY_FILE, FormTokens, SubmissionLimit, TokenProblem
from hub.portal.pages import PageError, data_of, page, page_error, render
from hub.portal.params import Pager, text_param
from hub.portal.site import Site
from resolvers.context import CST, cst_date

NOTICE = """
query PortalNotice($after: String) {
  ratings(filter: {status: IN_PUBLIC_NOTICE}, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id scheme year grade noticeUntil
      enterprise { code name district { name } }
    }
  }
}
"""
NOTICED_RATING = """
query PortalNoticedRating($code: String!) {
  enterprise(code: $code) {
    code name district { name }
    ratingHistory { id scheme year grade status noticeUntil }
  }
}
"""
FILE_OBJECTION = """
mutation PortalObjection(
  $ratingId: ID!, $filerName: String!, $contact: String!, $text: String!
) {
  fileObjection(
    ratingId: $ratingId, filerName: $filerName, contact: $contact, text: $text
  ) { id filedAt status }
}
"""
# As the API takes them (resolvers/objections.py); the form says so too.
MAX_NAME = 200
MAX_TEXT = 2_000
# 2,000 Chinese characters are 18,000 bytes once URL-encoded.
MAX_FORM_BYTES = 32 * 1024
HONEYPOT = "website"
TOKEN_PROBLEM_ZH = {
    TokenProblem.INVALID: "表单已失效，请确认填写内容后重新提交。",
    TokenProblem.TOO_FAST: "提交过快，请确认填写内容后再提交。",
    TokenProblem.EXPIRED: "表单打开已超过 2 小时，请确认填写内容后重新提交。",
}
REASON_ZH = {
    "NOT_IN_NOTICE": "该评价结果已不在公示期内，不再受理异议。",
    "RATING_NOT_FOUND": "没有找到该评价结果。",
    "REQUIRED": "请填写所有必填项。",
    "TOO_LONG": "填写内容过长。",
    "INVALID_CHARACTER": "填写内容含有无效字符。",
}


@dataclass(frozen=True, slots=True)
class Objection:
    """What the visitor typed, echoed back to them only when the form is re-shown."""

    name: str = ""
    contact: str = ""
    text: str = ""

    @classmethod
    def of(cls, form: FormData) -> "Objection":
        return cls(_field(form, "name"), _field(form, "contact"), _field(form, "text"))

    def problem(self) -> str | None:
        if not (self.name and self.contact and self.text):
            return "请填写姓名或单位名称、联系方式和异议内容。"
        if max(len(self.name), len(self.contact)) > MAX_NAME:
            return f"姓名或单位名称、联系方式各不超过 {MAX_NAME} 个字符。"
        if len(self.text) > MAX_TEXT:
            return f"异议内容不超过 {MAX_TEXT} 个字符。"
        return None


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def routes(site: Site) -> list[Route]:
    clock = site.public.settings.clock
    tokens = FormTokens(clock, key_file=site.public.settings.keys_dir / KEY_FILE)
    # Per process: with several workers each keeps its own count.
    limit = SubmissionLimit(clock)

    def today() -> str:
        return cst_date(clock()).isoformat()

    async def notice(request: Request) -> Response:
        pager = Pager.of(request.query_params)
        found = data_of(await site.ask(request, NOTICE, {"after": pager.after}))
        ratings = found["ratings"]
        info = ratings["pageInfo"]
        values = {
            "nav": "notice",
            "ratings": ratings["nodes"],
            "total": ratings["totalCount"],
            "today": today(),
            "previous_url": pager.previous_url("/notice", {}),
            "next_url": pager.next_url("/notice", {}, info["endCursor"])
            if info["hasNextPage"]
            else None,
        }
        return render(site, request, "notice.html", values)

    async def noticed(request: Request, code: str | None) -> dict[str, Any]:
        """The rating of the path, with its enterprise, while objections are taken."""
        rating_id = request.path_params["rating_id"]
        if code is None or not (rating_id.isascii() and rating_id.isdigit()):
            raise PageError(
                404, "没有找到该公示中的评价结果，请从公示列表进入异议页面。"
            )
        found = data_of(await site.ask(request, NOTICED_RATING, {"code": code}))
        owner = found["enterprise"]
        rating = next(
            (
                r
                for r in (owner["ratingHistory"] if owner else [])
                if r["id"] == rating_id and r["status"] == "IN_PUBLIC_NOTICE"
            ),
            None,
        )
        if owner is None or rating is None:
            raise PageError(
                404, "没有找到该公示中的评价结果，请从公示列表进入异议页面。"
            )
        if rating["noticeUntil"] is None or rating["noticeUntil"] < today():
            raise PageError(
                400,
                f"该评价结果的公示期已于 {rating['noticeUntil']} 结束，不再受理异议。",
            )
        return {"enterprise": owner, "rating": rating}

    def form(
        request: Request,
        shown: dict[str, Any],
        *,
        objection: Objection = Objection(),
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        values = {
            "nav": "notice",
            **shown,
            "token": tokens.issue(shown["rating"]["id"]),
            "objection": objection,
            "error": error,
            "max_name": MAX_NAME,
            "max_text": MAX_TEXT,
            "honeypot": HONEYPOT,
        }
        return render(site, request, "objection.html", values, status=status)

    async def objection_form(request: Request) -> Response:
        code = text_param(
            request.query_params, "code", label="统一社会信用代码", max_length=40
        )
        return form(request, await noticed(request, code))

    async def file_objection(request: Request) -> Response:
        if not same_origin(request):
            raise PageError(403, "只受理从本平台页面提交的异议。")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            raise PageError(413, "提交的内容过长。")
        if len(await request.body()) > MAX_FORM_BYTES:
            raise PageError(413, "提交的内容过长。")
        try:
            posted = await request.form(max_files=0, max_fields=20)
        except HTTPException:
            raise PageError(400, "无法读取提交的表单，请重新提交。") from None
        shown = await noticed(request, _field(posted, "code") or None)
        objection = Objection.of(posted)
        rating_id = shown["rating"]["id"]

        def again(message: str, status: int = 400) -> Response:
            return form(
                request, shown, objection=objection, error=message, status=status
            )

        if _field(posted, HONEYPOT):
            return again("提交未通过校验，请重新提交。")
        problem = tokens.check(_field(posted, "token"), rating_id)
        if problem is not None:
            return again(TOKEN_PROBLEM_ZH[problem])
        address = request.client.host if request.client else "unknown"
        if not limit.allows(address):
            return again(
                f"同一网络地址每小时最多提交 {limit.limit} 份异议，请稍后再试。", 429
            )
        if (message := objection.problem()) is not None:
            return again(message)
        variables = {
            "ratingId": rating_id,
            "filerName": objection.name,
            "contact": objection.contact,
            "text": objection.text,
        }
        result = await site.ask(request, FILE_OBJECTION, variables)
        if result.errors and result.reason() in REASON_ZH:
            return again(REASON_ZH[str(result.reason())])
        if result.errors:
            error = page_error(result)
            return again(error.message, error.status)
        limit.record(address)
        filed = data_of(result)["fileObjection"]
        at = datetime.fromisoformat(filed["filedAt"]).astimezone(CST)
        values = {"nav": "notice", **shown, "filed": filed, "filed_at": at}
        return render(site, request, "objection_filed.html", values)

    path = "/notice/{rating_id}/objection"
    return [
        Route("/notice", page(site, "notice", notice), methods=["GET"]),
        Route(path, page(site, "notice", objection_form), methods=["GET"]),
        Route(path, page(site, "notice", file_objection), methods=["POST"]),
    ]


def same_origin(request: Request) -> bool:
    """False for a post the browser says came from another site."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.partition("://")[2] == request.headers.get("host", "")
