"""JSON log lines: the request id that the response and the audit entry carry,
and never a token, a client secret or an Authorization header."""

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.logs import JsonFormatter, Redact, configure_logging
from hub.models import AuditEntry
from tests.helpers import error_of

# A syntactically valid JWS the hub never issued (header {"alg":"ES256","kid":"x"}).
FORGED_JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJiYW5rIn0.c2lnbmF0dXJlLWJ5dGVz"
)


@pytest.fixture
def hub_lines() -> Iterator[io.StringIO]:
    """What the hub's loggers write, formatted and filtered as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redact())
    logger = logging.getLogger("hub")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class TestRequestId:
    @pytest.mark.anyio
    async def test_refused_token_response_audit_entry_and_log_share_one_id(
        self, client: httpx.AsyncClient, db: AsyncSession, hub_lines: io.StringIO
    ) -> None:
        # when
        response = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"authorization": f"Bearer {FORGED_JWT}"},
        )
        # then: the error response, its audit entry and the log line agree
        assert response.status_code == 401
        assert error_of(response)["extensions"]["code"] == "UNAUTHENTICATED"
        request_id = response.headers["x-request-id"]
        entry = (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.request_id == request_id)
            )
        ).one()
        assert entry.outcome == "DENIED"
        refused = [
            line
            for line in lines_of(hub_lines)
            if line["message"] == "bearer token refused"
        ]
        assert len(refused) == 1
        assert refused[0]["request_id"] == request_id
        assert refused[0]["reason"] == entry.reason
        # and the token appears in no line
        assert FORGED_JWT not in hub_lines.getvalue()
        assert FORGED_JWT.split(".")[1] not in hub_lines.getvalue()


def formatted(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord(
        "hub.test", logging.INFO, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    assert Redact().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed: dict[str, object] = json.loads(line)
    return parsed


class TestRedaction:
    def test_bearer_token_in_the_message(self) -> None:
        line = formatted("refused %s", "Authorization: Bearer abc.def-ghi_jkl")
        assert line["message"] == "refused Authorization: Bearer [REDACTED]"

    def test_basic_credentials_in_an_argument(self) -> None:
        line = formatted("header %r", "Basic YmFuazpzM2NyZXQ=")
        assert line["message"] == "header 'Basic [REDACTED]'"

    def test_client_secret_in_a_form_body(self) -> None:
        line = formatted(
            "token request %s",
            "grant_type=client_credentials&client_id=bank&client_secret=s3cr3t-v4lue",
        )
        assert line["message"] == (
            "token request grant_type=client_credentials&client_id=bank"
            "&client_secret=[REDACTED]"
        )

    def test_jwt_anywhere(self) -> None:
        line = formatted(f"kid unknown in {FORGED_JWT}")
        assert line["message"] == "kid unknown in [REDACTED]"

    def test_extra_fields(self) -> None:
        line = formatted(
            "webhook failed",
            request_id="bank-req-00042",
            authorization="Bearer abcdefghijklmnop",
            headers={"Authorization": "whatever", "accept": "application/json"},
            detail=f"body carried {FORGED_JWT}",
            depth=3,
        )
        assert line["request_id"] == "bank-req-00042"
        assert line["authorization"] == "[REDACTED]"
        assert line["headers"] == {
            "Authorization": "[REDACTED]",
            "accept": "application/json",
        }
        assert line["detail"] == "body carried [REDACTED]"
        assert line["depth"] == 3

    def test_ordinary_text_is_kept(self) -> None:
        message = "bearer token refused: basic checks passed for client bank-01"
        assert formatted(message)["message"] == message


def test_configure_logging_makes_uvicorn_lines_json_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate)
        for name in ("hub", "uvicorn", "uvicorn.error", "uvicorn.access")
        for lg in [logging.getLogger(name)]
    }
    try:
        configure_logging("info")
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("hub.auth").info(
            "seen %s", "Bearer abcdefghijkl", extra={"request_id": "r-12345678"}
        )
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [
        ("uvicorn.error", "Started server process"),
        ("hub.auth", "seen Bearer [REDACTED]"),
    ]
    assert lines[1]["request_id"] == "r-12345678"
