"""Where a webhook may point (RELIABILITY B8: SSRF): https to public addresses only.

Checked when an endpoint is registered and again on every connection, after
DNS resolution: a name that resolved to a public address at registration and
to 127.0.0.1 later (DNS rebinding) is refused then, before any connect. Every
address a name resolves to must pass, so one public record cannot smuggle a
private one in.

Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16,
fe80::/10, including the metadata services 169.254.169.254 and fd00:ec2::254),
shared address space (100.64/10, where Alibaba Cloud's 100.100.100.200
metadata lives), multicast, unspecified, reserved and any other non-global
range; IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo, NAT64) are
judged as IPv4. Development (HUB_WEBHOOKS_ALLOW_HTTP_LOOPBACK) allows loopback
targets, over http or https, and nothing else.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT = 3.0

# Answers host, port with the addresses a connection may go to.
Resolver = Callable[[str, int], Awaitable[list[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
SHARED = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """A URL or address a webhook may not use; `reason` is the error code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host, IPv6 without brackets
    port: int


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str) -> Target:
    """The URL's parts, or AddressRefused(URL_INVALID | URL_NOT_HTTPS)."""
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused("URL_INVALID", f"longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise AddressRefused("URL_INVALID", "contains spaces or control characters")
    try:
        # httpx parses it here exactly as it will when sending: no parser differential.
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError) as e:
        raise AddressRefused("URL_INVALID", str(e)) from None
    if parsed.scheme not in ("https", "http"):
        raise AddressRefused("URL_NOT_HTTPS", "the URL must start with https://")
    if not host:
        raise AddressRefused("URL_INVALID", "the URL has no host")
    if parsed.userinfo:
        raise AddressRefused("URL_INVALID", "credentials in the URL are not allowed")
    if parsed.fragment:
        raise AddressRefused("URL_INVALID", "a fragment is never sent; remove it")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise AddressRefused("URL_INVALID", f"port {port} is out of range")
    return Target(str(parsed), parsed.scheme, host, port)


def refusal(address: str, *, allow_loopback: bool) -> str | None:
    """What kind of address may not be contacted (e.g. "private"), or None."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unparsable"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return refusal(str(inner), allow_loopback=allow_loopback)
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip in METADATA:
        return "cloud metadata"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "non-unicast"
    if ip.is_private or ip in SHARED or not ip.is_global:
        return "private"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


async def vetted_addresses(
    host: str, port: int, *, allow_loopback: bool, resolve: Resolver
) -> list[str]:
    """Every address `host` resolves to, if all of them may be contacted."""
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            addresses = await resolve(host, port)
    except (OSError, TimeoutError):
        raise AddressRefused("URL_UNRESOLVABLE", f"{host} does not resolve") from None
    if not addresses:
        raise AddressRefused("URL_UNRESOLVABLE", f"{host} does not resolve")
    for address in addresses:
        kind = refusal(address, allow_loopback=allow_loopback)
        if kind is not None:
            # The resolved address is not named: it would map internal DNS.
            verb = "is" if _is_literal(host) else "resolves to"
            raise AddressRefused(
                "URL_FORBIDDEN_ADDRESS", f"{host} {verb} a {kind} address"
            )
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def check_url(url: str, *, allow_loopback: bool, resolve: Resolver) -> Target:
    """Refuse a URL a webhook may not be registered with (AddressRefused)."""
    target = parse_url(url)
    if target.scheme == "http" and not allow_loopback:
        raise AddressRefused("URL_NOT_HTTPS", "the URL must start with https://")
    addresses = await vetted_addresses(
        target.host, target.port, allow_loopback=allow_loopback, resolve=resolve
    )
    if target.scheme == "http" and not all(_is_loopback(a) for a in addresses):
        raise AddressRefused(
            "URL_NOT_HTTPS", "http is allowed only to loopback, in development"
        )
    return target


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback
