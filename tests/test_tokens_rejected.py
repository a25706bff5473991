"""RELIABILITY.md B1: forged and invalid bearer tokens on /graphql.

Every token here is refused with exactly 401, `WWW-Authenticate: Bearer
realm="hub", error="invalid_token"`, `extensions.code = UNAUTHENTICATED`, a
stable `extensions.reason` and no `data`. Tokens are built by hand
(tests/forge.py): signed with the hub's real key when only one thing is
meant to be wrong, with an attacker's key or none otherwise.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from auth.clients import disable_client
from auth.keys import rotate_keys
from hub.config import Settings
from tests.conftest import NOW, Tokens
from tests.forge import (
    b64url,
    compact,
    decode,
    es256,
    hs256,
    new_ec_key,
    new_rsa_key,
    public_jwk,
    public_pem,
    read_private_key,
    rs256,
    segment,
    thumbprint,
)
from tests.helpers import without_cost

pytestmark = pytest.mark.anyio

TYPENAME = '{"query": "{ __typename }"}'
T = int(NOW.timestamp())
LEEWAY = 30
DROP = object()
ATTACKER = new_ec_key()
ATTACKER_RSA = new_rsa_key()


@dataclass(frozen=True, slots=True)
class Forgery:
    """The hub's real signing key and the claims of a real token."""

    key: ec.EllipticCurvePrivateKey
    kid: str
    claims: dict[str, Any]

    def header(self, **changes: Any) -> dict[str, Any]:
        return _changed({"alg": "ES256", "typ": "at+jwt", "kid": self.kid}, changes)

    def signed(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        """A token signed with the hub's key: only what the test changes is wrong."""
        return bearer(
            compact(
                header or self.header(), _changed(self.claims, claims), es256(self.key)
            )
        )


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    authorization: Callable[[Forgery], str]
    reason: str


def bearer(token: str) -> str:
    return f"Bearer {token}"


def _changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = {**base, **changes}
    return {k: v for k, v in result.items() if v is not DROP}


def _hs256_with_public_pem(f: Forgery) -> str:
    return bearer(compact(f.header(alg="HS256"), f.claims, hs256(public_pem(f.key))))


def _attacker_es256(f: Forgery, **header: Any) -> str:
    return bearer(compact(f.header(**header), f.claims, es256(ATTACKER)))


def _payload_swapped(f: Forgery) -> str:
    header, _, signature = f.signed().removeprefix("Bearer ").split(".")
    richer = {**f.claims, "scope": f.claims["scope"] + " ratings:publish"}
    return bearer(f"{header}.{segment(richer)}.{signature}")


def _duplicate_claims(f: Forgery) -> str:
    # Last-wins parsers would read the second client_id; the hub refuses both.
    text = json_text(f.claims).replace('"scope"', '"client_id":"someone-else","scope"')
    return bearer(compact(f.header(), text, es256(f.key)))


def _duplicate_header(f: Forgery) -> str:
    text = f'{{"alg":"none","typ":"at+jwt","kid":"{f.kid}","alg":"ES256"}}'
    return bearer(compact(text, f.claims, es256(f.key)))


def _json_serialization(f: Forgery) -> str:
    header, payload, signature = f.signed().removeprefix("Bearer ").split(".")
    return bearer(
        f'{{"payload":"{payload}","signatures":[{{"protected":"{header}",'
        f'"signature":"{signature}"}}]}}'
    )


def _jwe(f: Forgery) -> str:
    header = segment({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": f.kid})
    return bearer(".".join([header, b64url(b"k" * 256), b64url(b"i" * 12), "abc", "t"]))


def _huge_header(f: Forgery) -> str:
    return bearer(compact(f.header(pad="x" * 2_000_000), f.claims, es256(f.key)))


def json_text(claims: dict[str, Any]) -> str:
    return "{" + ",".join(f'"{k}":{_json(v)}' for k, v in claims.items()) + "}"


def _json(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


CASES = [
    Case(
        "alg-none",
        lambda f: bearer(compact(f.header(alg="none"), f.claims, None)),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case(
        "alg-None",
        lambda f: bearer(compact(f.header(alg="None"), f.claims, None)),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case(
        "alg-NONE",
        lambda f: bearer(compact(f.header(alg="NONE"), f.claims, None)),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case(
        "alg-none-with-real-signature",
        lambda f: bearer(compact(f.header(alg="none"), f.claims, es256(f.key))),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case("hs256-public-pem", _hs256_with_public_pem, "ALGORITHM_NOT_ALLOWED"),
    Case(
        "hs256-empty-key",
        lambda f: bearer(compact(f.header(alg="HS256"), f.claims, hs256(b""))),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case(
        "rs256-attacker-key",
        lambda f: bearer(compact(f.header(alg="RS256"), f.claims, rs256(ATTACKER_RSA))),
        "ALGORITHM_NOT_ALLOWED",
    ),
    Case("es256-attacker-key-our-kid", _attacker_es256, "BAD_SIGNATURE"),
    Case(
        "unknown-kid",
        lambda f: _attacker_es256(f, kid=thumbprint(public_jwk(ATTACKER))),
        "UNKNOWN_KEY",
    ),
    Case(
        "kid-path-traversal",
        lambda f: _attacker_es256(f, kid="../../../../../../etc/passwd"),
        "UNKNOWN_KEY",
    ),
    Case(
        "kid-sql",
        lambda f: _attacker_es256(f, kid="x' UNION SELECT 'secret' --"),
        "UNKNOWN_KEY",
    ),
    Case("kid-missing", lambda f: f.signed(f.header(kid=DROP)), "UNKNOWN_KEY"),
    Case("kid-not-a-string", lambda f: f.signed(f.header(kid=1)), "UNKNOWN_KEY"),
    Case(
        "jwk-embedded",
        lambda f: _attacker_es256(f, jwk=public_jwk(ATTACKER)),
        "HEADER_NOT_ALLOWED",
    ),
    Case(
        "crit-unknown",
        lambda f: f.signed(f.header(crit=["urn:x:forged"], **{"urn:x:forged": 1})),
        "HEADER_NOT_ALLOWED",
    ),
    Case(
        "x5c-embedded",
        lambda f: _attacker_es256(f, x5c=["MIIBkTCB+wIJAKHHIG"]),
        "HEADER_NOT_ALLOWED",
    ),
    Case(
        "expired",
        lambda f: f.signed(iat=T - 1000, exp=T - LEEWAY - 1),
        "TOKEN_EXPIRED",
    ),
    Case("nbf-future", lambda f: f.signed(nbf=T + LEEWAY + 60), "TOKEN_NOT_YET_VALID"),
    Case(
        "iat-far-future",
        lambda f: f.signed(iat=T + 86400, exp=T + 86400 + 900),
        "TOKEN_NOT_YET_VALID",
    ),
    Case("wrong-aud", lambda f: f.signed(aud="another-service"), "WRONG_AUDIENCE"),
    Case("wrong-iss", lambda f: f.signed(iss="https://evil.example"), "WRONG_ISSUER"),
    Case("missing-exp", lambda f: f.signed(exp=DROP), "MISSING_CLAIM"),
    Case("missing-aud", lambda f: f.signed(aud=DROP), "MISSING_CLAIM"),
    Case("missing-jti", lambda f: f.signed(jti=DROP), "MISSING_CLAIM"),
    Case("missing-scope", lambda f: f.signed(scope=DROP), "MISSING_CLAIM"),
    Case("exp-as-string", lambda f: f.signed(exp=str(T + 900)), "INVALID_CLAIM"),
    Case("sub-not-client", lambda f: f.signed(sub="another-client"), "INVALID_CLAIM"),
    Case(
        "unregistered-client",
        lambda f: f.signed(sub="ghost", client_id="ghost"),
        "UNKNOWN_CLIENT",
    ),
    Case("typ-JWT", lambda f: f.signed(f.header(typ="JWT")), "WRONG_TOKEN_TYPE"),
    Case("typ-missing", lambda f: f.signed(f.header(typ=DROP)), "WRONG_TOKEN_TYPE"),
    Case(
        "signature-stripped",
        lambda f: f.signed().rpartition(".")[0] + ".",
        "BAD_SIGNATURE",
    ),
    Case("payload-swapped", _payload_swapped, "BAD_SIGNATURE"),
    Case(
        "two-segments",
        lambda f: f.signed().rpartition(".")[0],
        "TOKEN_MALFORMED",
    ),
    Case("jws-json-serialization", _json_serialization, "TOKEN_MALFORMED"),
    Case("jwe", _jwe, "TOKEN_MALFORMED"),
    Case("duplicate-claims", _duplicate_claims, "TOKEN_MALFORMED"),
    Case("duplicate-header-alg", _duplicate_header, "TOKEN_MALFORMED"),
    Case(
        "exp-NaN",
        lambda f: bearer(
            compact(
                f.header(),
                json_text(f.claims | {"exp": "NaN"}).replace('"NaN"', "NaN"),
                es256(f.key),
            )
        ),
        "TOKEN_MALFORMED",
    ),
    Case(
        "payload-not-json",
        lambda f: bearer(compact(f.header(), "not json", es256(f.key))),
        "TOKEN_MALFORMED",
    ),
    Case("header-2MB", _huge_header, "TOKEN_TOO_LARGE"),
    Case(
        "basic-scheme",
        lambda f: "Basic " + f.signed().removeprefix("Bearer "),
        "UNSUPPORTED_SCHEME",
    ),
    Case("empty-bearer", lambda f: "Bearer ", "TOKEN_MALFORMED"),
    Case("bare-bearer", lambda f: "Bearer", "TOKEN_MALFORMED"),
]


@pytest.fixture
async def forgery(tokens: Tokens, settings: Settings) -> Forgery:
    real = await tokens.token()
    (path,) = settings.keys_dir.glob("key-*.pem")
    key = read_private_key(path)
    _, claims = decode(real)
    return Forgery(key, thumbprint(public_jwk(key)), claims)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def auth_log() -> Iterator[list[logging.LogRecord]]:
    """What hub.auth logs during the test (whatever the logging setup)."""
    logger = logging.getLogger("hub.auth")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def get_typename(client: httpx.AsyncClient, authorization: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=TYPENAME,
        headers={
            "content-type": "application/json",
            "authorization": authorization,
            "hub-purpose": "LOAN_APPROVAL",  # the forged tokens speak for a bank
        },
    )


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="hub", error="invalid_token", '), (
        challenge
    )
    body = response.json()
    assert "data" not in body
    assert body == {
        "errors": [
            {
                "message": body["errors"][0]["message"],
                "extensions": {"code": "UNAUTHENTICATED", "reason": reason},
            }
        ]
    }


async def test_the_forge_makes_acceptable_tokens(
    client: httpx.AsyncClient, forgery: Forgery
) -> None:
    # given a token built by hand with nothing wrong
    authorization = forgery.signed(jti="hand-made")

    # when / then: it is accepted, so each case below fails for its own reason
    response = await get_typename(client, authorization)
    assert without_cost(response) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_refused(
    client: httpx.AsyncClient,
    forgery: Forgery,
    case: Case,
    auth_log: list[logging.LogRecord],
) -> None:
    response = await get_typename(client, case.authorization(forgery))

    assert_refused(response, case.reason)
    # each refusal is logged once, with its reason and the request id
    assert [(vars(r)["reason"], vars(r)["request_id"]) for r in auth_log] == [
        (case.reason, response.headers["x-request-id"])
    ]


class _Decoy(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"keys": []}')

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def decoy_jwks() -> Iterator[str]:
    """A JWKS server on loopback that counts every request made to it."""
    _Decoy.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Decoy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("parameter", ["jku", "x5u"])
async def test_key_urls_are_never_fetched(
    client: httpx.AsyncClient, forgery: Forgery, decoy_jwks: str, parameter: str
) -> None:
    # given a token signed by the attacker, pointing at the attacker's keys
    authorization = _attacker_es256(
        forgery, kid=thumbprint(public_jwk(ATTACKER)), **{parameter: decoy_jwks}
    )

    # when
    response = await get_typename(client, authorization)

    # then
    assert_refused(response, "HEADER_NOT_ALLOWED")
    assert _Decoy.hits == 0


async def test_disabled_client(
    client: httpx.AsyncClient, tokens: Tokens, db: Any
) -> None:
    # given a client with a valid token, then disabled
    credentials = await tokens.register()
    token = await tokens.issue(credentials)
    await disable_client(db, credentials.client_id, now=NOW)
    await db.commit()

    # when
    response = await get_typename(client, bearer(token))

    # then
    assert_refused(response, "CLIENT_DISABLED")


async def test_revoked_token(client: httpx.AsyncClient, tokens: Tokens) -> None:
    # given a token its client revoked
    credentials = await tokens.register()
    token = await tokens.issue(credentials)
    revoked = await client.post(
        "/oauth/revoke",
        data={"token": token},
        auth=(credentials.client_id, credentials.secret),
    )
    assert revoked.status_code == 200

    # when
    response = await get_typename(client, bearer(token))

    # then
    assert_refused(response, "TOKEN_REVOKED")


async def test_token_of_a_removed_key(
    client: httpx.AsyncClient, tokens: Tokens, settings: Settings
) -> None:
    # given a token signed by a key that two rotations later was removed
    token = await tokens.token()
    rotate_keys(settings.keys_dir, now=NOW, token_ttl=900, leeway=LEEWAY)
    later = NOW + timedelta(seconds=900 + LEEWAY)
    removed = rotate_keys(settings.keys_dir, now=later, token_ttl=900, leeway=LEEWAY)
    assert [k.kid for k in removed.removed] == [decode(token)[0]["kid"]]

    # when
    response = await get_typename(client, bearer(token))

    # then
    assert_refused(response, "UNKNOWN_KEY")


async def test_two_authorization_headers(
    client: httpx.AsyncClient, forgery: Forgery
) -> None:
    good = forgery.signed()
    response = await client.post(
        "/graphql",
        content=TYPENAME,
        headers=[
            ("content-type", "application/json"),
            ("authorization", good),
            ("authorization", good),
        ],
    )

    assert_refused(response, "TOKEN_MALFORMED")
