"""Reading host allow-list entries: names, IP addresses (any spelling) and CIDR networks.

The pure parsing half of the outbound address policy (``sync.address_policy`` owns the
checks): ``CALDAV_ALLOWED_HOSTS`` is parsed with it when the settings load, so a malformed
entry is a settings error naming the variable.  Odd address spellings (``0x7f000001``,
``2130706433``, ``017700000001``, ``127.1``, ``[::1]``) are read the way the C resolver
reads them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LEGACY_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")


def parse_ip(host: str) -> IPAddress | None:
    """Return the address a host string denotes (any spelling), or None for a name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _LEGACY_V4.match(text) and any(c.isdigit() for c in text):
        try:  # the C library's reading: hex, octal, decimal, and 1-3 part forms
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def unwrap(ip: IPAddress) -> IPAddress:
    """Return the IPv4 address inside an IPv4-mapped IPv6 address, else the address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def host_key(host: str) -> str:
    """A host name as compared: no brackets, no trailing dot, lower case."""
    return host.strip().strip("[]").rstrip(".").lower()


def parse_allowed(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allow-list entries into host names and networks; raise ValueError on junk."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if "/" in entry:
            try:
                text = entry.replace("[", "").replace("]", "")
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError as exc:
                raise ValueError(f"not a CIDR network: {entry!r}") from exc
            continue
        ip = parse_ip(entry)
        if ip is not None:
            networks.append(ipaddress.ip_network(unwrap(ip)))
        elif _HOST_NAME.match(host_key(entry)):
            hosts.add(host_key(entry))
        else:
            raise ValueError(f"not a host name, address or network: {entry!r}")
    return frozenset(hosts), tuple(networks)
