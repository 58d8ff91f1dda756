"""Per-address budgets: which peer addresses count as one client."""

from __future__ import annotations

import pytest

from aronanet.server.addresses import address_group


@pytest.mark.parametrize(
    ("host", "group"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::10", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 on a dual-stack socket
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("?", "?"),  # a peer whose address is unknown
    ],
)
def test_an_address_counts_as_its_client(host: str, group: str) -> None:
    assert address_group(host) == group
