"""A webhook receiver for tests, written from the Standard Webhooks specification.

It verifies as an agency would (standardwebhooks.com): HMAC-SHA256 over
"<webhook-id>.<webhook-timestamp>.<body>" with the base64 key after "whsec_",
compared in constant time against each "v1,<sig>" of webhook-signature, and a
timestamp at most five minutes from its own clock. It imports nothing from
the hub.
"""

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import orjson

TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    """The message is not from the hub, or too old or new to trust."""


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> str:
    """The webhook-id of a genuine message; SignatureError otherwise."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit():
        raise SignatureError("missing webhook-id or webhook-timestamp")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return msg_id
    raise SignatureError("no valid signature")


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every request before answering.

    status/delay/headers decide the answer; `hold(id)` makes the first request
    with that webhook-id wait until `release()` (to kill the sender mid-request).
    """

    status: int = 200
    delay: float = 0.0
    reply_headers: dict[str, str] = field(default_factory=dict)
    reply_body: bytes = b"ok"
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    _held_id: str | None = None
    _holding: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> list[str]:
        with self._lock:
            return [r.id for r in self.received]

    def hold(self, webhook_id: str) -> threading.Event:
        """Hold the first request for `webhook_id`; the event is set once it arrived."""
        self._held_id = webhook_id
        return self._holding

    def release(self) -> None:
        self._release.set()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.ids()):
                return True
            time.sleep(0.02)
        return predicate(self.ids())

    def __enter__(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(headers, body, time.monotonic()))
                if receiver._held_id == headers.get("webhook-id"):
                    receiver._held_id = None
                    receiver._holding.set()
                    receiver._release.wait(10)
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    for name, value in receiver.reply_headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(receiver.reply_body)))
                    self.end_headers()
                    self.wfile.write(receiver.reply_body)
                except OSError:  # the sender gave up (timeout) or was killed
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver._lock:
                    receiver.connections += 1
                return True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return None  # a sender that hangs up is not a test failure

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        ).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
