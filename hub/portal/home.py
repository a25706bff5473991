"""/ : search by enterprise name or credit code."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.portal.site import Site


def routes(site: Site) -> list[Route]:
    async def home(request: Request) -> Response:
        return site.render(request, "home.html", {"nav": "search", "q": ""})

    return [Route("/", home, methods=["GET"])]
