"""What a worker process shares with the orchestrator while a phase runs.

``Progress`` is one slot per worker in shared memory holding the fewest deliveries any of
its receivers has had in the current phase. The sender reads the minimum over all slots to
keep at most a bounded number of messages in flight towards the slowest receiver: servers
disconnect receivers whose outgoing queue overflows (the node's bounded per-session queue,
ngircd's write buffer), and a benchmark that made them do so would measure nothing.
"""

from __future__ import annotations

import array
import multiprocessing
from multiprocessing.sharedctypes import SynchronizedArray


class Progress:
    """Shared per-worker minimum-delivery counters (written by workers, read by the sender)."""

    def __init__(self, workers: int) -> None:
        self._slots: SynchronizedArray[int] = multiprocessing.get_context("spawn").Array(
            "q", workers, lock=False
        )

    @property
    def slots(self) -> SynchronizedArray[int]:
        """The raw shared array, to hand to a worker process at start."""
        return self._slots

    def slowest(self) -> int:
        """Deliveries of the slowest receiver over every worker."""
        return min(self._slots)

    def reset(self) -> None:
        for index in range(len(self._slots)):
            self._slots[index] = 0


class LatencyLog:
    """Latency samples of one worker in microseconds, kept compact in an ``array``."""

    __slots__ = ("enabled", "samples")

    def __init__(self) -> None:
        self.enabled = False
        self.samples = array.array("q")

    def start(self, enabled: bool) -> None:
        self.enabled = enabled
        self.samples = array.array("q")
