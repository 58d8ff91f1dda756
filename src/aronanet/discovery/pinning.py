"""Pin a found record's fingerprint for each of its addresses, before the first connection.

This is what makes discovery safe without signatures (see ``record``): once the record's
fingerprint is pinned, connecting to any of its addresses is no longer blind trust on first
use; the handshake must prove the node holds that key, or the client refuses loudly
(``KeyChangedError``). A record never silently replaces a pin the user already has: a
different fingerprint for a pinned address is itself refused, loudly, because it is exactly
what a tampered record would look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aronanet.client.address import parse_address
from aronanet.client.known_nodes import KnownNodes
from aronanet.discovery.record import NodeRecord
from aronanet.errors import KeyChangedError

Outcome = Literal["pinned", "already pinned", "unusable"]


@dataclass(frozen=True)
class PinResult:
    """What happened to one address of the record."""

    address: str
    outcome: Outcome
    detail: str = ""


def usable_addresses(record: NodeRecord) -> list[tuple[str, str | None]]:
    """Each published address in canonical form, or (as written, the reason it is unusable)."""
    results: list[tuple[str, str | None]] = []
    for address in record.addresses:
        try:
            results.append((str(parse_address(address)), None))
        except ValueError as exc:
            results.append((address, str(exc)))
    return results


def pin_record(record: NodeRecord, known_nodes: KnownNodes) -> list[PinResult]:
    """Pin ``record.fingerprint`` for every usable address; return what was done.

    Raises ``KeyChangedError`` (and pins nothing) when any address is already pinned to
    another key: the user must check with the node's operator and ``aronanet trust
    --forget`` the old pin first.
    """
    addresses = usable_addresses(record)
    for address, problem in addresses:
        if problem is None:
            known_nodes.check(address, record.fingerprint)  # raises on a different pin
    results = []
    for address, problem in addresses:
        if problem is not None:
            results.append(PinResult(address, "unusable", problem))
        elif known_nodes.lookup(address) == record.fingerprint:
            results.append(PinResult(address, "already pinned"))
        else:
            known_nodes.pin(address, record.fingerprint)
            results.append(PinResult(address, "pinned"))
    return results


__all__ = ["KeyChangedError", "PinResult", "pin_record", "usable_addresses"]
