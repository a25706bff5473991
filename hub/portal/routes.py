"""The portal's routes: its pages and its static files, for create_app."""

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hub.portal import (
    dashboard,
    downloads,
    enterprise,
    home,
    notice,
    ratings,
    red_black,
)
from hub.portal.site import STATIC, Site


class Static(StaticFiles):
    """The bundled CSS and scripts; nothing is fetched from elsewhere."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def portal_routes(site: Site) -> list[BaseRoute]:
    return [
        *home.routes(site),
        *enterprise.routes(site),
        *ratings.routes(site),
        *notice.routes(site),
        *red_black.routes(site),
        *downloads.routes(site),
        *dashboard.routes(site),
        Mount("/static", Static(directory=STATIC), name="portal-static"),
    ]
