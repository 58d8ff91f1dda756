"""The benchmark message: a sequence number and a send timestamp inside the content.

Receivers compute latency from the embedded send time, so no clock has to be shared other
than ``CLOCK_MONOTONIC``, which is one clock for every process on a Linux machine. The
content is padded to a fixed size so every server carries the same bytes per delivery.
"""

from __future__ import annotations

import time

#: Content length in characters: a typical chat line.
CONTENT_SIZE = 64
_MARK = "b"


def make_content(sequence: int, size: int = CONTENT_SIZE) -> str:
    """``"b <sequence> <send monotonic ns> xxx..."``, padded to ``size`` characters."""
    head = f"{_MARK} {sequence} {time.monotonic_ns()} "
    return head + "x" * max(1, size - len(head))


def latency_microseconds(content_start: bytes, received_ns: int) -> int:
    """Latency of one delivery from the content's start (``b <seq> <ns> ...``) in µs.

    ``content_start`` must begin with the mark; at least the two numbers must follow.
    """
    _, _, sent_ns, _ = content_start.split(b" ", 3)
    return (received_ns - int(sent_ns)) // 1000
