"""The write ceiling of one PostgreSQL for a whole community, measured on the store alone.

Every node's write transaction takes one advisory lock first and holds it through its
``COMMIT`` (docs/SCALE-OUT.md §4, ``store/postgres_writer.py``), so the write transactions of ALL
nodes run one after another: however many nodes there are, the community stores at most
one lock-holder's worth of messages per second. This probe drives the node's own
``PostgresStore`` (its group-commit writer, nothing else on the event loop) twice:

* serial: one ``append_message`` at a time, so each is a transaction of its own: the time
  is lock + one message + the commit's WAL flush (fsync);
* pipelined: ``in_flight`` at a time, so the writer commits big groups: messages per second
  of one lock holder, which is the ceiling of the community's write rate on this database
  from this client machine.

From the two, the time one message holds the lock (``lock_us_per_message``) and the time
of a commit: the figures the paper estimate in docs/SCALE-OUT.md starts from. The CPU the
writer's process and its PostgreSQL backend spent per pipelined message says what that
lock time is made of (the rest is waiting: round trips, and a busy machine).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import NewMessage
from loadgen.payload import make_content
from loadgen.stats import percentile

_CONVERSATIONS = 16


@dataclass(frozen=True, slots=True)
class Ceiling:
    serial_messages: int
    serial_p50_ms: float
    pipelined_messages: int
    pipelined_seconds: float
    pipelined_commits: int
    client_cpu: float
    postgres_cpu: float

    @property
    def messages_per_second(self) -> float:
        return self.pipelined_messages / self.pipelined_seconds

    @property
    def messages_per_commit(self) -> float:
        return self.pipelined_messages / max(1, self.pipelined_commits)

    @property
    def client_us_per_message(self) -> float:
        return self.client_cpu / max(1, self.pipelined_messages) * 1e6

    @property
    def postgres_us_per_message(self) -> float:
        return self.postgres_cpu / max(1, self.pipelined_messages) * 1e6

    @property
    def lock_us_per_message(self) -> float:
        """Lock time per message of a big group: (batch time - single time) / (batch - 1)."""
        batch = self.messages_per_commit
        batch_seconds = batch / self.messages_per_second
        if batch <= 1:
            return batch_seconds * 1e6
        return max(0.0, batch_seconds - self.serial_p50_ms / 1e3) / (batch - 1) * 1e6


def _message(sequence: int) -> NewMessage:
    channel = f"#ceiling{sequence % _CONVERSATIONS}"
    return NewMessage(
        conversation=channel,
        sender="ceiling",
        dest_type="channel",
        dest=channel,
        content=make_content(sequence),
        timestamp=int(time.time() * 1000),
    )


async def _serial(store: PostgresStore, count: int, numbers: itertools.count[int]) -> float:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        await store.append_message(_message(next(numbers)))
        seconds.append(time.perf_counter() - started)
    return percentile(sorted(seconds), 0.5) * 1e3


async def _pipelined(
    store: PostgresStore, duration: float, in_flight: int, numbers: itertools.count[int]
) -> tuple[int, float]:
    deadline = time.monotonic() + duration
    done = 0

    async def lane() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await store.append_message(_message(next(numbers)))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return done, time.perf_counter() - started


async def measure_ceiling(
    store_url: str,
    postgres_cpu: Callable[[], float],
    serial: int = 100,
    duration: float = 3.0,
    in_flight: int = 512,
) -> Ceiling:
    """Open the node's store on ``store_url`` (an empty schema) and measure both shapes;
    ``postgres_cpu`` reads the CPU seconds of the PostgreSQL backends serving that URL."""
    store = PostgresStore(store_url)
    await store.open()
    numbers = itertools.count()
    try:
        await _pipelined(store, min(0.5, duration), in_flight, numbers)  # warm up
        serial_p50 = await _serial(store, serial, numbers)
        commits, client, server = store.commits, time.process_time(), postgres_cpu()
        done, seconds = await _pipelined(store, duration, in_flight, numbers)
        return Ceiling(
            serial_messages=serial,
            serial_p50_ms=serial_p50,
            pipelined_messages=done,
            pipelined_seconds=seconds,
            pipelined_commits=store.commits - commits,
            client_cpu=time.process_time() - client,
            postgres_cpu=postgres_cpu() - server,
        )
    finally:
        await store.close()
