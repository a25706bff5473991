"""Persisted operations: registered with `hub operations`, run by id over /graphql."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import Result

from auth.scopes import PURPOSES, Scope
from hub.enums import AgencyKind
from hub.models import AuditEntry, PersistedOperation
from seeds.builders import credit_code
from tests.conftest import Credentials, Tokens
from tests.helpers import data_of, hub

pytestmark = pytest.mark.anyio

Staff = Callable[..., Awaitable[Result]]

DOCUMENT = """\
query Count { enterprises(first: 1) { totalCount } }
query Risks { riskAssessments(first: 1) { totalCount } }
"""
DOCUMENT_ID = hashlib.sha256(DOCUMENT.encode()).hexdigest()
IMPORT_WATCHLIST = "mutation($f: Upload!) { importWatchlist(file: $f) { added size } }"
IMPORT_WATCHLIST_ID = hashlib.sha256(IMPORT_WATCHLIST.encode()).hexdigest()
RAW_QUERY = "{ enterprises(first: 1) { totalCount } }"
COUNT = {"enterprises": {"totalCount": 0}}
NOT_FOUND = {
    "errors": [
        {
            "message": "PersistedQueryNotFound: no registered document with this "
            "id for this client.",
            "extensions": {
                "code": "PERSISTED_QUERY_NOT_FOUND",
                "reason": "PERSISTED_QUERY_NOT_FOUND",
            },
        }
    ]
}


@pytest.fixture
def staff(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Staff:
    """`hub ...` on the app's database, in a worker thread (it runs its own loop)."""
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_AUTH_CACHE_SECONDS", "0")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)  # the audit's keys and checkpoint file

    async def run(*args: str) -> Result:
        return await anyio.to_thread.run_sync(lambda: hub(*args))

    return run


async def register(
    staff: Staff, tmp_path: Path, client_id: str, text: str = DOCUMENT
) -> Result:
    path = tmp_path / "operations.graphql"
    path.write_text(text, encoding="utf-8")
    return await staff("operations", "add", client_id, str(path))


async def bank(tokens: Tokens, **agency: Any) -> tuple[Credentials, dict[str, str]]:
    """A bank's client and the headers of a request with its token."""
    credentials = await tokens.register(AgencyKind.COMMERCIAL_BANK, **agency)
    token = await tokens.issue(credentials)
    purpose = min(PURPOSES[AgencyKind.COMMERCIAL_BANK]).value
    return credentials, {"Authorization": f"Bearer {token}", "Hub-Purpose": purpose}


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers)


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]


