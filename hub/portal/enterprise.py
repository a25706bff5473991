"""Portal page module (enterprise): filled in by its owner."""

from starlette.routing import Route

from hub.portal.site import Site


def routes(site: Site) -> list[Route]:
    return []
