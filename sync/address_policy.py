"""The outbound address policy: which hosts a server-side connection may reach.

Owns the one rule for every connection the service opens on a user's behalf (CalDAV
today, IMAP intake later): by default only public unicast addresses are reachable;
loopback, private, link-local, multicast, unspecified, reserved, shared (CGNAT
100.64/10) and documentation ranges are refused, as are IPv4-mapped IPv6 addresses,
Teredo, and 6to4/NAT64 addresses that embed a refused IPv4 address.  Odd spellings
(``0x7f000001``, ``2130706433``, ``017700000001``, ``127.1``, ``[::1]``) are read the
way the C resolver reads them, and a name is resolved, so what is checked is always
the address that would be connected to.  The ``CALDAV_ALLOWED_HOSTS`` setting opens
named hosts, addresses or networks (on-premises servers).

``check_host(host, port)`` resolves and returns the permitted addresses or raises
``OutboundRefused``; ``PolicyTransport`` is an httpx transport whose every new TCP
connection is checked at connect time and opened to the very address that was checked
(so DNS rebinding between a check and the connect has nothing to rebind), with proxies
from the environment ignored.  TLS still verifies the host name (SNI is the URL's host).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from config.hosts import IPAddress, IPNetwork, parse_allowed, parse_ip
from config.hosts import host_key as _host_key
from config.hosts import unwrap as _unwrap
from config.settings import Settings

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """Raise when a host or its resolved address may not be connected to."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


def _public_v4(ip: ipaddress.IPv4Address) -> bool:
    return (
        ip.is_global
        and ip not in _SHARED
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_unspecified
            or ip.is_reserved
        )
    )


def is_public(ip: IPAddress) -> bool:
    """Tell whether an address is public unicast (the only kind reachable by default)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _public_v4(ip)
    if ip.ipv4_mapped is not None or ip.teredo is not None:
        return False
    if ip.sixtofour is not None and not _public_v4(ip.sixtofour):
        return False
    if ip in _NAT64 and not _public_v4(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)):
        return False
    return (
        ip.is_global
        and not ip.is_private
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_site_local
        and not ip.is_multicast
        and not ip.is_unspecified
        and not ip.is_reserved
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Resolve a host name to its addresses, in the resolver's order (raises OSError)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


@dataclass(frozen=True)
class AddressPolicy:
    """Public unicast addresses, plus the allow-listed host names and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AddressPolicy:
        """Build a policy from allow-list entries (names, addresses, CIDR networks)."""
        hosts, networks = parse_allowed(entries)
        return cls(hosts, networks)

    def allows(self, host: str, ip: IPAddress) -> bool:
        """Tell whether ``host``, resolved to ``ip``, may be connected to."""
        if _host_key(host) in self.hosts:
            return True
        plain = _unwrap(ip)
        if any(plain in net for net in self.networks if net.version == plain.version):
            return True
        return is_public(ip)

    async def check_host(self, host: str, port: int) -> list[IPAddress]:
        """Return the permitted addresses of ``host``; raise ``OutboundRefused`` if none.

        A DNS failure raises ``OutboundRefused`` too (its reason says so), so a caller
        that shows one text for every refusal shows one text for that as well.
        """
        literal = parse_ip(host)
        if literal is not None:
            candidates = [literal]
        else:
            try:
                candidates = await resolve(host.strip().rstrip("."), port)
            except (OSError, UnicodeError) as exc:
                raise OutboundRefused(host, f"does not resolve ({exc})") from exc
        permitted = [ip for ip in candidates if self.allows(host, ip)]
        if not permitted:
            shown = ", ".join(str(ip) for ip in candidates) or "nothing"
            raise OutboundRefused(host, f"resolves to {shown}, refused by the address policy")
        return permitted


STRICT = AddressPolicy()


def from_settings(settings: Settings) -> AddressPolicy:
    """Return the policy configured by ``CALDAV_ALLOWED_HOSTS``."""
    return AddressPolicy.parse(settings.caldav_allowed_hosts)


class _PolicyBackend(httpcore.AsyncNetworkBackend):
    """Open TCP connections only to addresses the policy permits, checked at connect."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self.policy = policy
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self.policy.check_host(host, port), timeout)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused(path, "unix sockets are refused by the address policy")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection goes through ``AddressPolicy``.

    ``OutboundRefused`` propagates out of ``send`` unchanged (httpx only maps
    httpcore's own errors); no proxy is used, whatever the environment says.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        limits: httpx.Limits = httpx.Limits(),
        verify: bool = True,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PolicyBackend(policy, httpcore.AnyIOBackend()),
        )


async def check_host(host: str, port: int, policy: AddressPolicy = STRICT) -> list[IPAddress]:
    """Return the permitted addresses of ``host`` under ``policy`` (default: strict)."""
    return await policy.check_host(host, port)
