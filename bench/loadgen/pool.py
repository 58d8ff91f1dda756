"""The orchestrator's handle on its load-generator worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from loadgen.counters import Progress
from loadgen.procstat import cpu_seconds
from loadgen.worker import worker_main

_JOIN_SECONDS = 5.0


class WorkerError(RuntimeError):
    """A worker could not carry out a command (its message says why)."""


class WorkerPool:
    """``count`` worker processes, commanded together; use as an async context manager."""

    def __init__(self, count: int, *, uvloop: bool = False) -> None:
        self.count = count
        self.uvloop = uvloop
        self.progress = Progress(count)
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for slot in range(self.count):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=worker_main,
                args=(child_end, self.progress.slots, slot, self.uvloop),
                name=f"loadgen-{slot}",
                daemon=True,
            )
            process.start()
            child_end.close()
            self._pipes.append(parent_end)
            self._processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes if process.pid is not None]

    def cpu_seconds(self) -> float:
        """CPU consumed so far by all workers (to report what the load generator cost)."""
        return sum(cpu_seconds(pid) for pid in self.pids)

    def _exchange(self, commands: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for pipe, command in zip(self._pipes, commands, strict=True):
            pipe.send(command)
        replies: list[dict[str, Any]] = []
        for slot, pipe in enumerate(self._pipes):
            if not pipe.poll(timeout):
                raise WorkerError(
                    f"worker {slot} did not answer {commands[slot]['op']} in {timeout} s"
                )
            reply = pipe.recv()
            if not reply["ok"]:
                raise WorkerError(f"worker {slot}: {reply['error']}")
            replies.append(reply)
        return replies

    async def each(self, commands: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        """Send worker ``i`` the command ``commands[i]``; return every reply, in order.

        Runs in a thread so the orchestrator's own clients keep being served meanwhile.
        """
        return await asyncio.to_thread(self._exchange, commands, timeout)

    async def all(self, command: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        """Send every worker the same command."""
        return await self.each([command] * self.count, timeout)

    def stop(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # a worker that died has closed its end
                pipe.send({"op": "close"})
        for process in self._processes:
            process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(_JOIN_SECONDS)
        self._pipes.clear()
        self._processes.clear()

    async def __aenter__(self) -> WorkerPool:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def split_round_robin(items: list[Any], parts: int) -> list[list[Any]]:
    """Deal ``items`` into ``parts`` lists like cards, so each part holds every kind."""
    return [items[index::parts] for index in range(parts)]
