"""What every portal page shares: templates, the public GraphQL, safe headers."""

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.audit.draft import draft_of
from hub.portal.public import PublicGraphQL, PublicResult
from resolvers.context import cst_date

_OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")
MAX_SHARED = 256  # answers kept: parameter combinations of the shared pages
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# No CDN, no inline script or style, no framing (the portal works offline).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Site:
    """The portal: pages render templates from what `public` answers."""

    def __init__(self, public: PublicGraphQL, *, cache_seconds: float = 60) -> None:
        self.public = public
        self.cache_seconds = cache_seconds
        # The slow public answers (the dashboard's aggregates, the red/black
        # lists), the same for every visitor: computed once a minute per worker.
        self._cached: OrderedDict[tuple[object, ...], tuple[float, PublicResult]] = (
            OrderedDict()
        )
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
        self.templates = Jinja2Templates(env=env)

    async def ask(
        self, request: Request, document: str, variables: dict[str, Any] | None = None
    ) -> PublicResult:
        """Run `document` as the public. Name each document after its page
        (`query PortalEnterprise`): the name is the audit entry's operation."""
        return await self.public.run(request, document, variables)

    async def ask_shared(
        self,
        request: Request,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        codes: Callable[[PublicResult], Iterable[str]] = lambda _: (),
    ) -> PublicResult:
        """`ask`, answered from a copy up to `cache_seconds` old when the same
        document and variables were asked (today's date is in the key). A
        copy's enterprises (`codes`) still go into the page's audit entry;
        errors are never kept."""
        key = (document, tuple(sorted((variables or {}).items())), self.today())
        now = time.monotonic()
        found = self._cached.get(key)
        if found is not None and now - found[0] < self.cache_seconds:
            draft = draft_of(request.scope)
            if draft is not None:  # as AuditNotes notes a document that ran
                named = _OPERATION.search(document)
                draft.operation_name = draft.operation_name or (
                    named.group(1) if named else None
                )
                draft.enterprises = tuple(
                    sorted({*draft.enterprises, *codes(found[1])})
                )
            return found[1]
        result = await self.ask(request, document, variables)
        if not result.errors and self.cache_seconds > 0:
            self._cached[key] = (now, result)
            self._cached.move_to_end(key)
            while len(self._cached) > MAX_SHARED:
                self._cached.popitem(last=False)
        return result

    def today(self) -> date:
        return cst_date(self.public.settings.clock())

    def render(
        self,
        request: Request,
        template: str,
        values: dict[str, Any],
        *,
        status: int = 200,
    ) -> Response:
        response: Response = self.templates.TemplateResponse(
            request, template, values, status_code=status
        )
        response.headers.update(SECURITY_HEADERS)
        return response
