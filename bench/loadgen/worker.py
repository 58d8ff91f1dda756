"""A load-generator process: many receiving clients on one asyncio loop.

The orchestrator starts one or two of these (``multiprocessing``, spawn) so receivers do not
share a core's Python interpreter with the sender. It drives them over a pipe with small
dict commands, answered one reply each:

* ``connect``: open ``clients`` (a list of ``{"name", "channels"}``, each with an optional
  ``"port"`` of its own, to spread clients over several nodes, and optional ``"labels"``
  that ``phase`` selects it by as if they were channels, for direct messages) of ``kind``
  ``"artp"`` or ``"irc"``, ``concurrency`` at a time; for ``"artp-handshake"`` stop after the
  handshake.
* ``storm``: start sessions back to back (``artp``: handshake + ``PING``; ``irc``:
  registration) on ``concurrency`` lanes for ``duration`` seconds; reply the count.
* ``phase``: zero the delivery counters of the members of ``channel`` (or of any of
  ``channels``) and start publishing their minimum to the shared progress slot; ``latency``
  turns on latency sampling.
* ``collect``: the phase's deliveries, and its latency samples (µs) as array bytes.
* ``disconnect``: disconnect every receiver and forget them (to reuse the worker).
* ``close``: disconnect everything and exit.

Every wait is bounded by the command's ``timeout``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from loadgen.artp import connect_artp, handshake_once, open_session
from loadgen.counters import LatencyLog
from loadgen.irc import connect_irc

#: How often the slowest receiver's count is published for the sender's flow control.
_PUBLISH_INTERVAL = 0.002
PASSWORD = "benchmark-password"


class Receiver(Protocol):
    delivered: int

    def close(self) -> None: ...


Connector = Callable[[int, dict[str, Any], LatencyLog, float], Awaitable[Receiver]]


async def _artp(port: int, spec: dict[str, Any], log: LatencyLog, timeout: float) -> Receiver:
    return await connect_artp(port, spec["name"], PASSWORD, spec["channels"], log, timeout)


async def _artp_batch(port: int, spec: dict[str, Any], log: LatencyLog, timeout: float) -> Receiver:
    return await connect_artp(
        port, spec["name"], PASSWORD, spec["channels"], log, timeout, batch=True
    )


async def _artp_handshake(
    port: int, spec: dict[str, Any], log: LatencyLog, timeout: float
) -> Receiver:
    return await open_session(port, spec["name"], log, timeout)


async def _irc(port: int, spec: dict[str, Any], log: LatencyLog, timeout: float) -> Receiver:
    return await connect_irc(port, spec["name"], spec["channels"], log, timeout)


CONNECTORS: dict[str, Connector] = {
    "artp": _artp,
    "artp-batch": _artp_batch,
    "artp-handshake": _artp_handshake,
    "irc": _irc,
}


async def _artp_storm(port: int, name: str, timeout: float) -> None:
    await handshake_once(port, _storm_key(), timeout)


async def _irc_storm(port: int, name: str, timeout: float) -> None:
    client = await connect_irc(port, name, [], LatencyLog(), timeout)
    client.close()


@functools.cache
def _storm_key() -> X25519PrivateKey:
    """One device key per process: a real client reuses its key, only ``e`` is fresh."""
    return X25519PrivateKey.generate()


STORMS: dict[str, Callable[[int, str, float], Awaitable[None]]] = {
    "artp": _artp_storm,
    "irc": _irc_storm,
}


class Worker:
    """The receivers of one process and the command loop that drives them."""

    def __init__(self, pipe: Connection, progress: SynchronizedArray[int], slot: int) -> None:
        self.pipe = pipe
        self.progress = progress
        self.slot = slot
        self.latency = LatencyLog()
        self.receivers: list[tuple[Receiver, list[str]]] = []
        self.members: list[Receiver] = []
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.pipe.fileno(), lambda: self.commands.put_nowait(self.pipe.recv()))
        # uvloop makes a watched descriptor non-blocking; a large reply must not fail halfway.
        os.set_blocking(self.pipe.fileno(), True)
        publisher = asyncio.create_task(self.publish_progress())
        try:
            while True:
                command = await self.commands.get()
                reply = await self.execute(command)
                self.pipe.send(reply)
                if command["op"] == "close":
                    return
        finally:
            publisher.cancel()
            loop.remove_reader(self.pipe.fileno())

    async def execute(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            handler = getattr(self, f"op_{command['op']}")
            return {"ok": True, **await handler(command)}
        except Exception as error:  # reported to the orchestrator, which stops the run
            return {"ok": False, "error": f"{type(error).__name__}: {error}"}

    async def op_connect(self, command: dict[str, Any]) -> dict[str, Any]:
        connector = CONNECTORS[command["kind"]]
        limit = asyncio.Semaphore(command["concurrency"])
        started = time.monotonic()

        async def one(spec: dict[str, Any]) -> None:
            async with limit:
                port = spec.get("port", command["port"])
                receiver = await connector(port, spec, self.latency, command["timeout"])
            self.receivers.append((receiver, [*spec["channels"], *spec.get("labels", [])]))

        await asyncio.gather(*(one(spec) for spec in command["clients"]))
        return {"connected": len(command["clients"]), "seconds": time.monotonic() - started}

    async def op_storm(self, command: dict[str, Any]) -> dict[str, Any]:
        """Start sessions back to back on ``concurrency`` lanes for ``duration`` seconds."""
        start_one = STORMS[command["kind"]]
        port, timeout = command["port"], command["timeout"]
        deadline = time.monotonic() + command["duration"]
        completed = 0

        async def lane(lane_index: int) -> None:
            nonlocal completed
            rounds = 0
            while time.monotonic() < deadline:
                # IRC allows 9-character nicknames; unique among the lanes running at once.
                name = f"h{self.slot % 10}{lane_index % 100:02d}{rounds % 100_000}"
                await start_one(port, name, timeout)
                rounds += 1
                completed += 1

        await asyncio.gather(*(lane(index) for index in range(command["concurrency"])))
        return {"completed": completed}

    async def op_phase(self, command: dict[str, Any]) -> dict[str, Any]:
        wanted = set(command.get("channels") or [command["channel"]])
        self.members = [
            receiver for receiver, channels in self.receivers if wanted.intersection(channels)
        ]
        for receiver in self.members:
            receiver.delivered = 0
        self.latency.start(command["latency"])
        self.progress[self.slot] = 0
        return {"members": len(self.members)}

    async def op_collect(self, command: dict[str, Any]) -> dict[str, Any]:
        self.latency.enabled = False
        delivered = sum(receiver.delivered for receiver in self.members)
        return {"delivered": delivered, "latencies": self.latency.samples.tobytes()}

    async def op_disconnect(self, command: dict[str, Any]) -> dict[str, Any]:
        for receiver, _ in self.receivers:
            receiver.close()
        self.receivers, self.members = [], []
        await asyncio.sleep(0.1)
        return {}

    async def op_close(self, command: dict[str, Any]) -> dict[str, Any]:
        return await self.op_disconnect(command)

    async def publish_progress(self) -> None:
        """Publish the slowest member's count; a worker with no members never holds back."""
        while True:
            members = self.members
            self.progress[self.slot] = (
                min(receiver.delivered for receiver in members) if members else 2**62
            )
            await asyncio.sleep(_PUBLISH_INTERVAL)


def worker_main(
    pipe: Connection, progress: SynchronizedArray[int], slot: int, use_uvloop: bool = False
) -> None:
    """Process entry point (must be importable for the spawn start method). On uvloop (the
    node's default loop) receiving costs this process about a third less than on asyncio's
    own loop, which at 500 members keeps the load generator from saturating the machine."""
    from loadgen.servers import raise_file_limit

    raise_file_limit()
    main = Worker(pipe, progress, slot).run()
    if use_uvloop:
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)
