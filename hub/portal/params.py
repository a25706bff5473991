"""Query parameters of the portal's pages, checked, and cursor paging.

An empty parameter (a form's "all" choice) means no filter; a malformed one
is a PageError 400 saying which and why.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from hub.portal.pages import PageError

Params = Mapping[str, str]

# The API's cursors are URL-safe base64 (resolvers/pagination.py).
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# How many earlier pages "上一页" can walk back through.
TRAIL_MAX = 30
YEAR_MIN, YEAR_MAX = 1990, 2100


def text_param(params: Params, name: str, *, label: str, max_length: int) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise PageError(400, f"{label}过长：最多 {max_length} 个字符。")
    if _CONTROL.search(value):
        raise PageError(400, f"{label}含有控制字符。")
    return value


def int_param(
    params: Params, name: str, *, label: str, low: int, high: int
) -> int | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise PageError(400, f"{label}无效：应为 {low} 到 {high} 之间的整数。")
    return int(value)


def year_param(params: Params, name: str = "year") -> int | None:
    return int_param(params, name, label="年度", low=YEAR_MIN, high=YEAR_MAX)


def choice_param(
    params: Params, name: str, *, label: str, choices: Collection[str]
) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        raise PageError(400, f"{label}无效：{value[:40]!r} 不是可选的值。")
    return value


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a page is in its list: `after` and the cursors of earlier pages.

    The API's lists page forward only; "上一页" goes back to the `after` the
    previous page was asked with, kept in `back` (the last TRAIL_MAX of them).
    """

    after: str | None = None
    trail: tuple[str, ...] = ()

    @classmethod
    def of(cls, params: Params) -> "Pager":
        after = params.get("after") or None
        back = params.get("back") or ""
        trail = tuple(back.split(".")) if back else ()
        for cursor in (after, *trail):
            if cursor is not None and not _CURSOR.fullmatch(cursor):
                raise PageError(400, "翻页参数无效，请从第一页重新查询。")
        return cls(after, trail[-TRAIL_MAX:])

    @property
    def first_page(self) -> bool:
        return self.after is None

    def next_url(self, path: str, query: dict[str, str], end_cursor: str) -> str:
        trail = (*self.trail, self.after) if self.after else ()
        return _url(path, query, end_cursor, trail[-TRAIL_MAX:])

    def previous_url(self, path: str, query: dict[str, str]) -> str | None:
        if self.after is None:
            return None
        if not self.trail:
            return _url(path, query, None, ())
        return _url(path, query, self.trail[-1], self.trail[:-1])


def _url(
    path: str, query: dict[str, str], after: str | None, trail: tuple[str, ...]
) -> str:
    params = {k: v for k, v in query.items() if v}
    if after:
        params["after"] = after
    if trail:
        params["back"] = ".".join(trail)
    return f"{path}?{urlencode(params)}" if params else path
