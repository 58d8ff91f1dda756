"""What a message's first step costs the node when its caches are cold, as at a low rate.

    .venv/bin/python bench/bench_cold_path.py [--messages N] [--evict-mib M]

At 200 messages/s the node sleeps ~5 ms between messages while other processes (on the
fan-out benchmark's 2 cores: the load generator) use its core, so each message runs through
code and objects that are no longer in the CPU's caches. ``bench_fanout_stages.py`` sees
the node's ``data_received`` (decrypt and decode one ``MSG``) take ~70 µs there; this shows
why, on the same work without sockets: each step timed once per message, back to back
(hot) and after writing ``--evict-mib`` MiB of other memory first (cold). Medians in µs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from bench_proto import open_pair
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aronanet.proto import codec
from aronanet.proto.messages import SendMsg

CONTENT = "b 1 1234567890 " + "x" * 49


def _evictor(mib: int) -> Callable[[], None]:
    scratch = bytearray(mib * 1024 * 1024)

    def evict() -> None:
        scratch[::64] = b"\x01" * len(range(0, len(scratch), 64))

    return evict


def median_micros(
    step: Callable[[bytes], object], items: Sequence[bytes], evict: Callable[[], None] | None
) -> float:
    """The median time of ``step(item)`` over ``items``, each after ``evict()`` if given."""
    times = []
    for item in items:
        if evict is not None:
            evict()
        start = time.perf_counter_ns()
        step(item)
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400, help="messages per step and case")
    parser.add_argument("--evict-mib", type=int, default=32, help="memory written between two")
    args = parser.parse_args()

    client, server = open_pair()
    requests = [
        codec.encode(SendMsg(dest_type="channel", dest="#general", content=CONTENT, id=f"m{n}"))
        for n in range(4 * args.messages)
    ]
    frames = []
    for plaintext in requests:
        client.send_encoded(plaintext)
        frames.append(client.data_to_send())
    aead = AESGCM(bytes(32))
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, requests[0], None)

    def receive(frame: bytes) -> object:
        server.receive_data(frame)
        return server.events_received()

    evict = _evictor(args.evict_mib)
    count = args.messages
    steps: list[tuple[str, Callable[[bytes], object], list[bytes], list[bytes]]] = [
        (
            "node receive: frame → decrypt → decode (MSG)",
            receive,
            frames[:count],
            frames[count : 2 * count],
        ),
        (
            "AES-256-GCM decrypt alone (cryptography)",
            lambda _: aead.decrypt(nonce, sealed, None),
            [b""] * count,
            [b""] * count,
        ),
        (
            "JSON decode alone (msgspec, SendMsg)",
            codec.decode_request,
            requests[:count],
            requests[count : 2 * count],
        ),
        ("nothing (the clock itself)", lambda _: None, [b""] * count, [b""] * count),
    ]
    print(f"median µs per message, {count} messages; cold: after writing {args.evict_mib} MiB")
    print("| step | hot | cold | cold / hot |\n|---|---|---|---|")
    for name, step, hot_items, cold_items in steps:
        hot = median_micros(step, hot_items, None)
        cold = median_micros(step, cold_items, evict)
        print(f"| {name} | {hot:.1f} | {cold:.1f} | {cold / hot:.0f}x |")


if __name__ == "__main__":
    main()
