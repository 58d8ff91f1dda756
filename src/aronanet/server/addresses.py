"""What per-address limits count as one address.

Connections per address, failed logins and registrations per address, and password checks
per address are budgets of one client. An IPv4 address is one client (or one NAT); an IPv6
host is routinely given a whole /64 and may pick any of its 2**64 addresses per
connection, so counting single IPv6 addresses would hand it 2**64 budgets.
"""

from __future__ import annotations

import functools
import ipaddress

#: The IPv6 prefix one client is assumed to hold (RFC 6177: a /64 per subnet, at least).
IPV6_CLIENT_PREFIX = 64


@functools.lru_cache(maxsize=4096)
def address_group(host: str) -> str:
    """The budget key of a peer's address: an IPv4 address as itself, an IPv6 address as
    its /64 (``2001:db8:1:2::/64``), an IPv4-mapped IPv6 address as the IPv4 address.
    Anything else (``?`` for an unknown peer, a Unix socket's name) is kept as given."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # a scope (fe80::1%eth0) too
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
