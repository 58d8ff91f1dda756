"""The node-wide budget of unsent output, on a real node process: several readers that stop
reading, each under its own limit, together past the node's; the ones holding the most are
dropped (one log line each, no traceback, counted in ``/metrics``) and a reader that keeps
reading stays and is answered. The slow readers use TCP or WebSocket (whose unsent output
is an outbox of the node's, counted apart from the transport's buffer)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from aronanet.proto.messages import Join, MsgEvent, SendMsg

from .conftest import NodeProcess
from .driver import TcpPipe, TestClient, WsPipe
from .test_admin import admin_port, scrape

#: Each reader's own limit, and the node's: three slow readers at half their own limit
#: each are over the node's.
OWN_LIMIT = 1024 * 1024
NODE_LIMIT = 1024 * 1024
SLOW_READERS = 3
CONTENT = "q" * 4000
#: Messages per burst and seconds between bursts: slow enough that the node's periodic sum
#: (every 0.1 s) sees the total pass its limit long before any one reader reaches its own.
BURST, PAUSE = 16, 0.02
SHED_LINE = re.compile(r"slow_reader_shed session=(\S+) held=(\d+) limit=(\d+)")


@pytest.mark.parametrize("transport", ["tcp", "ws"])
async def test_slow_readers_over_the_node_budget_are_shed_before_their_own_limit(
    node_process, tmp_path, transport
):
    node = NodeProcess(
        tmp_path / "budget",
        flags=("--rate-limit", "off", "--admin-listen", "127.0.0.1:0"),
        limits={
            "max_frame": 8192,
            "max_outgoing_bytes": OWN_LIMIT,
            "max_outgoing_bytes_per_node": NODE_LIMIT,
        },
    )
    node_process.track(node.start())
    port = admin_port(node)
    sender = await TestClient.connect(node.port)
    reader = await TestClient.connect(node.port)
    ws = transport == "ws"
    slow_port = node.ws_port if ws else node.port
    assert slow_port != "off"
    slow = [await TestClient.connect(slow_port, ws=ws, rcvbuf=4096) for _ in range(SLOW_READERS)]
    for name, client in (("speaker", sender), ("reader", reader)):
        await client.login(name)
        await client.ok(Join(channel="#lobby"))
    for number, client in enumerate(slow):
        await client.login(f"sloth{number}")
        await client.ok(Join(channel="#lobby"))
        client.stop_reading()

    received = 0

    async def keep_reading() -> None:
        nonlocal received
        while True:
            if isinstance(await reader.next_event(timeout=30), MsgEvent):
                received += 1

    reading = asyncio.create_task(keep_reading())
    try:
        sent = 0
        deadline = time.monotonic() + 90
        while not SHED_LINE.search(node.log_text()):
            assert time.monotonic() < deadline, "no slow reader was shed"
            for _ in range(BURST):
                sender.conn.send(SendMsg(dest_type="channel", dest="#lobby", content=CONTENT))
            await sender.pipe.write(sender.conn.data_to_send())
            sent += BURST
            await asyncio.sleep(PAUSE)
        first = SHED_LINE.search(node.log_text())
        assert first is not None
        held, limit = int(first[2]), int(first[3])
        assert limit == NODE_LIMIT
        # The largest of three shed once they held more than the node's limit together:
        # it held at least a third of that, and less than its own limit.
        assert NODE_LIMIT // SLOW_READERS <= held < OWN_LIMIT
        # The reader that reads is still there, and the node still answers the sender.
        await sender.ok(SendMsg(dest_type="channel", dest="#lobby", content="still here?"))
        for _ in range(200):
            if received >= sent:
                break
            await asyncio.sleep(0.05)
        assert received >= sent
    finally:
        reading.cancel()
    metrics = await scrape(port)
    assert metrics["aronanet_slow_readers_dropped_total"] >= 1
    # What was written after the first shed may put the others over again until the next
    # sum (every 0.1 s) sheds one more: the budget holds at its next sum, not at every write.
    deadline = time.monotonic() + 5
    while metrics["aronanet_outgoing_backlog_bytes"] > NODE_LIMIT:
        assert time.monotonic() < deadline, "the node stayed over its budget"
        await asyncio.sleep(0.05)
        metrics = await scrape(port)
    assert metrics["aronanet_outgoing_backlog_bytes"] >= 0
    assert "Traceback" not in node.log_text()
    for client in slow:  # a polite close would wait behind what they never read
        abandon(client)
    for client in (sender, reader, *slow):
        await client.close()


def abandon(client: TestClient) -> None:
    """Drop the connection at once, as a vanished peer would."""
    pipe = client.pipe
    if isinstance(pipe, WsPipe):
        pipe.ws.transport.abort()
    elif isinstance(pipe, TcpPipe):
        pipe.writer.transport.abort()
