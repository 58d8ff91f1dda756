"""Who spent the CPU during a measured window: the server, the load generator, the rest.

On a 2-core machine the load generator competes with the server, and other work on the
machine (other people's tests) competes with both. Every figure is reported with all three
so a reader can tell a slow server from a starved one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from loadgen.procstat import cpu_seconds, machine_busy_seconds


@dataclass(frozen=True, slots=True)
class Spent:
    """CPU seconds spent over ``wall_seconds`` of wall-clock time."""

    wall_seconds: float
    server_cpu: float
    loadgen_cpu: float
    machine_cpu: float

    def cores(self, cpu: float) -> float:
        return cpu / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def server_cores(self) -> float:
        return self.cores(self.server_cpu)

    @property
    def loadgen_cores(self) -> float:
        return self.cores(self.loadgen_cpu)

    @property
    def other_cores(self) -> float:
        """Busy cores not accounted for by the server or the load generator (never < 0)."""
        return max(0.0, self.cores(self.machine_cpu - self.server_cpu - self.loadgen_cpu))


class Meter:
    """Reads the server's, the load generator's and the machine's CPU at start and stop."""

    def __init__(self, server_pid: int, loadgen_pids: Callable[[], list[int]]) -> None:
        self._server_pid = server_pid
        self._loadgen_pids = loadgen_pids
        self._start: tuple[float, float, float, float] | None = None

    def _read(self) -> tuple[float, float, float, float]:
        loadgen = sum(cpu_seconds(pid) for pid in [os.getpid(), *self._loadgen_pids()])
        return (
            time.monotonic(),
            cpu_seconds(self._server_pid),
            loadgen,
            machine_busy_seconds(),
        )

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> Spent:
        if self._start is None:
            raise RuntimeError("Meter.stop() before start()")
        now = self._read()
        wall, server, loadgen, machine = (b - a for a, b in zip(self._start, now, strict=True))
        return Spent(wall, server, loadgen, machine)
