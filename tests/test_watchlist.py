"""Watchlists: a bank follows its borrowers in the change feed."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.enums import AgencyKind
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

WATCH = """
mutation($codes: [String!]!, $replace: Boolean!) {
  watchEnterprises(codes: $codes, replace: $replace) { added removed size }
}
"""
UNWATCH = "mutation($codes: [String!]!) { unwatchEnterprises(codes: $codes) { removed size } }"
LIST = "{ watchlist(first: 10) { size codes } }"
CHANGES = """
query($watchlist: Boolean!) {
  changes(first: 50, watchlist: $watchlist) { nodes { enterpriseCode kind } }
}
"""
RECORD_PENALTY = (
    "mutation($input: PenaltyInput!) { recordPenalty(input: $input) { outcome } }"
)


@pytest.fixture
async def bank(tokens: Tokens) -> dict[str, str]:
    return await tokens.headers(AgencyKind.COMMERCIAL_BANK)


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str
) -> httpx.Response:
    query = "mutation($f: Upload!) { importWatchlist(file: $f) { added removed size } }"
    return await client.post(
        "/graphql",
        files={
            "operations": (
                None,
                json.dumps({"query": query, "variables": {"f": None}}),
            ),
            "map": (None, json.dumps({"0": ["variables.f"]})),
            "0": (name, data, "text/csv"),
        },
        headers=headers,
    )


class TestWatchlist:
    async def test_watch_list_and_unwatch(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        codes = [b.credit_code(n) for n in (3, 1, 2)]
        added = data_of(
            await post_graphql(
                client, WATCH, {"codes": codes, "replace": False}, headers=bank
            )
        )
        assert added == {"watchEnterprises": {"added": 3, "removed": 0, "size": 3}}
        again = data_of(
            await post_graphql(
                client,
                WATCH,
                {"codes": [codes[0].lower()], "replace": False},
                headers=bank,
            )
        )
        assert again["watchEnterprises"] == {"added": 0, "removed": 0, "size": 3}
        listed = data_of(await post_graphql(client, LIST, headers=bank))["watchlist"]
        assert listed == {"size": 3, "codes": sorted(codes)}
        removed = data_of(
            await post_graphql(client, UNWATCH, {"codes": [codes[1]]}, headers=bank)
        )
        assert removed["unwatchEnterprises"] == {"removed": 1, "size": 2}

    async def test_pages_after_a_code(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        codes = sorted(b.credit_code(n) for n in (1, 2, 3))
        await post_graphql(
            client, WATCH, {"codes": codes, "replace": False}, headers=bank
        )
        query = "query($after: String) { watchlist(first: 2, after: $after) { codes } }"
        first = await post_graphql(client, query, {}, headers=bank)
        assert data_of(first)["watchlist"]["codes"] == codes[:2]
        rest = await post_graphql(client, query, {"after": codes[1]}, headers=bank)
        assert data_of(rest)["watchlist"]["codes"] == codes[2:]

    @pytest.mark.parametrize("after", ["\x00", "not a code", "91110108600037341E"])
    async def test_an_after_that_is_not_a_code(
        self, client: httpx.AsyncClient, bank: dict[str, str], after: str
    ) -> None:
        query = "query($after: String) { watchlist(first: 2, after: $after) { codes } }"
        response = await post_graphql(client, query, {"after": after}, headers=bank)
        error = error_of(response)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "INVALID_CREDIT_CODE"
        assert error["extensions"]["field"] == "after"

    async def test_replace(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        first = [b.credit_code(n) for n in (1, 2)]
        data_of(
            await post_graphql(
                client, WATCH, {"codes": first, "replace": False}, headers=bank
            )
        )
        done = data_of(
            await post_graphql(
                client,
                WATCH,
                {"codes": [first[1], b.credit_code(3)], "replace": True},
                headers=bank,
            )
        )
        assert done["watchEnterprises"] == {"added": 1, "removed": 1, "size": 2}

    async def test_a_bad_code_changes_nothing(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        response = await post_graphql(
            client,
            WATCH,
            {"codes": [b.credit_code(1), "91110108600037341E"], "replace": False},
            headers=bank,
        )
        error = error_of(response)
        assert (error["extensions"]["reason"], error["extensions"]["field"]) == (
            "INVALID_CREDIT_CODE",
            "codes[1]",
        )
        assert (
            data_of(await post_graphql(client, LIST, headers=bank))["watchlist"]["size"]
            == 0
        )

    async def test_upload_a_file(
        self, client: httpx.AsyncClient, bank: dict[str, str]
    ) -> None:
        codes = [b.credit_code(n) for n in range(1, 6)]
        data = (
            "统一社会信用代码,企业名称\n"
            + "".join(f"{c},借款人{i}\n" for i, c in enumerate(codes))
        ).encode("gb18030")
        done = data_of(await upload(client, bank, data, "借款人.csv"))
        assert done["importWatchlist"] == {"added": 5, "removed": 0, "size": 5}

    async def test_the_public_has_no_watchlist(self, client: httpx.AsyncClient) -> None:
        response = await post_graphql(client, LIST)
        assert error_of(response)["extensions"]["code"] == "FORBIDDEN"

    async def test_the_feed_narrowed_to_the_watchlist(
        self,
        client: httpx.AsyncClient,
        bank: dict[str, str],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        # given: two enterprises penalised, the bank watches one
        watched, other = b.enterprise(), b.enterprise()
        db.add_all([watched, other])
        await db.commit()
        epb = await tokens.headers(AgencyKind.CITY_EPB)
        for n, owner in enumerate((watched, other), start=1):
            data_of(
                await post_graphql(
                    client,
                    RECORD_PENALTY,
                    {"input": penalty(owner.code, n)},
                    headers=epb,
                )
            )
        data_of(
            await post_graphql(
                client, WATCH, {"codes": [watched.code], "replace": False}, headers=bank
            )
        )
        # when
        mine = data_of(
            await post_graphql(client, CHANGES, {"watchlist": True}, headers=bank)
        )
        everything = data_of(
            await post_graphql(client, CHANGES, {"watchlist": False}, headers=bank)
        )
        # then
        assert [n["enterpriseCode"] for n in mine["changes"]["nodes"]] == [watched.code]
        assert len(everything["changes"]["nodes"]) == 2


def penalty(code: str, n: int) -> dict[str, Any]:
    return {
        "decisionNumber": f"锡山环罚决〔2026〕{n}号",
        "enterpriseCode": code,
        "categories": ["WARNING"],
        "violationType": "未设置排污口标志",
        "facts": "排污口未设置标志牌。",
        "legalBasis": "《水污染防治法》第八十四条",
        "decisionDate": "2026-06-01",
        "authorityName": "无锡市锡山生态环境局",
        "authorityCode": b.CITY_BUREAU_CODE,
    }


async def test_a_bad_row_in_an_uploaded_list_is_named(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    data = (f"统一社会信用代码\n{b.credit_code(1)}\n91110108600037341E\n").encode()
    error = error_of(await upload(client, bank, data, "借款人.csv"))
    assert error["extensions"]["reason"] == "INVALID_CREDIT_CODE"
    assert error["message"].startswith("Nothing was changed: row 3: ")
    assert (
        data_of(await post_graphql(client, LIST, headers=bank))["watchlist"]["size"]
        == 0
    )
