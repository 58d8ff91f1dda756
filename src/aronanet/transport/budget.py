"""The node's unsent output, across every connection, held under one limit.

Each connection's own limit (``max_outgoing_bytes``) times the connection limit bounds the
node's memory only in theory: 10,000 peers that stop reading may hold 4 MiB each. This is
the node-wide limit (``max_outgoing_bytes_per_node``).

Counting every buffer at every write would put a Python call on the fan-out's hot path for
each delivery, so only connections with more than a little unsent are counted: a TCP
transport reports them itself (``pause_writing`` past its high-water mark, 64 KiB, and
``resume_writing`` once drained), and a WebSocket outbox past ``MARK_BYTES`` is reported the
same way. What they hold is summed as soon as one is reported (on the loop's next turn,
never inside the write that reported it) and then every ``interval`` seconds while any
is. Over the limit, the connections holding the most are shed (the node drops them, as it
drops any peer that does not read) until the rest fit. So the node
holds at most the limit, plus what it writes in one interval, plus a mark per connection
(below it a connection is not counted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

#: A WebSocket outbox larger than this is counted (a TCP transport's high-water mark).
MARK_BYTES = 64 * 1024
#: Seconds between two sums while any connection is counted.
CHECK_INTERVAL = 0.1


class Backlogged(Protocol):
    """A connection whose unsent output can be measured."""

    def backlog_bytes(self) -> int:
        """Bytes written to this connection and not yet sent."""
        ...


class OutgoingBudget:
    """The connections holding more than a mark of unsent output, summed against ``limit``."""

    def __init__(
        self,
        limit: int,
        shed: Callable[[Backlogged, int], None],
        interval: float = CHECK_INTERVAL,
    ) -> None:
        """``shed(connection, held)`` drops a connection that holds ``held`` bytes; it must
        call ``drained`` for it (closing it does)."""
        self.limit = limit
        self._shed = shed
        self._interval = interval
        self._counted: set[Backlogged] = set()
        self._timer: asyncio.Handle | None = None
        self._due = 0.0

    @property
    def counted(self) -> int:
        """How many connections hold more than a mark now."""
        return len(self._counted)

    def held(self) -> int:
        """What the counted connections hold now, in bytes (for ``/metrics``)."""
        return sum(connection.backlog_bytes() for connection in self._counted)

    def backed_up(self, connection: Backlogged) -> None:
        """``connection`` holds more than a mark: count it, and sum on the next turn."""
        if connection not in self._counted:
            self._counted.add(connection)
            self._schedule(0.0)

    def drained(self, connection: Backlogged) -> None:
        """``connection`` is below the mark again, or closed."""
        self._counted.discard(connection)
        if not self._counted and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def check(self) -> int:
        """Sum what the counted connections hold; over the limit, shed the largest until the
        rest fit. Returns the bytes held after shedding."""
        held = {connection: connection.backlog_bytes() for connection in self._counted}
        total = sum(held.values())
        if total > self.limit:
            for connection in sorted(held, key=held.__getitem__, reverse=True):
                self._shed(connection, held[connection])
                self.drained(connection)
                total -= held[connection]
                if total <= self.limit:
                    break
        self._schedule(self._interval)
        return total

    def _schedule(self, delay: float) -> None:
        """Sum in ``delay`` seconds, unless a sum is due sooner already."""
        if not self._counted:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        if self._timer is not None:
            if self._due <= due:
                return
            self._timer.cancel()
        self._timer = loop.call_soon(self._tick) if delay <= 0 else loop.call_at(due, self._tick)
        self._due = due

    def _tick(self) -> None:
        self._timer = None
        self.check()