class TestRegistration:
    async def test_add_prints_the_id(
        self, staff: Staff, tokens: Tokens, db: AsyncSession, tmp_path: Path
    ) -> None:
        # given
        credentials, _ = await bank(tokens)
        # when
        result = await register(staff, tmp_path, credentials.client_id)
        listed = await staff("operations", "list", credentials.client_id)
        # then
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == DOCUMENT_ID
        assert f'"documentId": "sha256:{DOCUMENT_ID}"' in result.stderr
        assert listed.stdout.startswith(f"client {credentials.client_id}: hybrid\n")
        assert DOCUMENT_ID in listed.stdout
        assert "Count, Risks" in listed.stdout
        stored = (await db.scalars(select(PersistedOperation))).one()
        assert (stored.client_id, stored.document) == (credentials.client_id, DOCUMENT)
        assert stored.operation_names == ["Count", "Risks"]
        assert stored.created_by.startswith("cli:")

    async def test_adding_twice_keeps_one(
        self, staff: Staff, tokens: Tokens, db: AsyncSession, tmp_path: Path
    ) -> None:
        credentials, _ = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)

        again = await register(staff, tmp_path, credentials.client_id)

        assert again.exit_code == 0, again.output
        assert "already registered" in again.stderr
        assert len((await db.scalars(select(PersistedOperation))).all()) == 1

    async def test_a_field_outside_the_clients_scopes_is_refused(
        self, staff: Staff, tokens: Tokens, db: AsyncSession, tmp_path: Path
    ) -> None:
        # given: a bank that may read grades only
        credentials, _ = await bank(tokens, scopes=frozenset({Scope.ratings_read}))
        # when
        result = await register(staff, tmp_path, credentials.client_id)
        # then
        assert_refused(
            result,
            f"client {credentials.client_id} may not read "
            "Query.riskAssessments (needs scope risk:read)",
        )
        assert (await db.scalars(select(PersistedOperation))).all() == []

    async def test_an_invalid_document_is_refused_with_its_place(
        self, staff: Staff, tokens: Tokens, tmp_path: Path
    ) -> None:
        credentials, _ = await bank(tokens)

        unknown = await register(
            staff, tmp_path, credentials.client_id, "query Q {\n  nope\n}\n"
        )
        broken = await register(staff, tmp_path, credentials.client_id, "query {")

        assert_refused(
            unknown,
            "invalid document: line 2, column 3: Cannot query field 'nope' on type 'Query'",
        )
        assert_refused(broken, "invalid document: line 1, column 8: Syntax Error")

    async def test_a_subscription_is_refused(
        self, staff: Staff, tokens: Tokens, tmp_path: Path
    ) -> None:
        credentials, _ = await bank(tokens)

        result = await register(
            staff,
            tmp_path,
            credentials.client_id,
            "subscription S { creditEvents { __typename } }",
        )

        assert_refused(result, "subscriptions cannot be persisted")

    async def test_an_unknown_client_is_refused(
        self, staff: Staff, tmp_path: Path
    ) -> None:
        result = await register(staff, tmp_path, "nobody")

        assert_refused(result, "no client 'nobody'")

    async def test_changes_are_audited(
        self, staff: Staff, tokens: Tokens, db: AsyncSession, tmp_path: Path
    ) -> None:
        # given
        credentials, _ = await bank(tokens)
        client_id = credentials.client_id
        # when
        await register(staff, tmp_path, client_id)
        await staff("operations", "mode", client_id, "--persisted-only")
        await staff("operations", "remove", client_id, f"sha256:{DOCUMENT_ID}")
        # then
        rows = (
            await db.execute(
                select(
                    AuditEntry.kind, AuditEntry.operation_name, AuditEntry.variables
                ).order_by(AuditEntry.seq)
            )
        ).all()
        assert [tuple(r) for r in rows if r.kind == "ADMIN"] == [
            (
                "ADMIN",
                "operations add",
                {
                    "clientId": client_id,
                    "sha256": DOCUMENT_ID,
                    "operations": "Count, Risks",
                },
            ),
            (
                "ADMIN",
                "operations mode",
                {"clientId": client_id, "mode": "persisted-only"},
            ),
            (
                "ADMIN",
                "operations remove",
                {"clientId": client_id, "sha256": DOCUMENT_ID},
            ),
        ]


