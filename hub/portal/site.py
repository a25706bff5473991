"""What every portal page shares: templates, the public GraphQL, safe headers."""

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.portal.public import PublicGraphQL, PublicResult

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

    def __init__(self, public: PublicGraphQL) -> None:
        self.public = public
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
        self.templates = Jinja2Templates(env=env)

    async def ask(
        self, request: Request, document: str, variables: dict[str, Any] | None = None
    ) -> PublicResult:
        """Run `document` as the public. Name each document after its page
        (`query PortalEnterprise`): the name is the audit entry's operation."""
        return await self.public.run(request, document, variables)

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
