"""The node's counters and their Prometheus text exposition (``/metrics``).

Cheap on the hot path by construction: every part keeps its own plain ``int`` attributes
(``Router.deliveries``, ``NodeCounters.messages_stored``, a ``Histogram``'s bucket list) and
increments them without a lock or a lookup by label; this module reads them only when
scraped, and derives what it can at that moment (sessions by transport) instead of
counting it on the way. Without an admin listener nothing here is ever called.

The SQLite writer thread updates its latency histogram beside the event loop's scrape; a
scrape may then see one observation in ``_count`` before its bucket, which Prometheus
tolerates (the next scrape is consistent again).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aronanet.errors import ErrorCode

if TYPE_CHECKING:
    from aronanet.server.node import Node

#: Seconds from a store job's enqueue to its durable commit: fsync-bound, so 0.1 ms (an
#: NVMe flush; a VM's disk takes ~0.25 ms) to 5 s.
COMMIT_LATENCY_BOUNDS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """A Prometheus histogram with fixed bounds: one bisect and three increments a value."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Iterable[float] = COMMIT_LATENCY_BOUNDS) -> None:
        self.bounds = tuple(bounds)
        #: Observations per bucket (not cumulative), the last one past every bound (+Inf).
        self.counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value

    def lines(self, name: str) -> list[str]:
        """The ``_bucket`` (cumulative, as Prometheus wants), ``_sum`` and ``_count`` lines."""
        counts, count, total = list(self.counts), self.count, self.total
        lines, cumulative = [], 0
        for bound, observed in zip((*self.bounds, float("inf")), counts, strict=True):
            cumulative += observed
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'{name}_bucket{{le="{le}"}} {cumulative}')
        lines += [f"{name}_sum {total!r}", f"{name}_count {count}"]
        return lines


def _no_errors() -> dict[str, int]:
    return dict.fromkeys(ErrorCode, 0)


@dataclass(slots=True)
class NodeCounters:
    """Counters kept by the node's handlers and session bookkeeping (plain increments)."""

    #: Messages stored (a duplicate ``cid`` is not stored again, so not counted).
    messages_stored: int = 0
    #: ``ERROR`` replies sent, by code (every code present from the start: pre-bound).
    errors: dict[str, int] = field(default_factory=_no_errors)
    #: Sessions dropped because their peer did not read (outgoing backlog over its limit).
    slow_readers_dropped: int = 0
    #: Handshakes completed by sessions that have closed since (open ones are counted live).
    handshakes_of_closed_sessions: int = 0
    started: float = field(default_factory=time.time)

    def error_sent(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


def exposition(node: Node) -> str:
    """The text exposition format (0.0.4) of everything the node counts."""
    from aronanet.transport.ws import WsStream

    counters = node.services.counters
    by_transport = {"tcp": 0, "websocket": 0}
    handshaken = 0
    for session in node.sessions():
        by_transport["websocket" if isinstance(session.stream, WsStream) else "tcp"] += 1
        handshaken += session.device is not None
    out: list[str] = []

    def metric(name: str, kind: str, text: str, samples: Iterable[str]) -> None:
        out.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}", *samples))

    metric(
        "aronanet_sessions",
        "gauge",
        "Open connections, by transport.",
        (
            f'aronanet_sessions{{transport="{name}"}} {count}'
            for name, count in by_transport.items()
        ),
    )
    metric(
        "aronanet_handshakes_total",
        "counter",
        "Noise handshakes completed.",
        [f"aronanet_handshakes_total {counters.handshakes_of_closed_sessions + handshaken}"],
    )
    metric(
        "aronanet_messages_stored_total",
        "counter",
        "Messages stored (rate() gives messages per second).",
        [f"aronanet_messages_stored_total {counters.messages_stored}"],
    )
    metric(
        "aronanet_deliveries_total",
        "counter",
        "Events queued to recipient sessions on this node (one per session per event).",
        [f"aronanet_deliveries_total {node.services.router.deliveries}"],
    )
    metric(
        "aronanet_slow_readers_dropped_total",
        "counter",
        "Sessions dropped because their outgoing backlog exceeded its limit.",
        [f"aronanet_slow_readers_dropped_total {counters.slow_readers_dropped}"],
    )
    budget = node.outgoing_budget
    metric(
        "aronanet_outgoing_backlog_bytes",
        "gauge",
        "Unsent bytes of the sessions holding more than 64 KiB (the node-wide budget's count).",
        [f"aronanet_outgoing_backlog_bytes {budget.held() if budget is not None else 0}"],
    )
    metric(
        "aronanet_errors_sent_total",
        "counter",
        "ERROR replies sent, by code.",
        (
            f'aronanet_errors_sent_total{{code="{code}"}} {count}'
            for code, count in sorted(counters.errors.items())
        ),
    )
    metric(
        "aronanet_store_commits_total",
        "counter",
        "Store transactions committed (a group commit of many jobs counts once).",
        [f"aronanet_store_commits_total {node.store.commits}"],
    )
    metric(
        "aronanet_store_commit_latency_seconds",
        "histogram",
        "Time from a store job's enqueue to its durable commit.",
        node.store.commit_latency.lines("aronanet_store_commit_latency_seconds"),
    )
    metric(
        "aronanet_start_time_seconds",
        "gauge",
        "Unix time the node started.",
        [f"aronanet_start_time_seconds {counters.started:.3f}"],
    )
    return "\n".join(out) + "\n"
