"""``SyncOptions``: who a ``SyncSession`` signs in as, where, and how patiently.

A value of its own so that a caller (and the tests of community address lists) can build
and check one without the session and its I/O; ``address_list`` is where a community's
addresses are put in the order the session tries them (``client/community.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aronanet.client.community import parse_address_list
from aronanet.client.sync import PasswordSource


@dataclass(frozen=True)
class SyncOptions:
    """Who signs in where, and how patiently."""

    address: str
    user: str
    config_dir: Path
    password: PasswordSource | None = None
    register: bool = False
    device_name: str | None = None
    #: ``HISTORY`` page size (§3: 1-200).
    page_size: int = 200
    #: For a conversation never seen: its whole history, not only its latest page.
    backfill: bool = False
    retry_initial: float = 0.5
    retry_maximum: float = 10.0
    #: Seconds to connect and handshake.
    timeout: float = 10.0
    #: Seconds to wait for each reply; a node that does not answer within it is taken as
    #: lost: the link is dropped and the session goes on at the next address (requests are
    #: safe to repeat: reads, and messages with their ``cid``).
    request_timeout: float = 30.0
    #: Every address of the community (nodes sharing one key, docs/SCALE-OUT.md), tried in
    #: this order from ``address``, which must be one of them. Empty: ``address`` alone, or
    #: the comma-separated list ``address`` is (``client/community.py``).
    addresses: tuple[str, ...] = ()

    def address_list(self) -> tuple[str, ...]:
        """The community's canonical addresses, ``address`` first; ``ValueError`` when an
        address is malformed or ``address`` is not in ``addresses``."""
        if not self.addresses:
            return parse_address_list(self.address)
        listed = parse_address_list(self.addresses)
        first = parse_address_list(self.address)[0] if self.address else listed[0]
        if first not in listed:
            raise ValueError(f"{self.address!r} is not one of the addresses {listed}")
        start = listed.index(first)
        return listed[start:] + listed[:start]
