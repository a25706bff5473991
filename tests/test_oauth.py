"""The authorization server through the real app: token, revoke, introspect,
discovery and JWKS, key rotation, the external issuer, and the Caller a token
turns into."""

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.caller import Caller
from auth.clients import (
    add_external_client,
    create_agency,
    create_client,
    disable_client,
    rotate_secret,
)
from auth.directory import Directory
from auth.external import ExternalIssuer
from auth.keys import KeyStore, rotate_keys
from auth.middleware import Authenticator
from auth.scopes import PRESETS, Scope, format_scopes
from auth.tokens import LEEWAY_SECONDS
from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enums import AgencyKind
from hub.models import ExternalClient, OAuthClient
from tests.conftest import NOW, Credentials, Tokens
from tests.forge import (
    compact,
    decode,
    es256,
    hs256,
    new_ec_key,
    new_rsa_key,
    public_jwk,
    rs256,
    thumbprint,
    verify_es256,
)
from tests.helpers import without_cost

pytestmark = pytest.mark.anyio

T = int(NOW.timestamp())
ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = f"{ISSUER}/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TYPENAME = {"query": "{ __typename }"}
BANK_SCOPES = format_scopes(PRESETS[AgencyKind.COMMERCIAL_BANK])


async def post_token(
    client: httpx.AsyncClient,
    credentials: Credentials | None = None,
    **form: str,
) -> httpx.Response:
    """client_credentials with client_secret_basic (or only `form` if no credentials)."""
    data = {"grant_type": "client_credentials", **form}
    if credentials is None:
        return await client.post("/oauth/token", data=data)
    auth = (credentials.client_id, credentials.secret)
    return await client.post("/oauth/token", data=data, auth=auth)


