"""The Redis broker against the real Redis: two brokers are two nodes of one community."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from aronanet.server.broker.base import Delivery
from aronanet.server.broker.redis import RedisBroker, RemoteChange, _encoder
from aronanet.server.store.base import BackendUnavailableError

from .services import REDIS_URL, redis_client

WAIT = 5.0
Pair = tuple["RedisBroker", "Listener", "RedisBroker", "Listener"]


@dataclass
class Listener:
    """What one node's router and channel cache would receive."""

    deliveries: list[Delivery] = field(default_factory=list)
    changes: list[bytes] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    resyncs: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def attach(self, broker: RedisBroker) -> None:
        broker.subscribe(self.on_delivery)
        broker.subscribe_changes(self.on_change, self.on_resync)

    def on_delivery(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.order.append(delivery.payload.decode())
        self.arrived.set()

    def on_change(self, change: bytes) -> None:
        self.changes.append(change)
        self.order.append(change.decode())
        self.arrived.set()

    async def on_resync(self) -> None:
        self.resyncs += 1

    async def until(self, done: Callable[[], bool], timeout: float = WAIT) -> None:
        async def wait() -> None:
            while not done():
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), timeout)


@pytest.fixture
async def pair(
    redis_prefix: str,
) -> AsyncIterator[tuple[RedisBroker, Listener, RedisBroker, Listener]]:
    nodes = []
    for _ in range(2):
        broker, listener = RedisBroker(REDIS_URL, prefix=redis_prefix), Listener()
        listener.attach(broker)
        await broker.start()
        nodes.append((broker, listener))
    (a, a_seen), (b, b_seen) = nodes
    yield a, a_seen, b, b_seen
    await asyncio.gather(a.close(), b.close())


async def test_a_delivery_reaches_this_node_at_once_and_the_other_through_redis(pair) -> None:
    a, a_seen, b, b_seen = pair
    a.publish(Delivery(("kei", "mika"), b"event", skip_session="s1"))
    # Locally: synchronously, with the skipped session, exactly once.
    assert a_seen.deliveries == [Delivery(("kei", "mika"), b"event", "s1")]
    await b_seen.until(lambda: bool(b_seen.deliveries))
    # Remotely: the skip does not travel (session ids are only unique on their node).
    assert b_seen.deliveries == [Delivery(("kei", "mika"), b"event", None)]
    b.publish(Delivery(("x",), b"marker"))
    await a_seen.until(lambda: len(a_seen.deliveries) == 2)
    assert [d.payload for d in a_seen.deliveries] == [b"event", b"marker"]  # no echo of its own


async def test_changes_and_deliveries_arrive_in_the_order_they_were_published(pair) -> None:
    a, a_seen, _, b_seen = pair
    for n in range(50):
        a.publish_change(f"change {n}".encode())
        a.publish(Delivery(("u",), f"event {n}".encode()))
    await b_seen.until(lambda: len(b_seen.order) == 100)
    expected = [text for n in range(50) for text in (f"change {n}", f"event {n}")]
    assert b_seen.order == expected
    assert a_seen.changes == []  # a node applies its own changes itself


async def test_published_returns_once_redis_holds_the_change_for_the_others(
    pair, redis_prefix: str
) -> None:
    a, _, b, _ = pair
    watcher = redis_client()
    pubsub = watcher.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(a.channel)
        assert pubsub.get_message(timeout=WAIT) is None  # the confirmation, skipped
        await a.published()  # nothing queued: at once
        for n in range(3):
            a.publish_change(f"change {n}".encode())
        await a.published()
        # Without waiting any more, every change already sits in a subscriber's socket.
        got = [pubsub.get_message(timeout=0) for _ in range(3)]
        assert all(message is not None for message in got), got
        await b.close()
        b.publish_change(b"after close")
        await asyncio.wait_for(b.published(), WAIT)  # a closed broker holds nobody
    finally:
        pubsub.close()
        watcher.close()


async def test_caught_up_returns_once_this_node_has_handled_every_earlier_change(
    pair,
) -> None:
    _, _, b, b_seen = pair
    changes = [f"change {n}".encode() for n in range(200)]
    other_node = redis_client()  # synchronous: b's listener cannot read while it publishes
    try:
        for change in changes:
            other_node.publish(b.channel, _encoder.encode(RemoteChange("elsewhere", change)))
    finally:
        other_node.close()
    assert b_seen.changes == []  # all in b's subscription, none read yet
    async with asyncio.timeout(WAIT):  # (no task of its own: this test yields only here)
        await b.caught_up()
    assert b_seen.changes == changes  # none left unread: a refusal may now be trusted
    await asyncio.wait_for(b.caught_up(), WAIT)  # nothing new: one round trip, no more
    answered: list[bytes] = []
    answer = b._answered

    def counted(token: object) -> None:
        if isinstance(token, bytes) and token:  # (an idle PING's answer is empty)
            answered.append(token)
        answer(token)

    b._answered = counted
    async with asyncio.timeout(WAIT):  # many requests refused at once: each gets its answer
        await asyncio.gather(*(b.caught_up() for _ in range(50)))
    assert len(set(answered)) == 50  # answered, not timed out
    assert not b._catching_up
    await b.close()
    await asyncio.wait_for(b.caught_up(), WAIT)  # a closed broker waits for nothing