class TestExecution:
    async def test_by_document_id(
        self,
        staff: Staff,
        tokens: Tokens,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tmp_path: Path,
    ) -> None:
        # given
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)
        # when
        response = await post(
            client,
            {"documentId": f"sha256:{DOCUMENT_ID}", "operationName": "Count"},
            headers,
        )
        # then: run as if sent, and audited under the same hash
        assert data_of(response) == COUNT
        entry = (
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.kind == "GRAPHQL")
                .order_by(AuditEntry.seq.desc())
            )
        ).first()
        assert entry is not None
        assert (entry.document_sha256, entry.operation_name) == (DOCUMENT_ID, "Count")

    async def test_by_apollo_persisted_query(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)

        response = await post(
            client,
            {
                "operationName": "Risks",
                "extensions": {
                    "persistedQuery": {"version": 1, "sha256Hash": DOCUMENT_ID}
                },
            },
            headers,
        )

        assert data_of(response) == {"riskAssessments": {"totalCount": 0}}

    async def test_the_bare_hex_id(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)

        response = await post(
            client,
            {"documentId": DOCUMENT_ID.upper(), "operationName": "Count"},
            headers,
        )

        assert data_of(response) == COUNT

    async def test_an_upload_by_document_id(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        # given: a mutation taking a file
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id, IMPORT_WATCHLIST)
        operations = {"documentId": IMPORT_WATCHLIST_ID, "variables": {"f": None}}
        # when
        response = await client.post(
            "/graphql",
            files={
                "operations": (None, json.dumps(operations)),
                "map": (None, json.dumps({"0": ["variables.f"]})),
                "0": (
                    "borrowers.csv",
                    f"credit_code\n{credit_code(1)}\n".encode(),
                    "text/csv",
                ),
            },
            headers=headers,
        )
        # then
        assert data_of(response) == {"importWatchlist": {"added": 1, "size": 1}}

    async def test_an_unknown_id(
        self, tokens: Tokens, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        _, headers = await bank(tokens)

        response = await post(client, {"documentId": f"sha256:{'0' * 64}"}, headers)

        assert response.status_code == 400
        assert response.json() == NOT_FOUND
        entry = (await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()[
            -1
        ]
        assert (entry.outcome, entry.reason, entry.document_sha256) == (
            "INVALID",
            "PERSISTED_QUERY_NOT_FOUND",
            "0" * 64,
        )

    async def test_another_clients_id_is_not_found(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        # given: the document is the other bank's
        other, _ = await bank(tokens)
        await register(staff, tmp_path, other.client_id)
        _, headers = await bank(tokens)
        # when
        theirs = await post(client, {"documentId": f"sha256:{DOCUMENT_ID}"}, headers)
        unknown = await post(client, {"documentId": f"sha256:{'0' * 64}"}, headers)
        # then: exactly as an id that does not exist
        assert (theirs.status_code, theirs.json()) == (400, NOT_FOUND)
        assert theirs.content == unknown.content

    async def test_an_anonymous_caller_has_no_documents(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        credentials, _ = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)

        response = await post(client, {"documentId": DOCUMENT_ID}, None)

        assert (response.status_code, response.json()) == (400, NOT_FOUND)

    async def test_a_query_must_match_its_id(
        self, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        _, headers = await bank(tokens)

        response = await post(
            client, {"query": RAW_QUERY, "documentId": DOCUMENT_ID}, headers
        )

        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": "The query's SHA-256 does not match the document id.",
                    "extensions": {
                        "code": "BAD_REQUEST",
                        "reason": "PERSISTED_QUERY_HASH_MISMATCH",
                    },
                }
            ]
        }

    async def test_a_query_with_its_own_hash_runs_unregistered(
        self, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        # Apollo's link resends the text with its hash; nothing is registered.
        _, headers = await bank(tokens)
        sha256 = hashlib.sha256(RAW_QUERY.encode()).hexdigest()

        response = await post(
            client,
            {
                "query": RAW_QUERY,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}},
            },
            headers,
        )

        assert data_of(response) == COUNT

    async def test_a_malformed_id(
        self, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        _, headers = await bank(tokens)

        response = await post(client, {"documentId": "md5:abc"}, headers)

        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {
            "code": "BAD_REQUEST",
            "reason": "INVALID_DOCUMENT_ID",
        }

    async def test_a_removed_document_is_not_found(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        # given: run once, so a cache would hold it (the tests' TTL is 0)
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)
        body = {"documentId": f"sha256:{DOCUMENT_ID}", "operationName": "Count"}
        assert data_of(await post(client, body, headers)) == COUNT
        # when
        removed = await staff(
            "operations", "remove", credentials.client_id, DOCUMENT_ID
        )
        response = await post(client, body, headers)
        # then
        assert removed.exit_code == 0, removed.output
        assert (response.status_code, response.json()) == (400, NOT_FOUND)


class TestPersistedOnly:
    async def test_a_raw_query_is_refused(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        # given
        credentials, headers = await bank(tokens)
        mode = await staff(
            "operations", "mode", credentials.client_id, "--persisted-only"
        )
        # when
        response = await post(client, {"query": RAW_QUERY}, headers)
        # then
        assert mode.exit_code == 0, mode.output
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "PERSISTED_QUERY_REQUIRED",
        }

    async def test_a_registered_document_is_served(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        credentials, headers = await bank(tokens)
        await register(staff, tmp_path, credentials.client_id)
        await staff("operations", "mode", credentials.client_id, "--persisted-only")

        by_id = await post(
            client,
            {"documentId": f"sha256:{DOCUMENT_ID}", "operationName": "Count"},
            headers,
        )
        with_text = await post(
            client,
            {"query": DOCUMENT, "documentId": DOCUMENT_ID, "operationName": "Count"},
            headers,
        )

        assert data_of(by_id) == COUNT
        assert data_of(with_text) == COUNT

    async def test_an_unregistered_text_with_its_hash_is_not_found(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        credentials, headers = await bank(tokens)
        await staff("operations", "mode", credentials.client_id, "--persisted-only")
        sha256 = hashlib.sha256(RAW_QUERY.encode()).hexdigest()

        response = await post(
            client, {"query": RAW_QUERY, "documentId": sha256}, headers
        )

        assert (response.status_code, response.json()) == (400, NOT_FOUND)

    async def test_hybrid_again(
        self, staff: Staff, tokens: Tokens, client: httpx.AsyncClient
    ) -> None:
        credentials, headers = await bank(tokens)
        await staff("operations", "mode", credentials.client_id, "--persisted-only")

        await staff("operations", "mode", credentials.client_id, "--hybrid")

        assert data_of(await post(client, {"query": RAW_QUERY}, headers)) == COUNT
