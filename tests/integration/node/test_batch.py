"""ArTP/1.1 ``batch`` (§14.2) against a real node: arrays arrive only where asked for, carry
events and replies in order, and a 1.0 client in the same channel sees the same messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from aronanet.proto.messages import Join, MsgEvent, Ok, SendMsg
from aronanet.server.node import Node

from .conftest import seat_bystanders
from .driver import TestClient
from .test_hostile_input import flood_a_reader_that_stopped, read_until_closed

Connect = Callable[..., Awaitable[TestClient]]
BURST = 60


async def _seat(connect: Connect, node: Node, name: str, *, ws: bool, batch: bool) -> TestClient:
    client = await connect(node, ws=ws, features=["batch"] if batch else [])
    await client.login(name)
    await client.ok(Join(channel="#burst"))
    return client


async def _contents(client: TestClient, count: int) -> list[str]:
    return [(await client.next_event_of(MsgEvent)).content for _ in range(count)]


async def _burst(sender: TestClient, count: int) -> list[Ok]:
    """Pipeline ``count`` messages in one write, then collect their OKs."""
    futures = []
    for number in range(count):
        request_id = sender.next_id()
        futures.append(sender.expect_reply(request_id))
        sender.conn.send(
            SendMsg(dest_type="channel", dest="#burst", content=f"m{number}", id=request_id)
        )
    await sender.flush()
    return [await asyncio.wait_for(future, 10) for future in futures]


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_hello_lists_batch_only_for_a_client_that_asked(
    node: Node, connect: Connect, ws: bool
) -> None:
    asking = await connect(node, ws=ws, features=["batch", "no-such-feature"])
    silent = await connect(node, ws=ws)
    assert asking.hello is not None and silent.hello is not None
    assert "batch" in asking.hello.features
    assert "no-such-feature" not in asking.hello.features
    assert "batch" not in silent.hello.features


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_a_burst_reaches_a_batch_client_in_fewer_messages_and_in_order(
    node: Node, connect: Connect, ws: bool
) -> None:
    batch = await _seat(connect, node, "batcher", ws=ws, batch=True)
    plain = await _seat(connect, node, "plain", ws=ws, batch=False)
    sender = await _seat(connect, node, "sender", ws=ws, batch=False)
    await asyncio.sleep(0.1)  # let the JOIN events arrive before counting
    batch_before, plain_before = batch.transport_messages, plain.transport_messages

    oks = await _burst(sender, BURST)

    expected = [f"m{number}" for number in range(BURST)]
    assert await _contents(batch, BURST) == expected
    assert await _contents(plain, BURST) == expected
    assert plain.transport_messages - plain_before == BURST  # 1.0: one message each
    assert batch.transport_messages - batch_before < BURST  # batch: arrays
    assert len({ok.msg_id for ok in oks}) == BURST


async def test_replies_inside_arrays_keep_request_order_between_events(
    node: Node, connect: Connect
) -> None:
    """A batch sender's own OKs come in request order even when arrays also hold events."""
    sender = await _seat(connect, node, "busy", ws=False, batch=True)
    other = await _seat(connect, node, "other", ws=False, batch=False)
    chatter = asyncio.create_task(_burst(other, BURST))
    oks = await _burst(sender, BURST)
    await chatter
    ids = [int(ok.msg_id) for ok in oks]  # AronaNET's ids increase in commit order (§5)
    assert ids == sorted(ids)
    received = await _contents(sender, BURST)  # the other user's burst, as events
    assert received == [f"m{number}" for number in range(BURST)]


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_a_batch_client_that_stops_reading_is_still_dropped(
    start_node: Callable[..., Awaitable[Node]], connect: Connect, ws: bool
) -> None:
    """Batching changes how many transport messages hold the output, not the byte bound."""
    received = await flood_a_reader_that_stopped(
        start_node,
        connect,
        ws=ws,
        features=["batch"],
        max_outgoing_queue=100_000,
        max_outgoing_bytes=512 * 1024,
    )
    assert received < 2000 * 4000  # dropped instead of buffering everything


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "1.0"])
async def test_a_reader_that_stops_is_dropped_when_events_come_one_at_a_time(
    start_node: Callable[..., Awaitable[Node]], connect: Connect, batch: bool
) -> None:
    """One event per flush takes the fan-out's shared path (sealed for every session with
    nothing else queued, in one pass): it drops a peer past the byte bound all the same."""
    node = await start_node(rate_limit_enabled=False, max_outgoing_bytes=512 * 1024)
    bystanders = await seat_bystanders(node, connect)
    slow = await connect(node, rcvbuf=4096, features=["batch"] if batch else [])
    await slow.login("sloth")
    await slow.ok(Join(channel="#lobby"))
    slow.stop_reading()
    content = "z" * 4000
    for _ in range(2000):  # each waits for its OK: one message per commit, per flush
        await bystanders.speaker.ok(SendMsg(dest_type="channel", dest="#lobby", content=content))
        assert (await bystanders.listener.next_event_of(MsgEvent)).content == content
    await bystanders.still_talk()
    received = await asyncio.wait_for(read_until_closed(slow), 10)
    assert received < 2000 * 4000  # dropped instead of buffering everything


async def test_tcp_websocket_batch_and_1_0_readers_of_one_channel_see_the_same_messages(
    node: Node, connect: Connect
) -> None:
    """The shared fan-out path (TCP) and the per-session one (WebSocket, or a 1.0 client
    given several events at once) in one channel, one message at a time and in a burst."""
    readers = [
        await _seat(connect, node, name, ws=ws, batch=batch)
        for name, ws, batch in [
            ("tcp-batch", False, True),
            ("tcp-plain", False, False),
            ("ws-batch", True, True),
            ("ws-plain", True, False),
        ]
    ]
    sender = await _seat(connect, node, "sender", ws=False, batch=True)
    await asyncio.sleep(0.1)  # the JOIN events of later members arrive first
    for number in range(5):
        await sender.ok(SendMsg(dest_type="channel", dest="#burst", content=f"one {number}"))
    await _burst(sender, BURST)
    expected = [f"one {number}" for number in range(5)] + [f"m{n}" for n in range(BURST)]
    for reader in readers:
        assert await _contents(reader, len(expected)) == expected
