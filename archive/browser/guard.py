"""Where a rendered page may connect (README "Browser capture", the safety rules).

A page may reach its own origin's host and port, and public (globally routable) addresses. Every other
address (loopback, private networks, link-local, multicast, reserved) is refused, and so is its own host
on another port: the browser must not become a way into the operator's network. Hosts named in
``CITEVAULT_BROWSER_ALLOW`` (``host:port`` pairs) are allowed too. The rule is applied to the address the
proxy actually connected to, after DNS, so a public name resolving to a private address is refused.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def origin_of(url: str) -> tuple[str, int]:
    """``(host, port)`` of a URL, the port made explicit.

    >>> origin_of("http://Example.org/a"), origin_of("https://127.0.0.1:8443/")
    (('example.org', 80), ('127.0.0.1', 8443))
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.hostname or "").lower(), port


def parse_allow(value: str | None) -> frozenset[tuple[str, int]]:
    """``CITEVAULT_BROWSER_ALLOW``: comma-separated ``host:port``.

    >>> sorted(parse_allow("127.0.0.2:8080, cdn.local:80"))
    [('127.0.0.2', 8080), ('cdn.local', 80)]
    """
    out = set()
    for item in (value or "").split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit():
            out.add((host.strip("[]").lower(), int(port)))
    return frozenset(out)


def is_public(ip: str) -> bool:
    """Is an address globally routable? (IPv4-mapped IPv6 is judged as the IPv4 address.)

    >>> is_public("93.184.216.34"), is_public("127.0.0.2"), is_public("10.1.2.3"), is_public("::ffff:192.168.0.1")
    (True, False, False, False)
    """
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return bool(addr.is_global) and not addr.is_multicast


@dataclass
class Destinations:
    """The destinations one page may reach, and what it tried to reach but was refused."""

    page: tuple[str, int]
    allowed: frozenset[tuple[str, int]] = frozenset()
    refused: list[str] = field(default_factory=list)

    def allows(self, host: str, port: int, ip: str) -> bool:
        """May the page's browser talk to ``host:port``, connected at ``ip``?

        >>> d = Destinations(("127.0.0.1", 8000))
        >>> d.allows("127.0.0.1", 8000, "127.0.0.1"), d.allows("127.0.0.2", 8000, "127.0.0.2")
        (True, False)
        >>> d.allows("127.0.0.1", 9000, "127.0.0.1"), d.allows("example.org", 80, "93.184.216.34")
        (False, True)
        """
        where = (host.lower(), int(port))
        if where == self.page or where in self.allowed or is_public(ip):
            return True
        self.refused.append(f"{host}:{port} ({ip})")
        return False
