"""Every request to /graphql and /oauth/token leaves exactly one audit entry."""

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from auth.scopes import Purpose
from hub.enums import AgencyKind, RatingStatus
from hub.models import AuditEntry
from seeds import builders as b
from tests.conftest import Tokens
from tests.helpers import data_of, error_of, post_graphql

pytestmark = pytest.mark.anyio

LOOKUP = "query Lookup($code: String!) { enterprise(code: $code) { name currentRating { grade } } }"
RISK = "query($code: String!) { enterprise(code: $code) { name riskLevel { overallLevel } } }"
RATINGS = "{ ratings(first: 10) { nodes { grade } } }"


async def entry_for(db: AsyncSession, response: httpx.Response) -> AuditEntry:
    """The one entry of this response's request id."""
    request_id = response.headers["x-request-id"]
    entries = (
        await db.scalars(select(AuditEntry).where(AuditEntry.request_id == request_id))
    ).all()
    assert len(entries) == 1, entries
    return entries[0]


async def add_enterprise(db: AsyncSession) -> str:
    e = b.enterprise()
    db.add(e)
    await db.flush()
    db.add_all([b.rating(e), b.risk(e), b.rating(e, status=RatingStatus.DRAFT)])
    await db.commit()
    return e.code


class TestGraphQLEntries:
    async def test_anonymous_lookup(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        code = await add_enterprise(db)
        response = await post_graphql(client, LOOKUP, {"code": code})
        entry = await entry_for(db, response)
        assert (entry.kind, entry.outcome, entry.client_id, entry.purpose) == (
            "GRAPHQL",
            "OK",
            None,
            None,
        )
        assert entry.operation_name == "Lookup"
        assert entry.enterprises == [code]
        assert entry.variables == {"code": code}
        assert entry.fields == [
            "Enterprise.currentRating",
            "Enterprise.name",
            "Query.enterprise",
            "Rating.grade",
        ]
        assert entry.denied == []
        assert len(entry.document_sha256 or "") == 64

    async def test_bank_with_purpose_and_case(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        code = await add_enterprise(db)
        credentials = await tokens.register(
            AgencyKind.COMMERCIAL_BANK, name="工商银行无锡分行"
        )
        token = await tokens.issue(credentials)
        headers = {
            "Authorization": f"Bearer {token}",
            "Hub-Purpose": "loan_approval",
            "Hub-Case-Ref": "WX-2026-0042",
        }
        response = await post_graphql(client, RISK, {"code": code}, headers=headers)
        data_of(response)
        entry = await entry_for(db, response)
        assert entry.client_id == credentials.client_id
        assert (entry.agency_name, entry.agency_kind) == (
            "工商银行无锡分行",
            "COMMERCIAL_BANK",
        )
        assert (entry.purpose, entry.case_ref) == ("LOAN_APPROVAL", "WX-2026-0042")
        assert "risk:read" in entry.scopes
        assert entry.enterprises == [code]

    async def test_bank_without_purpose_is_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        code = await add_enterprise(db)
        token = await tokens.token(AgencyKind.COMMERCIAL_BANK)
        response = await post_graphql(
            client, LOOKUP, {"code": code}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": "state the purpose of this request in the Hub-Purpose header "
                    "(one of: LOAN_APPROVAL, POST_LOAN_MONITORING)",
                    "extensions": {
                        "code": "BAD_USER_INPUT",
                        "reason": "PURPOSE_REQUIRED",
                    },
                }
            ]
        }
        entry = await entry_for(db, response)
        assert (entry.outcome, entry.reason, entry.enterprises) == (
            "DENIED",
            "PURPOSE_REQUIRED",
            [],
        )
        assert entry.agency_kind == "COMMERCIAL_BANK"

    @pytest.mark.parametrize(
        ("purpose", "reason"),
        [
            (Purpose.INSURANCE_UNDERWRITING.value, "PURPOSE_NOT_ALLOWED"),
            ("GOSSIP", "PURPOSE_UNKNOWN"),
        ],
    )
    async def test_purpose_outside_the_catalogue(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        tokens: Tokens,
        purpose: str,
        reason: str,
    ) -> None:
        token = await tokens.token(AgencyKind.COMMERCIAL_BANK)
        headers = {"Authorization": f"Bearer {token}", "Hub-Purpose": purpose}
        response = await post_graphql(client, "{ __typename }", headers=headers)
        assert response.status_code == 400
        assert error_of(response)["extensions"]["reason"] == reason
        assert (await entry_for(db, response)).outcome == "DENIED"

    async def test_denied_fields_are_recorded(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        code = await add_enterprise(db)
        response = await post_graphql(client, RISK, {"code": code})
        entry = await entry_for(db, response)
        assert entry.outcome == "PARTIAL"
        assert entry.denied == ["Enterprise.riskLevel"]

    async def test_rows_returned_without_their_enterprise(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        code = await add_enterprise(db)
        response = await post_graphql(client, RATINGS)
        assert data_of(response)["ratings"]["nodes"] == [{"grade": "BLUE"}]
        assert (await entry_for(db, response)).enterprises == [code]

    async def test_invalid_token(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client, "{ __typename }", headers={"Authorization": "Bearer abc.def.ghi"}
        )
        assert response.status_code == 401
        entry = await entry_for(db, response)
        assert (entry.outcome, entry.reason) == ("DENIED", "TOKEN_MALFORMED")

    async def test_malformed_request_and_document(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        bad_json = await client.post(
            "/graphql", content=b"{", headers={"content-type": "application/json"}
        )
        bad_doc = await post_graphql(client, "{ nope }")
        assert (await entry_for(db, bad_json)).outcome == "INVALID"
        assert (await entry_for(db, bad_json)).reason == "BAD_REQUEST"
        assert (await entry_for(db, bad_doc)).outcome == "INVALID"

    async def test_secrets_and_contact_details_are_redacted(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await post_graphql(
            client,
            "query($code: String!) { enterprise(code: $code) { name } }",
            {
                "code": b.credit_code(5),
                "clientSecret": "hunter2",
                "nested": {"password": "x"},
                "contact": "13800000000",
                "filerEmail": "li@example.cn",
            },
        )
        entry = await entry_for(db, response)
        assert entry.variables == {
            "code": b.credit_code(5),
            "clientSecret": "[REDACTED]",
            "nested": {"password": "[REDACTED]"},
            "contact": "[REDACTED]",
            "filerEmail": "[REDACTED]",
        }

    async def test_graphiql_page_is_not_an_access(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        response = await client.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        found = (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.request_id == request_id)
            )
        ).all()
        assert found == []


class TestTokenEntries:
    async def test_issued_and_refused(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        credentials = await tokens.register(AgencyKind.INSURER)
        issued = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "ratings:read"},
            auth=(credentials.client_id, credentials.secret),
        )
        refused = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials.client_id, "wrong"),
        )
        assert issued.status_code == 200
        assert refused.status_code == 401
        ok = await entry_for(db, issued)
        bad = await entry_for(db, refused)
        assert (ok.kind, ok.outcome, ok.client_id, ok.scopes) == (
            "TOKEN",
            "OK",
            credentials.client_id,
            ["ratings:read"],
        )
        assert (bad.kind, bad.outcome, bad.reason) == (
            "TOKEN",
            "DENIED",
            "INVALID_CLIENT",
        )


