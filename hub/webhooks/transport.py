"""Sending one webhook request: vetted and pinned connections, timeouts, capped replies.

httpx resolves names inside its connection pool, after any check we could
make before the request: a name could resolve to a public address for the
check and to 127.0.0.1 for the connect (DNS rebinding). So the pool gets a
network backend that resolves each new connection itself, refuses it unless
every address passes `addresses.refusal`, and connects to a vetted address.
TLS still verifies the certificate against the URL's host name (SNI), and a
kept-alive connection is reused only for its own origin.

Redirects are not followed (a 3xx is a failed attempt), proxies from the
environment are ignored, the connect and the whole attempt have timeouts, and
at most MAX_RESPONSE_BYTES of a reply are read.
"""

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime

import httpcore
import httpx

from hub.config import Settings
from hub.models import ChangeEvent
from hub.webhooks.addresses import (
    AddressRefused,
    Resolver,
    system_resolver,
    vetted_addresses,
)
from hub.webhooks.delivery import Attempt
from hub.webhooks.signing import event_body, signed_headers, webhook_id

MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_CHARS = 500
MAX_CONNECTIONS = 64


class VettingBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses that pass the webhook address policy."""

    def __init__(self, *, allow_loopback: bool, resolve: Resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await vetted_addresses(
            host, port, allow_loopback=self.allow_loopback, resolve=self.resolve
        )
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("URL_FORBIDDEN_ADDRESS", "unix sockets are not targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class VettingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: VettingBackend) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend argument; its pool is rebuilt with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_CONNECTIONS,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


def new_client(settings: Settings) -> httpx.AsyncClient:
    """An HTTP client for webhook deliveries under `settings`."""
    backend = VettingBackend(
        allow_loopback=settings.webhooks_allow_http_loopback,
        resolve=settings.webhooks_resolver or system_resolver,
    )
    return httpx.AsyncClient(
        transport=VettingTransport(backend),
        timeout=httpx.Timeout(
            settings.webhooks_timeout, connect=settings.webhooks_connect_timeout
        ),
        follow_redirects=False,
        trust_env=False,
    )


async def send_event(
    client: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    event: ChangeEvent,
    now: datetime,
    total_timeout: float,
) -> Attempt:
    """POST one signed event; never raises for what the receiver does."""
    body = event_body(event)
    headers = signed_headers(secret, webhook_id(event.seq), body, now=now)
    return await post(client, url, body=body, headers=headers, timeout=total_timeout)


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> Attempt:
    started = time.monotonic()
    status: int | None = None
    retry_after: float | None = None
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("POST", url, content=body, headers=headers) as r:
                status = r.status_code
                retry_after = _retry_after(r)
                head = await _read_capped(r)
        error = None if 200 <= status < 300 else _http_error(status, head)
    except AddressRefused as e:
        error = f"{e.reason}: {e.message}"
    except TimeoutError:
        error = f"timed out after {timeout:g} s"
    except httpx.HTTPError as e:
        error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    elapsed = round((time.monotonic() - started) * 1000)
    return Attempt(status, error and error[:MAX_ERROR_CHARS], elapsed, retry_after)


async def _read_capped(response: httpx.Response) -> bytes:
    """The start of the reply; stops reading after MAX_RESPONSE_BYTES."""
    head = b""
    read = 0
    async for chunk in response.aiter_raw():
        if len(head) < MAX_ERROR_CHARS:
            head += chunk[: MAX_ERROR_CHARS - len(head)]
        read += len(chunk)
        if read >= MAX_RESPONSE_BYTES:
            break
    return head


def _http_error(status: int, head: bytes) -> str:
    note = " (redirects are not followed)" if 300 <= status < 400 else ""
    text = head.decode("utf-8", errors="replace").strip()
    return f"HTTP {status}{note}" + (f": {text}" if text else "")


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "")
    return float(value) if value.isascii() and value.isdigit() else None
