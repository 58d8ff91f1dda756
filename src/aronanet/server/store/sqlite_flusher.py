"""The write-ahead log's flushes on a thread of their own, beside the writer's commits.

The writer commits a group (``synchronous=NORMAL``), shows it to the loop and hands it
here; this thread flushes the log (``fdatasync``), and only then are the group's callers
told it is durable. Meanwhile the writer commits and shows the next groups. A disk whose
flush takes 20 ms (another program writing to it, a busy cloud volume) then holds back
acknowledgements, never the commits and fan-outs queued behind it: with the flush on the
writer's own thread, every message that arrived during a slow flush waited for it before
its first recipient saw it. One flush covers every group handed over before it began, so
the groups committed during a slow flush share the next one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def take_waiting(items: queue.SimpleQueue[T | None], limit: int) -> tuple[list[T], bool]:
    """Block for one item, then take every item already waiting (at most ``limit``);
    and whether the stop sentinel (``None``) was among them."""
    first = items.get()
    if first is None:
        return [], True
    taken = [first]
    while len(taken) < limit:
        try:
            item = items.get_nowait()
        except queue.Empty:
            break
        if item is None:
            return taken, True
        taken.append(item)
    return taken, False


class LogFlusher(Generic[T]):
    """A thread that flushes the log for the groups handed to it, many per flush.

    ``flushed(groups)`` or ``failed(groups, error)`` runs on this thread after each flush,
    with the groups it covered, oldest first.
    """

    def __init__(
        self,
        flush: Callable[[], None],
        flushed: Callable[[list[T]], None],
        failed: Callable[[list[T], OSError], None],
    ) -> None:
        self._flush = flush
        self._flushed = flushed
        self._failed = failed
        self._groups: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="aronanet-flush", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, group: T) -> None:
        """``group`` was committed before this call: the next flush to begin covers it."""
        self._groups.put(group)

    def stop(self) -> None:
        """Flush what was handed over, then end the thread (blocking)."""
        if self._thread.is_alive():
            self._groups.put(None)
            self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            groups, stopping = take_waiting(self._groups, limit=2**31)
            if groups:
                self._flush_groups(groups)

    def _flush_groups(self, groups: list[T]) -> None:
        try:
            self._flush()
        except OSError as exc:  # the disk failed: nobody may be told these are durable
            self._failed(groups, exc)
            return
        self._flushed(groups)