class TestFailClosed:
    async def test_no_data_without_an_audit_entry(
        self, client: httpx.AsyncClient, db: AsyncSession, engine: object
    ) -> None:
        # given: the audit table cannot be written
        code = await add_enterprise(db)
        await db.execute(text("ALTER TABLE audit_entry RENAME TO audit_entry_away"))
        await db.commit()
        try:
            # when
            responses = [
                await post_graphql(client, LOOKUP, {"code": code}) for _ in range(20)
            ]
        finally:
            await db.execute(text("ALTER TABLE audit_entry_away RENAME TO audit_entry"))
            await db.commit()
        # then: not one answer carries data
        for response in responses:
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.json() == {
                "errors": [
                    {
                        "message": "The audit log cannot be written, so no data is returned; retry later.",
                        "extensions": {
                            "code": "AUDIT_UNAVAILABLE",
                            "reason": "AUDIT_UNAVAILABLE",
                            "requestId": response.headers["x-request-id"],
                        },
                    }
                ]
            }
        # and once repaired, answers flow again, each audited
        again = await post_graphql(client, LOOKUP, {"code": code})
        assert data_of(again)["enterprise"]["currentRating"] == {"grade": "BLUE"}
        assert (await entry_for(db, again)).outcome == "OK"


AUDIT_LOG = """
query($filter: AuditFilter) {
  auditLog(filter: $filter, first: 50) { totalCount nodes { seq agencyKind purpose enterprises outcome } }
}
"""
ACCESS_LOG = """
query($code: String!) {
  enterprise(code: $code) { accessLog(first: 50) { nodes { agencyName agencyKind purpose outcome } } }
}
"""


class TestReadingTheLog:
    async def test_credit_office_reads_the_log(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        code = await add_enterprise(db)
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK)
        await post_graphql(client, LOOKUP, {"code": code}, headers=bank)
        office = await tokens.headers(AgencyKind.CREDIT_OFFICE)
        response = await post_graphql(
            client, AUDIT_LOG, {"filter": {"enterpriseCode": code}}, headers=office
        )
        nodes = data_of(response)["auditLog"]["nodes"]
        assert [(n["agencyKind"], n["purpose"], n["enterprises"]) for n in nodes] == [
            ("COMMERCIAL_BANK", "LOAN_APPROVAL", [code])
        ]
        denied = await post_graphql(client, AUDIT_LOG, headers=bank)
        assert error_of(denied)["extensions"]["code"] == "FORBIDDEN"

    async def test_enterprise_sees_who_looked(
        self, client: httpx.AsyncClient, db: AsyncSession, tokens: Tokens
    ) -> None:
        own = await add_enterprise(db)
        other = await add_enterprise(db)
        bank = await tokens.headers(AgencyKind.COMMERCIAL_BANK, name="演示银行")
        await post_graphql(client, LOOKUP, {"code": own}, headers=bank)
        await post_graphql(client, LOOKUP, {"code": other}, headers=bank)
        me = await tokens.headers(AgencyKind.ENTERPRISE, enterprise_code=own)
        mine = await post_graphql(client, ACCESS_LOG, {"code": own}, headers=me)
        theirs = await post_graphql(client, ACCESS_LOG, {"code": other}, headers=me)
        assert data_of(mine)["enterprise"]["accessLog"]["nodes"] == [
            {
                "agencyName": "演示银行",
                "agencyKind": "COMMERCIAL_BANK",
                "purpose": "LOAN_APPROVAL",
                "outcome": "OK",
            }
        ]
        assert data_of(theirs) == {"enterprise": None}
