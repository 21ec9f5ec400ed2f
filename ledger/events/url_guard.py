"""Which URLs a webhook may target, so the service cannot be turned against its own network.

Only ``http`` and ``https``; the host must resolve, and every address it resolves to must be a
public one — no private, loopback, link-local, multicast, reserved or unspecified address —
unless the operator's allow-list (``COMMONS_LEDGER_WEBHOOK_ALLOW``: CIDRs and host names, comma
separated) permits it. Checked at registration and again before every delivery, which then
connects to the very address checked (a host that resolves differently the second time —
DNS rebinding — gains nothing).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from ledger.kernel import errors

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
SCHEMES: Final = ("http", "https")
URL_MAX_CHARS: Final = 2048
"""Longer URLs are refused (browsers and proxies commonly stop near 2 KB)."""
_URL_CHARS: Final = frozenset(chr(c) for c in range(0x21, 0x7F))
"""Printable ASCII without space: anything else (CR, LF, tab, NUL, DEL, non-ASCII) must be
percent-encoded, and a host name must be in its ``xn--`` form. ``urllib.parse`` silently drops
CR, LF and tab, so the URL it checked was not the URL an HTTP client later refused."""


class UrlNotAllowed(errors.InvalidInput):
    """The webhook URL is not http(s), does not resolve, or reaches a non-public address that
    the operator's allow-list does not permit."""

    code = "url_not_allowed"


@dataclass(frozen=True, slots=True)
class AllowList:
    networks: tuple[IpNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @staticmethod
    def parse(text: str) -> AllowList:
        """``10.0.0.0/8, 127.0.0.1, hooks.internal``; ValueError names a bad item."""
        networks: list[IpNetwork] = []
        hosts: set[str] = set()
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if not _is_host_name(item):
                    raise ValueError(
                        f"{item!r} is neither a CIDR, an address nor a host name"
                    ) from None
                hosts.add(item.lower().rstrip("."))
        return AllowList(tuple(networks), frozenset(hosts))

    def permits(self, host: str, address: IpAddress) -> bool:
        return host in self.hosts or any(address in network for network in self.networks)


def _is_host_name(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return all(
        0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    )


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside an IPv6 one (mapped, 6to4) reaches that IPv4 host.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    host: str
    port: int
    address: IpAddress


def split(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL; ``UrlNotAllowed`` otherwise."""
    if len(url) > URL_MAX_CHARS:
        raise UrlNotAllowed(f"a webhook URL must be at most {URL_MAX_CHARS} characters")
    if not _URL_CHARS.issuperset(url):
        raise UrlNotAllowed(
            "a webhook URL must be printable ASCII without spaces or control characters "
            "(percent-encode the rest; write host names in their xn-- form)"
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise UrlNotAllowed("a webhook URL must use http or https")
    if not parts.hostname:
        raise UrlNotAllowed("a webhook URL must name a host")
    if parts.username or parts.password:
        raise UrlNotAllowed("a webhook URL must not carry credentials; sign with the secret")
    host = parts.hostname.lower().rstrip(".")
    if port == 0:
        raise UrlNotAllowed("a webhook URL's port must be from 1 to 65535")
    if not _is_address(host) and not _is_host_name(host):
        raise UrlNotAllowed(f"{host!r} is not a host name (letters, digits, hyphens, dots)")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def check(
    url: str,
    allow: AllowList,
    resolve: Resolver = system_resolver,
    *,
    allow_setting: str = "COMMONS_LEDGER_WEBHOOK_ALLOW",
) -> Target:
    """The target of ``url`` if every address of its host is allowed; ``UrlNotAllowed`` else,
    naming ``allow_setting``, the operator's allow-list for this kind of URL."""
    _, host, port = split(url)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in await resolve(host, port)]
        except OSError as exc:
            raise UrlNotAllowed(f"the host {host!r} does not resolve: {exc}") from None
    if not addresses:
        raise UrlNotAllowed(f"the host {host!r} does not resolve")
    for address in addresses:
        if not is_public(address) and not allow.permits(host, address):
            raise UrlNotAllowed(
                f"the host {host!r} resolves to {address}, which is not a public address; "
                f"the operator may permit it with {allow_setting}"
            )
    return Target(url, host, port, addresses[0])
