"""An app's schema and its caches go when the app goes (hub/kept.py)."""

import gc
import weakref

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Route

from hub.app import create_app
from hub.config import Settings
from hub.enums import AgencyKind
from hub.graphql import HubGraphQL
from tests.conftest import Tokens, serving
from tests.helpers import data_of, post_graphql
from tests.test_enterprises_by_codes import add_enterprises

pytestmark = pytest.mark.anyio

LOOKUP = (
    "query($code: String!) { enterprise(code: $code) { code currentRating { grade } } }"
)


async def test_a_dropped_app_leaves_no_schema_behind(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    tokens: Tokens,
) -> None:
    # given: an app that has validated, measured, authorized and compiled a query
    codes = await add_enterprises(db, 1)
    headers = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
    app = create_app(settings, sessionmaker=sessionmaker)
    graphql = next(
        r.endpoint
        for r in app.routes
        if isinstance(r, Route) and isinstance(r.endpoint, HubGraphQL)
    )
    assert isinstance(graphql.schema, strawberry.Schema)
    schema = weakref.ref(graphql.schema._schema)
    async with serving(app) as c:
        answer = data_of(
            await post_graphql(c, LOOKUP, {"code": codes[0]}, headers=headers)
        )
    assert answer["enterprise"]["code"] == codes[0]
    assert vars(schema())["_hub_plans"]  # the caches were filled
    # when
    del app, graphql, c
    gc.collect()
    # then
    assert schema() is None
