"""Standard Webhooks signing: the secret, the message body and its headers.

A message is signed as the specification says (standardwebhooks.com):

    webhook-id:        evt_<seq>, the same for every attempt at one event
    webhook-timestamp: unix seconds when this attempt was sent
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

where key is the base64-decoded part of the secret after "whsec_". Receivers
check the signature in constant time, refuse timestamps more than about five
minutes away from their clock, and deduplicate on webhook-id.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import orjson

from hub.models import ChangeEvent

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
USER_AGENT = "ecredit-hub-webhooks/1"


def new_secret() -> str:
    """A fresh signing secret: whsec_ + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_id(seq: int) -> str:
    """The message id of a feed event: stable across retries and redeliveries."""
    return f"evt_{seq}"


def event_type(event: ChangeEvent) -> str:
    """e.g. rating.downgraded, penalty.published."""
    return f"{event.dataset.value.lower()}.{event.kind.lower()}"


def event_body(event: ChangeEvent) -> bytes:
    """The JSON body sent for one event (the fields `changes` answers)."""
    return orjson.dumps(
        {
            "type": event_type(event),
            "timestamp": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "seq": event.seq,
                "dataset": event.dataset.value,
                "kind": event.kind,
                "enterpriseCode": event.enterprise_code,
                "recordId": event.record_id,
                "payload": event.payload,
            },
        }
    )


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value: v1,<base64 HMAC-SHA256>."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, msg_id: str, body: bytes, *, now: datetime
) -> dict[str, str]:
    """The headers of one attempt, signed at `now`."""
    timestamp = int(now.timestamp())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }
