"""What the portal's page modules share: rendering, and errors as pages.

A page that cannot be shown raises PageError with the status and a message
for the visitor; `page` turns it, or anything unexpected, into the error page
(never a stack trace).
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.portal.labels import labels
from hub.portal.public import PublicResult
from hub.portal.site import Site
from hub.request_id import request_id_of

log = logging.getLogger("hub.portal")

Handler = Callable[[Request], Awaitable[Response]]

# What a visitor reads for the API's reasons (the API's own words follow).
REASON_ZH = {
    "INVALID_CREDIT_CODE": "统一社会信用代码格式不正确",
    "INVALID_CURSOR": "翻页参数无效，请从第一页重新查询",
    "INVALID_YEAR": "年度无效",
    "INVALID_DISTRICT_CODE": "区县代码无效",
    "INVALID_HALF": "半年度只能是上半年或下半年",
}
# Statuses for the API's error codes; anything else is the portal's fault.
CODE_STATUS = {
    "BAD_USER_INPUT": 400,
    "RATE_LIMITED": 429,
    "TIMEOUT": 504,
    "SERVICE_UNAVAILABLE": 503,
}
CODE_ZH = {
    "RATE_LIMITED": "访问过于频繁，请稍后再试。",
    "TIMEOUT": "查询超时，请稍后再试。",
    "SERVICE_UNAVAILABLE": "服务暂时不可用，请稍后再试。",
}


class PageError(Exception):
    """The page cannot be shown: `status` and a message for the visitor."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render(
    site: Site,
    request: Request,
    template: str,
    values: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    return site.render(request, template, {"labels": labels, **values}, status=status)


def page(site: Site, nav: str, handler: Handler) -> Handler:
    """`handler` with its PageError, or any failure, shown as the error page."""

    async def shown(request: Request) -> Response:
        try:
            return await handler(request)
        except PageError as e:
            return error_page(site, request, e.status, e.message, nav=nav)
        except Exception:
            request_id = request_id_of(request.scope)
            log.exception("portal page failed", extra={"request_id": request_id})
            message = f"服务暂时出现问题，请稍后再试（请求编号 {request_id}）。"
            return error_page(site, request, 500, message, nav=nav)

    return shown


def error_page(
    site: Site, request: Request, status: int, message: str, *, nav: str
) -> Response:
    values = {"nav": nav, "status": status, "message": message}
    return render(site, request, "error.html", values, status=status)


def data_of(result: PublicResult) -> dict[str, Any]:
    """The data of an answer without errors; PageError for its first error."""
    if result.errors or result.data is None:
        raise page_error(result)
    return result.data


def page_error(result: PublicResult) -> PageError:
    """The first error of an answer, as the visitor should read it."""
    if not result.errors:
        return PageError(500, "服务暂时出现问题，请稍后再试。")
    extensions = result.errors[0].get("extensions", {})
    code = str(extensions.get("code", ""))
    status = CODE_STATUS.get(code, 500)
    if status == 400:
        reason = str(extensions.get("reason", ""))
        lead = REASON_ZH.get(reason, "请求参数有误")
        return PageError(400, f"{lead}：{result.message()}")
    if status == 500:
        log.error("portal query failed: %s", result.errors[0])
        request_id = extensions.get("requestId")
        suffix = f"（请求编号 {request_id}）" if request_id else ""
        return PageError(500, f"服务暂时出现问题，请稍后再试{suffix}。")
    return PageError(status, CODE_ZH[code])