async def graphql_with(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """`{ __typename }` as a bank asking for a loan decision would."""
    headers = {"Authorization": f"Bearer {token}", "Hub-Purpose": "LOAN_APPROVAL"}
    return await client.post("/graphql", json=TYPENAME, headers=headers)


async def jwks_of(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {k["kid"]: k for k in response.json()["keys"]}


def assert_token_response(response: httpx.Response, scope: str) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "Bearer",
        "expires_in": 900,
        "scope": scope,
    }
    token: str = body["access_token"]
    return token


def assert_oauth_error(
    response: httpx.Response, status: int, error: str
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert set(body) <= {"error", "error_description"}
    return body


class TestClientSecretBasic:
    async def test_token_claims(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        bank = await tokens.register(AgencyKind.COMMERCIAL_BANK)

        # when
        response = await post_token(client, bank)

        # then: an RFC 9068 JWT signed by a key the JWKS publishes
        token = assert_token_response(response, BANK_SCOPES)
        header, claims = decode(token)
        keys = await jwks_of(client)
        assert header == {"alg": "ES256", "typ": "at+jwt", "kid": header["kid"]}
        assert verify_es256(token, keys[header["kid"]])
        assert claims == {
            "iss": ISSUER,
            "aud": "ecredit-hub",
            "sub": bank.client_id,
            "client_id": bank.client_id,
            "scope": BANK_SCOPES,
            "jti": claims["jti"],
            "iat": T,
            "exp": T + 900,
        }

    async def test_each_token_has_its_own_jti(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()
        first = decode(await tokens.issue(bank))[1]["jti"]
        second = decode(await tokens.issue(bank))[1]["jti"]
        assert first != second

    async def test_wrong_secret(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await post_token(client, replace(bank, secret="not-the-secret"))

        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith(
            'Basic error="invalid_client"'
        )

    async def test_unknown_client(self, client: httpx.AsyncClient) -> None:
        ghost = Credentials("no-such-client", "secret", 0, "nobody")

        response = await post_token(client, ghost)

        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic ")

    async def test_disabled_client(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given
        bank = await tokens.register()
        await disable_client(db, bank.client_id, now=NOW)
        await db.commit()

        # when
        response = await post_token(client, bank)

        # then
        assert_oauth_error(response, 401, "invalid_client")

    async def test_rotated_secret(
        self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
    ) -> None:
        # given
        bank = await tokens.register()
        new_secret = await rotate_secret(db, bank.client_id, now=NOW)
        await db.commit()

        # when
        old = await post_token(client, bank)
        new = await post_token(client, replace(bank, secret=new_secret))

        # then
        assert_oauth_error(old, 401, "invalid_client")
        assert_token_response(new, BANK_SCOPES)


class TestClientSecretPost:
    async def test_token_claims(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await post_token(
            client, client_id=bank.client_id, client_secret=bank.secret
        )

        token = assert_token_response(response, BANK_SCOPES)
        assert decode(token)[1]["client_id"] == bank.client_id

    async def test_wrong_secret(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await post_token(
            client, client_id=bank.client_id, client_secret="wrong"
        )

        assert_oauth_error(response, 401, "invalid_client")

    async def test_two_methods_at_once(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # RFC 6749 §2.3: one authentication method per request
        bank = await tokens.register()

        response = await post_token(
            client, bank, client_id=bank.client_id, client_secret=bank.secret
        )

        assert_oauth_error(response, 400, "invalid_request")


class TestRequestShape:
    async def test_unsupported_grant(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "a", "password": "b"},
            auth=(bank.client_id, bank.secret),
        )

        assert_oauth_error(response, 400, "unsupported_grant_type")

    async def test_json_body(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        bank = await tokens.register()

        response = await client.post(
            "/oauth/token",
            json={"grant_type": "client_credentials"},
            auth=(bank.client_id, bank.secret),
        )

        assert_oauth_error(response, 400, "invalid_request")

    async def test_repeated_parameter(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await client.post(
            "/oauth/token",
            content="grant_type=client_credentials&scope=risk:read&scope=audit:read",
            headers={"content-type": "application/x-www-form-urlencoded"},
            auth=(bank.client_id, bank.secret),
        )

        assert_oauth_error(response, 400, "invalid_request")

    async def test_oversized_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "x": "y" * 20000}
        )

        assert_oauth_error(response, 413, "invalid_request")

    async def test_get_is_not_allowed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/oauth/token")

        assert response.status_code == 405


class TestScope:
    async def test_subset(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        bank = await tokens.register()

        response = await post_token(client, bank, scope="risk:read ratings:read")

        token = assert_token_response(response, "ratings:read risk:read")
        assert decode(token)[1]["scope"] == "ratings:read risk:read"

    async def test_missing_means_all(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        insurer = await tokens.register(AgencyKind.INSURER)

        response = await post_token(client, insurer)

        assert_token_response(response, format_scopes(PRESETS[AgencyKind.INSURER]))

    async def test_unknown_scope(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await post_token(client, bank, scope="ratings:read root")

        assert_oauth_error(response, 400, "invalid_scope")

    async def test_beyond_the_client(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register(scopes=frozenset({Scope.ratings_read}))

        response = await post_token(client, bank, scope="ratings:read risk:read")

        body = assert_oauth_error(response, 400, "invalid_scope")
        assert body["error_description"] == "The client may not request: risk:read"


@pytest.fixture
def client_key() -> ec.EllipticCurvePrivateKey:
    return new_ec_key()


@pytest.fixture
async def jwt_client(
    sessionmaker: async_sessionmaker[AsyncSession],
    client_key: ec.EllipticCurvePrivateKey,
) -> str:
    """A bank client that authenticates with private_key_jwt only."""
    async with sessionmaker() as session:
        agency = await create_agency(
            session, name="Bank with keys", kind=AgencyKind.COMMERCIAL_BANK, now=NOW
        )
        made = await create_client(
            session,
            agency=agency,
            jwks={"keys": [public_jwk(client_key, kid="bank-2026")]},
            now=NOW,
        )
        await session.commit()
    assert made.secret is None
    return made.client.client_id


def assertion(client_id: str, key: ec.EllipticCurvePrivateKey, **claims: Any) -> str:
    """An RFC 7523 §3 client assertion, valid unless `claims` says otherwise."""
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "jti": secrets.token_urlsafe(8),
        "iat": T,
        "exp": T + 60,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return compact({"alg": "ES256", "kid": "bank-2026"}, body, es256(key))


async def post_assertion(client: httpx.AsyncClient, signed: str) -> httpx.Response:
    return await post_token(
        client, client_assertion_type=ASSERTION_TYPE, client_assertion=signed
    )


class TestPrivateKeyJwt:
    async def test_token_claims(
        self,
        client: httpx.AsyncClient,
        jwt_client: str,
        client_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        response = await post_assertion(client, assertion(jwt_client, client_key))

        token = assert_token_response(response, BANK_SCOPES)
        claims = decode(token)[1]
        assert (claims["sub"], claims["client_id"]) == (jwt_client, jwt_client)

    async def test_issuer_as_audience(
        self,
        client: httpx.AsyncClient,
        jwt_client: str,
        client_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        signed = assertion(jwt_client, client_key, aud=ISSUER)

        response = await post_assertion(client, signed)

        assert_token_response(response, BANK_SCOPES)

    async def test_replayed_assertion(
        self,
        client: httpx.AsyncClient,
        jwt_client: str,
        client_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        # given an assertion used once
        signed = assertion(jwt_client, client_key)
        assert (await post_assertion(client, signed)).status_code == 200

        # when it is sent again
        response = await post_assertion(client, signed)

        # then: invalid_client, 400 as no Authorization header was used (§5.2)
        body = assert_oauth_error(response, 400, "invalid_client")
        assert body["error_description"] == "The assertion was already used."

    @pytest.mark.parametrize(
        "claims",
        [
            {"exp": None},
            {"exp": T - 31},
            {"aud": "https://elsewhere.example/token"},
            {"jti": None},
            {"iss": "someone-else"},
            {"exp": T + 7200},
        ],
        ids=["no-exp", "expired", "wrong-aud", "no-jti", "iss-not-sub", "too-long"],
    )
    async def test_invalid_assertion(
        self,
        client: httpx.AsyncClient,
        jwt_client: str,
        client_key: ec.EllipticCurvePrivateKey,
        claims: dict[str, Any],
    ) -> None:
        response = await post_assertion(
            client, assertion(jwt_client, client_key, **claims)
        )

        assert_oauth_error(response, 400, "invalid_client")

    async def test_signed_by_another_key(
        self, client: httpx.AsyncClient, jwt_client: str
    ) -> None:
        response = await post_assertion(client, assertion(jwt_client, new_ec_key()))

        assert_oauth_error(response, 400, "invalid_client")

    async def test_hs256_with_the_public_key(
        self,
        client: httpx.AsyncClient,
        jwt_client: str,
        client_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        header, claims = decode(assertion(jwt_client, client_key))
        public = json.dumps(public_jwk(client_key, kid="bank-2026")).encode()
        forged = compact({**header, "alg": "HS256"}, claims, hs256(public))

        response = await post_assertion(client, forged)

        assert_oauth_error(response, 400, "invalid_client")

    async def test_no_secret_for_a_key_client(
        self, client: httpx.AsyncClient, jwt_client: str
    ) -> None:
        response = await post_token(
            client, client_id=jwt_client, client_secret="anything"
        )

        assert_oauth_error(response, 401, "invalid_client")


class TestDiscovery:
    async def test_metadata(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/.well-known/oauth-authorization-server")

        methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
        algorithms = ["ES256", "RS256"]
        assert response.status_code == 200
        assert response.json() == {
            "issuer": ISSUER,
            "token_endpoint": TOKEN_URL,
            "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
            "revocation_endpoint": f"{ISSUER}/oauth/revoke",
            "introspection_endpoint": f"{ISSUER}/oauth/introspect",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": algorithms,
            "revocation_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
            "introspection_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
            "scopes_supported": sorted(s.value for s in Scope),
        }

    async def test_jwks_holds_public_keys_only(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        keys = await jwks_of(client)

        ((kid, jwk),) = keys.items()
        assert jwk == {
            "kty": "EC",
            "crv": "P-256",
            "x": jwk["x"],
            "y": jwk["y"],
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        }
        assert kid == thumbprint(jwk)
        (path,) = settings.keys_dir.glob("key-*.pem")
        assert path.stat().st_mode & 0o777 == 0o600


class TestKeyRotation:
    async def test_old_tokens_live_until_they_expire(
        self,
        client: httpx.AsyncClient,
        tokens: Tokens,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given a token signed before a rotation
        bank = await tokens.register()
        old = await tokens.issue(bank)
        rotation = rotate_keys(settings.keys_dir, now=NOW, token_ttl=900, leeway=30)

        # when
        new = await tokens.issue(bank)

        # then: new tokens carry the new kid, both keys are published, both work
        old_kid, new_kid = decode(old)[0]["kid"], decode(new)[0]["kid"]
        assert new_kid == rotation.added.kid != old_kid
        assert set(await jwks_of(client)) == {old_kid, new_kid}
        assert (await graphql_with(client, old)).status_code == 200
        assert (await graphql_with(client, new)).status_code == 200

        # and once the old token has expired it is refused for that reason
        later = replace(settings, clock=lambda: NOW + timedelta(seconds=900 + 31))
        app = create_app(later, sessionmaker=sessionmaker)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            response = await graphql_with(c, old)
        assert response.json()["errors"][0]["extensions"]["reason"] == "TOKEN_EXPIRED"

    async def test_rotation_removes_keys_whose_tokens_expired(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        # given the first key, retired by a rotation now
        (first,) = await jwks_of(client)
        second = rotate_keys(settings.keys_dir, now=NOW, token_ttl=900, leeway=30)
        assert second.removed == ()

        # when the next rotation comes a month later
        month = NOW + timedelta(days=30)
        third = rotate_keys(settings.keys_dir, now=month, token_ttl=900, leeway=30)

        # then the first key's tokens have all expired: it goes; the second stays
        assert [k.kid for k in third.removed] == [first]
        assert set(await jwks_of(client)) == {second.added.kid, third.added.kid}


class TestRevocation:
    async def test_revoked_token_is_refused(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given
        bank = await tokens.register()
        token = await tokens.issue(bank)
        assert (await graphql_with(client, token)).status_code == 200

        # when
        response = await client.post(
            "/oauth/revoke", data={"token": token}, auth=(bank.client_id, bank.secret)
        )

        # then
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        refused = await graphql_with(client, token)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"

    async def test_revoking_twice(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()
        token = await tokens.issue(bank)
        auth = (bank.client_id, bank.secret)

        first = await client.post("/oauth/revoke", data={"token": token}, auth=auth)
        second = await client.post("/oauth/revoke", data={"token": token}, auth=auth)

        assert (first.status_code, second.status_code) == (200, 200)

    async def test_token_of_another_client_is_ignored(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        # given two banks
        mine, theirs = await tokens.register(), await tokens.register()
        their_token = await tokens.issue(theirs)

        # when one tries to revoke the other's token
        response = await client.post(
            "/oauth/revoke",
            data={"token": their_token},
            auth=(mine.client_id, mine.secret),
        )

        # then it is answered like an invalid token, and nothing happens
        assert response.status_code == 200
        assert (await graphql_with(client, their_token)).status_code == 200

    async def test_garbage_token(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()

        response = await client.post(
            "/oauth/revoke",
            data={"token": "not-a-token"},
            auth=(bank.client_id, bank.secret),
        )

        assert response.status_code == 200

    async def test_needs_client_authentication(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        token = await tokens.token()

        response = await client.post("/oauth/revoke", data={"token": token})

        assert_oauth_error(response, 401, "invalid_client")

    @pytest.mark.parametrize("hint", ["refresh_token", "id_token"])
    async def test_hint_is_only_a_hint(
        self, client: httpx.AsyncClient, tokens: Tokens, hint: str
    ) -> None:
        # RFC 7009 §2.1: a wrong or unknown hint does not change the outcome
        bank = await tokens.register()
        token = await tokens.issue(bank)

        response = await client.post(
            "/oauth/revoke",
            data={"token": token, "token_type_hint": hint},
            auth=(bank.client_id, bank.secret),
        )

        assert response.status_code == 200
        assert (await graphql_with(client, token)).status_code == 401


class TestIntrospection:
    async def test_own_token(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        bank = await tokens.register()
        token = await tokens.issue(bank, scope="ratings:read")

        response = await client.post(
            "/oauth/introspect",
            data={"token": token},
            auth=(bank.client_id, bank.secret),
        )

        assert response.status_code == 200
        assert response.json() == {
            "active": True,
            "token_type": "Bearer",
            "scope": "ratings:read",
            "client_id": bank.client_id,
            "sub": bank.client_id,
            "aud": "ecredit-hub",
            "iss": ISSUER,
            "exp": T + 900,
            "iat": T,
            "jti": decode(token)[1]["jti"],
        }

    async def test_other_clients_token(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        mine, theirs = await tokens.register(), await tokens.register()
        their_token = await tokens.issue(theirs)

        response = await client.post(
            "/oauth/introspect",
            data={"token": their_token},
            auth=(mine.client_id, mine.secret),
        )

        assert response.json() == {"active": False}

    async def test_revoked_token(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        bank = await tokens.register()
        token = await tokens.issue(bank)
        auth = (bank.client_id, bank.secret)
        await client.post("/oauth/revoke", data={"token": token}, auth=auth)

        response = await client.post(
            "/oauth/introspect", data={"token": token}, auth=auth
        )

        assert response.json() == {"active": False}

    async def test_expired_and_invalid(
        self,
        tokens: Tokens,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        bank = await tokens.register()
        token = await tokens.issue(bank)
        auth = (bank.client_id, bank.secret)
        later = replace(settings, clock=lambda: NOW + timedelta(seconds=931))
        transport = httpx.ASGITransport(
            app=create_app(later, sessionmaker=sessionmaker)
        )
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            expired = await c.post(
                "/oauth/introspect", data={"token": token}, auth=auth
            )
            garbage = await c.post("/oauth/introspect", data={"token": "x"}, auth=auth)

        assert expired.json() == {"active": False}
        assert garbage.json() == {"active": False}


class TestGraphqlWithToken:
    async def test_bank_token(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        token = await tokens.token(AgencyKind.COMMERCIAL_BANK)

        response = await graphql_with(client, token)

        assert without_cost(response) == {"data": {"__typename": "Query"}}

    async def test_broken_token(
        self, client: httpx.AsyncClient, tokens: Tokens
    ) -> None:
        token = await tokens.token()

        response = await graphql_with(client, token[:-4] + "AAAA")

        assert response.status_code == 401
        assert "data" not in response.json()

    async def test_oauth_paths_are_not_guarded(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/.well-known/jwks.json", headers={"Authorization": "Bearer nonsense"}
        )

        assert response.status_code == 200


@pytest.fixture
def authenticator(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Authenticator:
    """The middleware's authenticator, built as create_app builds it."""
    keys = KeyStore(settings.keys_dir, refresh_seconds=0, clock=settings.clock)
    return Authenticator(
        settings,
        keys=keys,
        directory=Directory(sessionmaker, ttl=0),
        external=ExternalIssuer.from_settings(settings),
    )


class TestCaller:
    async def test_bank(self, tokens: Tokens, authenticator: Authenticator) -> None:
        bank = await tokens.register(
            AgencyKind.COMMERCIAL_BANK, name="江苏银行无锡分行"
        )
        token = await tokens.issue(bank, scope="ratings:read penalties:read")

        caller = await authenticator.caller(token)

        assert caller == Caller.for_agency(
            kind=AgencyKind.COMMERCIAL_BANK,
            scopes=frozenset({Scope.ratings_read, Scope.penalties_read}),
            client_id=bank.client_id,
            agency_id=bank.agency_id,
            agency_name="江苏银行无锡分行",
            district_code=None,
            enterprise_code=None,
        )
        assert caller.token_id == decode(token)[1]["jti"]
        assert caller.published_only

    async def test_county_bureau(
        self, tokens: Tokens, authenticator: Authenticator
    ) -> None:
        token = await tokens.token(AgencyKind.COUNTY_EPB, district="320205")

        caller = await authenticator.caller(token)

        assert caller.districts == frozenset({"320205"})
        assert not caller.published_only
        assert caller.scopes == PRESETS[AgencyKind.COUNTY_EPB]

    async def test_scopes_narrowed_to_the_clients_current_scopes(
        self, tokens: Tokens, authenticator: Authenticator, db: AsyncSession
    ) -> None:
        # given a token, then the client loses a scope
        bank = await tokens.register()
        token = await tokens.issue(bank, scope="ratings:read risk:read")
        client_row = await db.scalar(
            select(OAuthClient).where(OAuthClient.client_id == bank.client_id)
        )
        assert client_row is not None
        client_row.scopes = "ratings:read"
        await db.commit()

        # when
        caller = await authenticator.caller(token)

        # then
        assert caller.scopes == frozenset({Scope.ratings_read})


EXTERNAL_ISSUER = "https://idp.jiangsu.example/realms/gov"


@pytest.fixture
def idp_key() -> rsa.RSAPrivateKey:
    return new_rsa_key()


@pytest.fixture
async def external_client(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    idp_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app trusting one external issuer, whose keys are in a local file."""
    jwks_file = tmp_path / "idp-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [public_jwk(idp_key, kid="idp-1")]}))
    trusting = replace(
        settings, external_issuer=EXTERNAL_ISSUER, external_jwks_file=jwks_file
    )
    async with sessionmaker() as session:
        agency = await create_agency(
            session, name="苏州银行", kind=AgencyKind.COMMERCIAL_BANK, now=NOW
        )
        await add_external_client(
            session,
            issuer=EXTERNAL_ISSUER,
            subject="suzhou-bank-app",
            agency_name=agency.name,
            scopes=frozenset({Scope.ratings_read, Scope.risk_read}),
        )
        await session.commit()
    transport = httpx.ASGITransport(app=create_app(trusting, sessionmaker=sessionmaker))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c


def external_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    body = {
        "iss": EXTERNAL_ISSUER,
        "aud": "ecredit-hub",
        "sub": "suzhou-bank-app",
        "client_id": "suzhou-bank-app",
        "scope": "ratings:read penalties:read",
        "jti": secrets.token_urlsafe(8),
        "iat": T,
        "exp": T + 300,
        **claims,
    }
    return compact({"alg": "RS256", "typ": "at+jwt", "kid": "idp-1"}, body, rs256(key))


class TestExternalIssuer:
    async def test_mapped_subject(
        self, external_client: httpx.AsyncClient, idp_key: rsa.RSAPrivateKey
    ) -> None:
        response = await graphql_with(external_client, external_token(idp_key))

        assert without_cost(response) == {"data": {"__typename": "Query"}}

    async def test_unmapped_subject(
        self, external_client: httpx.AsyncClient, idp_key: rsa.RSAPrivateKey
    ) -> None:
        token = external_token(idp_key, sub="stranger", client_id="stranger")

        response = await graphql_with(external_client, token)

        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["reason"] == "UNKNOWN_CLIENT"

    async def test_disabled_mapping(
        self,
        external_client: httpx.AsyncClient,
        idp_key: rsa.RSAPrivateKey,
        db: AsyncSession,
    ) -> None:
        mapping = await db.scalar(select(ExternalClient))
        assert mapping is not None
        mapping.disabled_at = NOW
        await db.commit()

        response = await graphql_with(external_client, external_token(idp_key))

        assert response.json()["errors"][0]["extensions"]["reason"] == "CLIENT_DISABLED"

    async def test_key_pinned_to_rs256(
        self, external_client: httpx.AsyncClient, idp_key: rsa.RSAPrivateKey
    ) -> None:
        header, claims = decode(external_token(idp_key))
        forged = compact({**header, "alg": "ES256"}, claims, es256(new_ec_key()))

        response = await graphql_with(external_client, forged)

        reason = response.json()["errors"][0]["extensions"]["reason"]
        assert reason == "ALGORITHM_NOT_ALLOWED"

    async def test_signed_by_someone_else(
        self, external_client: httpx.AsyncClient
    ) -> None:
        response = await graphql_with(external_client, external_token(new_rsa_key()))

        assert response.json()["errors"][0]["extensions"]["reason"] == "BAD_SIGNATURE"

    async def test_wrong_audience(
        self, external_client: httpx.AsyncClient, idp_key: rsa.RSAPrivateKey
    ) -> None:
        token = external_token(idp_key, aud="another-api")

        response = await graphql_with(external_client, token)

        assert response.json()["errors"][0]["extensions"]["reason"] == "WRONG_AUDIENCE"

    async def test_effective_scopes(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        external_client: httpx.AsyncClient,
        idp_key: rsa.RSAPrivateKey,
        tmp_path: Path,
    ) -> None:
        # the token asks ratings:read + penalties:read; the mapping grants
        # ratings:read + risk:read: the caller holds the intersection
        trusting = replace(
            settings,
            external_issuer=EXTERNAL_ISSUER,
            external_jwks_file=tmp_path / "idp-jwks.json",
        )
        authenticator = Authenticator(
            trusting,
            keys=KeyStore(trusting.keys_dir, refresh_seconds=0, clock=trusting.clock),
            directory=Directory(sessionmaker, ttl=0),
            external=ExternalIssuer.from_settings(trusting),
        )

        caller = await authenticator.caller(external_token(idp_key))

        assert caller.scopes == frozenset({Scope.ratings_read})
        assert caller.agency_name == "苏州银行"
        assert caller.client_id == "suzhou-bank-app"


@asynccontextmanager
async def worker(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """Another app process on the same database and key directory."""
    transport = httpx.ASGITransport(app=create_app(settings, sessionmaker=sessionmaker))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
        yield c


async def seconds_until_refused(client: httpx.AsyncClient, token: str) -> float:
    """Probe every 20 ms until the token is refused; the time it took."""
    started = time.monotonic()
    while (await graphql_with(client, token)).status_code == 200:
        assert time.monotonic() - started < 5, "never refused"
        await anyio.sleep(0.02)
    return time.monotonic() - started


class TestPropagationBudget:
    """RELIABILITY.md B2: a revocation or a disabled client reaches every worker
    within HUB_AUTH_CACHE_SECONDS (0.3 s here)."""

    BUDGET = 0.3

    async def test_revocation(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
    ) -> None:
        cached = replace(settings, auth_cache_seconds=self.BUDGET)
        async with worker(cached, sessionmaker) as a, worker(cached, sessionmaker) as b:
            # given a token both workers have accepted (and cached)
            bank = await tokens.register()
            token = await tokens.issue(bank)
            assert (await graphql_with(a, token)).status_code == 200
            assert (await graphql_with(b, token)).status_code == 200

            # when worker a revokes it
            revoked = await a.post(
                "/oauth/revoke",
                data={"token": token},
                auth=(bank.client_id, bank.secret),
            )
            assert revoked.status_code == 200

            # then a refuses it at once, b within the budget
            assert (await graphql_with(a, token)).status_code == 401
            assert await seconds_until_refused(b, token) < self.BUDGET + 0.5

    async def test_a_verified_token_still_expires(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
    ) -> None:
        """The verified-token cache (auth/verified.py) never outlives `exp`."""
        now = [NOW]
        cached = replace(settings, auth_cache_seconds=3600, clock=lambda: now[0])
        async with worker(cached, sessionmaker) as a:
            # given a token the worker has verified (and cached)
            token = await tokens.issue(await tokens.register())
            assert (await graphql_with(a, token)).status_code == 200
            # when its lifetime (and the leeway) is over, well within the cache's hour
            now[0] = NOW + timedelta(
                seconds=settings.token_ttl_seconds + LEEWAY_SECONDS + 1
            )
            refused = await graphql_with(a, token)
            # then
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["extensions"]["reason"] == (
                "TOKEN_EXPIRED"
            )

    async def test_disabled_client(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        db: AsyncSession,
    ) -> None:
        cached = replace(settings, auth_cache_seconds=self.BUDGET)
        async with worker(cached, sessionmaker) as a:
            # given a token the worker has accepted (and cached)
            bank = await tokens.register()
            token = await tokens.issue(bank)
            assert (await graphql_with(a, token)).status_code == 200

            # when the client is disabled elsewhere (`hub client disable`)
            await disable_client(db, bank.client_id, now=NOW)
            await db.commit()

            # then the worker refuses its tokens within the budget
            assert await seconds_until_refused(a, token) < self.BUDGET + 0.5


class TestDatabaseUnavailable:
    async def test_token_endpoint(self, settings: Settings) -> None:
        down = replace(
            settings, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/x"
        )
        engine = create_engine(down)
        app = create_app(down, sessionmaker=create_sessionmaker(engine))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub.test"
        ) as c:
            response = await c.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("some-client", "some-secret"),
            )
        await engine.dispose()

        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"] == "temporarily_unavailable"
        assert "127.0.0.1" not in response.text
