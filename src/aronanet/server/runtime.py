"""Interpreter settings for a serving node: the GIL's switch interval (the event loop and
the store's writer thread take turns with it) and the garbage collector's pace.

Measured at saturation (docs/BENCHMARKS.md, issue 13): they change throughput and tail
latency, never behaviour.
"""

from __future__ import annotations

import gc

#: How long the event loop may hold the GIL while the store's writer thread waits for it
#: (Python's default is 5 ms). The writer needs the GIL a few times per group commit, after
#: each SQLite call, and every message of the group waits for that commit.
GIL_SWITCH_INTERVAL = 0.001


#: Net new container objects between two young collections (CPython's default: 700). A
#: ``MSG`` in flight holds dozens (its request, task, future, rows, event), so at the
#: default a busy node ran a collection every few messages: 6% of the loop's time.
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Once started: move what the start made (settings, caches, the code's own objects)
    out of the collector's sight for good, and collect the young far less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
