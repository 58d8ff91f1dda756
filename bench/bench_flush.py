"""The node's fan-out flush alone: CPU per delivery of the router's delivery and flush.

One channel of ``--members`` real ``Session`` objects, each over a handshaken sans-I/O
``Connection`` and a ``TcpStream`` whose transport only counts bytes, so no socket or
kernel time is in the figure: it is the Python and AES-GCM work the node does per
delivery. Each round delivers ``k`` events to the channel (``Router.deliver``) and flushes
once (``Router._flush_dirty``), as one loop turn of the node does; k=1 is a message at a
low rate, larger k a burst at saturation. Best of several repeats, so a noisy neighbour
inflates nothing. To compare two builds::

    .venv/bin/python bench/bench_flush.py
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/bench_flush.py
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench_proto import open_pair
from loadgen.report import machine_facts, markdown_table

from aronanet.server.broker.local import LocalBroker
from aronanet.server.router import Router
from aronanet.server.session import Session
from aronanet.server.store.rows import user_key
from aronanet.transport.tcp import TcpStream

REPEATS = 5
#: A channel MSG event of about the size the fan-out benchmark sends.
EVENT = (
    b'{"type":"MSG","id":"%d","from":"sender","dest_type":"channel","dest":"#fanout100",'
    b'"content":"' + b"x" * 120 + b'","timestamp":1700000000}'
)


class CountingTransport:
    """What a session's flush uses of an asyncio transport; nothing is sent."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


def seat(members: int, *, batch: bool) -> tuple[Router, tuple[str, ...]]:
    """A router with ``members`` logged-in sessions; their user keys (the channel)."""
    together = getattr(Session, "flush_together", None)  # absent in builds before c08e980
    router = Router(LocalBroker(), together) if together else Router(LocalBroker())
    for number in range(members):
        _, server = open_pair()
        stream = TcpStream(lambda _: None, 1 << 30)
        stream._transport = CountingTransport()  # type: ignore[assignment]
        session = Session(
            f"s{number}",
            stream,
            server,
            router=router,
            dispatch=None,  # type: ignore[arg-type]  # no requests are read here
            monotonic=time.monotonic,
            rate_bucket=None,
            on_closed=lambda _: None,
        )
        if batch:
            session.enable_batch()
        session.authenticate(f"u{number}")
    return router, tuple(user_key(f"u{number}") for number in range(members))


async def per_delivery(members: int, events: int, *, batch: bool, rounds: int) -> float:
    """Best µs per delivery of ``rounds`` rounds of ``events`` deliveries and one flush."""
    router, channel = seat(members, batch=batch)
    payloads = [EVENT % number for number in range(events)]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(rounds):
            for payload in payloads:
                router.deliver(channel, payload, None)
            router._flush_dirty()
        best = min(best, (time.perf_counter() - started) / (rounds * events * members))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--deliveries", type=int, default=300_000, help="per repeat")
    args = parser.parse_args()
    rows = []
    for events in (1, 10, 100):
        rounds = max(1, args.deliveries // (events * args.members))
        figures = [
            asyncio.run(per_delivery(args.members, events, batch=batch, rounds=rounds))
            for batch in (True, False)
        ]
        rows.append([str(events), *(f"{figure:.3f}" for figure in figures)])
    print(f"Router delivery + flush, {args.members} members, no kernel; {machine_facts()}")
    print(markdown_table(["events per flush", "batch µs/delivery", "1.0 µs/delivery"], rows))


if __name__ == "__main__":
    main()
