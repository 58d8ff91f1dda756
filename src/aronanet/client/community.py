"""A community behind several addresses: parsing the list, pinning one key for all of it,
and choosing which address to try next.

docs/SCALE-OUT.md: the nodes of one community share one node key, so a client that knows
several of their addresses may use any of them. A list is written comma-separated where one
address was accepted (``127.0.0.1:7001,127.0.0.1:7002,ws://h:7778/artp``).

* ``parse_address_list`` checks every element and says which one is wrong;
* ``CommunityPins`` extends the known-nodes check to the whole list: all its addresses must
  present ONE key. A pin for any of them makes another address that presents the same key
  known (and pins it, no trust question); a different key anywhere is refused exactly like a
  changed key; a first connection pins its key for every address of the list;
* ``AddressRing`` is the failover order: round-robin from the address that failed, with the
  caller's backoff only after a whole cycle failed, and a count of moves between nodes.
  Each client may shuffle the addresses after its first (``spread``), so the clients of a
  node that dies spread over the others instead of all landing on the next one;
* ``community_key`` names the community where state is kept per node (the outbox), the same
  whichever address is in use, so a message queued on one node is sent once through another.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from aronanet.client.address import parse_address
from aronanet.client.known_nodes import KnownNodes
from aronanet.errors import KeyChangedError

#: Between the addresses of one community, wherever a single address is accepted.
SEPARATOR = ","


def parse_address_list(text: str | Sequence[str]) -> tuple[str, ...]:
    """The canonical addresses of a comma-separated list (or of a sequence), in order.

    Raises ``ValueError`` naming the element at fault: an empty one (two commas in a row, or
    one at an end), one that is not an address, or one given twice (in any spelling).
    A single address gives ``parse_address``'s own message.
    """
    parts = text.split(SEPARATOR) if isinstance(text, str) else list(text)
    if not parts:
        raise ValueError("no node address given")
    if len(parts) == 1:
        return (str(parse_address(parts[0])),)
    shown = text if isinstance(text, str) else SEPARATOR.join(parts)
    found: list[str] = []
    for position, part in enumerate(parts, 1):
        if not part.strip():
            raise ValueError(
                f"address {position} of {shown!r} is empty: separate addresses with one "
                "comma, with none at either end"
            )
        try:
            address = str(parse_address(part))
        except ValueError as exc:
            raise ValueError(f"address {position} of the list: {exc}") from exc
        if address in found:
            raise ValueError(f"{part.strip()!r} is in the address list twice (as {address})")
        found.append(address)
    return tuple(found)


def format_address_list(addresses: Sequence[str]) -> str:
    """The list as one would type it again (what ``parse_address_list`` reads)."""
    return SEPARATOR.join(addresses)


def community_key(addresses: Sequence[str]) -> str:
    """The one name of the community for state kept per node: its smallest canonical address.

    Order-free, so ``a,b`` and ``b,a`` share their outbox; and for one address it is that
    address, so a client that adds addresses to the one it used keeps its outbox when the
    original address sorts first.
    """
    return min(addresses)


class CommunityPins(KnownNodes):
    """The known-nodes file, checked across every address of one community."""

    def __init__(self, path: Path, addresses: Sequence[str]) -> None:
        """``addresses`` in canonical form (``parse_address_list``)."""
        super().__init__(path)
        self.addresses = tuple(addresses)

    def check(self, address: str, fingerprint: str) -> Literal["known", "new"]:
        """``known`` when a pin of the community matches (and then this address is pinned
        too); ``new`` when none of its addresses is pinned; else ``KeyChangedError`` for
        ``address`` with the pin that differs (its own first, else the community's)."""
        pins = self.entries()
        for member in (address, *self.addresses):
            pinned = pins.get(member)
            if pinned is not None and pinned != fingerprint:
                raise KeyChangedError(address, pinned, fingerprint)
        if not any(pins.get(member) for member in (address, *self.addresses)):
            return "new"
        if pins.get(address) != fingerprint:
            super().pin(address, fingerprint)
        return "known"

    def pin(self, address: str, fingerprint: str) -> None:
        """The key accepted at ``address`` is the community's: pin it for every address."""
        for member in dict.fromkeys((address, *self.addresses)):
            if self.lookup(member) != fingerprint:
                super().pin(member, fingerprint)


class AddressRing:
    """Which address to try next: the current one until it fails, then the next in turn."""

    def __init__(
        self, addresses: Sequence[str], start: int = 0, *, spread: random.Random | None = None
    ) -> None:
        """``spread`` shuffles every address but the first (the one the user put first is
        still tried first): when a node dies, its clients' next addresses differ, so they
        do not all move onto one node (and from there onto the next when that one dies)."""
        if not addresses:
            raise ValueError("a community needs at least one address")
        first, *rest = addresses
        if spread is not None:
            spread.shuffle(rest)
        self.addresses = (first, *rest)
        self._index = start % len(self.addresses)
        self._failures = 0
        self._last_success: str | None = None
        #: Sign-ins at another address than the previous sign-in's: moves between nodes.
        self.failovers = 0

    @property
    def current(self) -> str:
        """The address in use, or to be tried next."""
        return self.addresses[self._index]

    def target(self) -> str:
        """The list with the current address first: what ``ArtpClient.connect`` opens (the
        first) and pins across (all of it)."""
        rest = self.addresses[self._index + 1 :] + self.addresses[: self._index]
        return format_address_list((self.current, *rest))

    def failed(self) -> bool:
        """The current address failed (or its link was lost): move on to the next one.
        True when every address failed in turn since the last success, the moment for the
        caller's backoff delay."""
        self._failures += 1
        self._index = (self._index + 1) % len(self.addresses)
        return self._failures % len(self.addresses) == 0

    @property
    def cycles(self) -> int:
        """Whole cycles failed since the last success (the backoff's attempt number)."""
        return self._failures // len(self.addresses)

    def lost(self) -> None:
        """The link at the current address was lost: the next address is tried first, at
        once; a whole cycle from there (back to this one) fails before any delay."""
        self._index = (self._index + 1) % len(self.addresses)
        self._failures = 0

    def succeeded(self) -> bool:
        """Signed in at the current address; True when that is a move to another node."""
        moved = self._last_success is not None and self._last_success != self.current
        self._last_success = self.current
        self._failures = 0
        self.failovers += moved
        return moved