async def test_a_node_that_loses_redis_logs_it_reconnects_and_resyncs(
    pair, caplog: pytest.LogCaptureFixture
) -> None:
    a, _, b, b_seen = pair
    caplog.set_level(logging.INFO, logger="aronanet.server.broker.redis")
    killed = kill_redis_connections(b, role="sub")
    assert killed == 1

    async def deliveries_flow_again() -> None:
        n = 0
        while not any(d.payload == b"after" for d in b_seen.deliveries):
            n += 1
            a.publish(Delivery(("u",), b"after"))
            await asyncio.sleep(0.05)

    await asyncio.wait_for(deliveries_flow_again(), 15)
    assert b.reconnects == 1 and b_seen.resyncs == 1
    events = [record.getMessage() for record in caplog.records]
    assert "broker_lost" in events and "broker_reconnected" in events


async def test_start_fails_clearly_when_redis_is_not_there() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = RedisBroker(f"redis://:hunter22@127.0.0.1:{port}/0")
    with pytest.raises(BackendUnavailableError) as caught:
        await broker.start()
    assert f"127.0.0.1:{port}" in str(caught.value) and "hunter22" not in str(caught.value)
    await broker.close()


def kill_redis_connections(broker: RedisBroker, role: str = "") -> int:
    """Drop the connections of ``broker`` (of one ``role``, sub or pub, if given) on the
    Redis server, as a network failure would."""
    admin = redis_client()
    try:
        mine = [
            client["id"]
            for client in admin.client_list()
            if client.get("name", "").startswith(f"aronanet-{role}")
            and client.get("name", "").endswith(broker.node_id)
        ]
        return sum(int(admin.client_kill_filter(_id=client_id)) for client_id in mine)
    finally:
        admin.close()


class CuttingProxy:
    """A TCP relay to Redis that can lose one request: after ``cut_next_request`` the next
    bytes a client sends are swallowed and its connection closed, so a command is written
    and never answered, as when the network fails mid-request. (Killing the connection on
    the server instead races with redis-py, which silently replaces a connection it finds
    closed before using it: then nothing is lost and nothing need be resynced.)"""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._cut = False
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def cut_next_request(self) -> None:
        self._cut = True

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(*self._upstream)
        pumps = [
            asyncio.create_task(self._pump(client_r, redis_w, client_w, from_client=True)),
            asyncio.create_task(self._pump(redis_r, client_w, client_w, from_client=False)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for writer in (client_w, redis_w):
            writer.close()

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
        *,
        from_client: bool,
    ) -> None:
        while data := await source.read(65536):
            if from_client and self._cut:
                self._cut = False
                self.cuts += 1
                client.transport.abort()
                return
            sink.write(data)
            await sink.drain()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()


async def test_a_node_that_could_not_publish_makes_every_node_resync(redis_prefix: str) -> None:
    redis_at = urlsplit(REDIS_URL)
    proxy = CuttingProxy((redis_at.hostname or "127.0.0.1", redis_at.port or 6379))
    port = await proxy.start()
    credentials = redis_at.netloc.rpartition("@")[0]
    through_proxy = redis_at._replace(
        netloc=f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    )
    # Node a reaches Redis through the proxy, node b directly.
    a = RedisBroker(through_proxy.geturl(), prefix=redis_prefix)
    b, b_seen = RedisBroker(REDIS_URL, prefix=redis_prefix), Listener()
    Listener().attach(a)
    b_seen.attach(b)
    await a.start()
    await b.start()
    try:
        a.publish(Delivery(("u",), b"warm-up"))  # the publisher's connection exists
        await b_seen.until(lambda: bool(b_seen.deliveries))
        proxy.cut_next_request()
        a.publish(Delivery(("u",), b"lost"))
        await asyncio.wait_for(a.published(), WAIT)
        assert proxy.cuts == 1 and a.dropped == 1 and a.owes_resync

        async def published_again() -> None:
            while not any(d.payload == b"later" for d in b_seen.deliveries):
                a.publish(Delivery(("u",), b"later"))
                await asyncio.sleep(0.05)

        await asyncio.wait_for(published_again(), 15)
        assert a.dropped == 1 and not a.owes_resync
        await b_seen.until(lambda: b_seen.resyncs == 1)
        assert b"lost" not in [d.payload for d in b_seen.deliveries]
    finally:
        await asyncio.gather(a.close(), b.close())
        await proxy.close()
