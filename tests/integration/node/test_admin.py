"""The admin listener of a real node process: ``/metrics`` after traffic, ``/healthz``
(200, and 503 while another process holds the database's write lock), its absence by
default, and the bounds of its HTTP parsing (request head size, time, connections)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from aronanet.proto.messages import History, Join, MsgEvent, SendMsg
from support.real_node import LOOPBACK

from .conftest import NodeProcess
from .driver import TestClient

MAX_REQUEST = 512
#: Long enough for four refused requests to be answered while the idle connections hold the
#: port, even on a loaded machine (at 0.5 s they could time out first).
REQUEST_TIMEOUT = 2.0
MAX_CONNECTIONS = 2
ADMIN_TOML = f"""
[admin]
max_request_bytes = {MAX_REQUEST}
request_timeout = {REQUEST_TIMEOUT}
max_connections = {MAX_CONNECTIONS}
"""


def admin_port(node: NodeProcess) -> int:
    return int(node.wait_for_log(r"Admin +http://127\.0\.0\.1:(\d+)/metrics")[1])


async def http(port: int, raw: bytes, timeout: float = 10, pause: float = 0) -> tuple[int, str]:
    """Send ``raw``; the status and body of the response (read until the node closes),
    read ``pause`` seconds after sending."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(raw)
        await writer.drain()
        await asyncio.sleep(pause)
        response = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


async def get(port: int, path: str) -> tuple[int, str]:
    return await http(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


async def scrape(port: int) -> dict[str, float]:
    status, body = await get(port, "/metrics")
    assert status == 200
    samples = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on (from /proc: its sockets' inodes)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_no_admin_listener_by_default(node_process):
    node: NodeProcess = node_process()
    assert node.process is not None
    assert listening_ports(node.process.pid) == {node.port, node.ws_port}
    node.wait_for_log("Fingerprint ")  # the whole banner is printed
    assert "Admin" not in node.log_text()


async def test_metrics_move_with_traffic(node_process):
    node: NodeProcess = node_process("--rate-limit", "off", "--admin-listen", "127.0.0.1:0")
    port = admin_port(node)
    assert node.process is not None
    assert listening_ports(node.process.pid) == {node.port, node.ws_port, port}
    sender = await TestClient.connect(node.port)
    tcp_listener = await TestClient.connect(node.port)
    ws_listener = await TestClient.connect(node.ws_port, ws=True)  # type: ignore[arg-type]
    clients = [sender, tcp_listener, ws_listener]
    for number, client in enumerate(clients):
        await client.login(f"metric{number}")
        await client.ok(Join(channel="#metrics"))
    await ws_listener.ok(Join(channel="#metrics"))  # settle: every JOIN event is out
    before = await scrape(port)
    assert before['aronanet_sessions{transport="tcp"}'] == 2
    assert before['aronanet_sessions{transport="websocket"}'] == 1
    assert before["aronanet_handshakes_total"] == 3

    messages = 25
    for number in range(messages):
        await sender.ok(SendMsg(dest_type="channel", dest="#metrics", content=f"m{number}"))
    for listener in (tcp_listener, ws_listener):
        for number in range(messages):
            assert (await listener.next_event_of(MsgEvent)).content == f"m{number}"
    await sender.error(History(dest_type="channel", dest="#nowhere"))
    after = await scrape(port)

    def moved(name: str) -> float:
        return after[name] - before.get(name, 0)

    assert moved("aronanet_messages_stored_total") == messages
    # Each message reaches the two other members' sessions; not the sender's own.
    assert moved("aronanet_deliveries_total") == messages * 2
    assert moved('aronanet_errors_sent_total{code="NOT_IN_CHANNEL"}') == 1
    assert moved('aronanet_errors_sent_total{code="INVALID"}') == 0
    assert moved("aronanet_store_commit_latency_seconds_count") >= messages
    assert moved('aronanet_store_commit_latency_seconds_bucket{le="+Inf"}') >= messages
    assert after["aronanet_store_commits_total"] >= before["aronanet_store_commits_total"] + 1
    assert after["aronanet_slow_readers_dropped_total"] == 0
    assert after["aronanet_outgoing_backlog_bytes"] == 0

    for client in clients:
        await client.close()
    deadline = time.monotonic() + 10
    while (await scrape(port))['aronanet_sessions{transport="tcp"}'] != 0:
        assert time.monotonic() < deadline, "closed sessions still counted"
        await asyncio.sleep(0.05)
    assert (await scrape(port))["aronanet_handshakes_total"] == 3  # closed ones still count


async def test_healthz_is_503_while_the_store_cannot_answer(node_process):
    node: NodeProcess = node_process("--admin-listen", "127.0.0.1:0")
    port = admin_port(node)
    assert await get(port, "/healthz") == (200, "ok\n")
    # Another process (a sqlite3 shell, a backup tool gone wrong) holds the write lock: the
    # node's writer waits for it, and so does the health check's query.
    blocker = sqlite3.connect(node.data_dir / "aronanet.sqlite3", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        assert await get(port, "/healthz") == (503, "store unavailable\n")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    deadline = time.monotonic() + 10
    while (await get(port, "/healthz"))[0] != 200:
        assert time.monotonic() < deadline, "healthz stayed 503 after the lock was released"
        await asyncio.sleep(0.1)


async def test_the_admin_http_parser_is_bounded(node_process, tmp_path):
    node = NodeProcess(
        tmp_path / "bounded", flags=("--admin-listen", "127.0.0.1:0"), extra_toml=ADMIN_TOML
    )
    node_process.track(node.start())
    port = admin_port(node)

    def request_of(size: int) -> bytes:
        head = b"GET /healthz HTTP/1.1\r\nX-Pad: "
        return head + b"a" * (size - len(head) - 4) + b"\r\n\r\n"

    assert len(request_of(MAX_REQUEST)) == MAX_REQUEST
    assert (await http(port, request_of(MAX_REQUEST)))[0] == 200
    assert (await http(port, request_of(MAX_REQUEST + 1)))[0] == 431
    assert (await http(port, request_of(MAX_REQUEST * 100)))[0] == 431
    assert (await http(port, b"POST /metrics HTTP/1.1\r\n\r\n"))[0] == 405
    assert (await http(port, b"GET / HTTP/1.1\r\n\r\n"))[0] == 404
    assert (await http(port, b"\x16\x03\x01 not http\r\n\r\n"))[0] == 400

    # A request head that never ends is answered 408 once request_timeout has passed.
    started = time.monotonic()
    assert (await http(port, b"GET /metrics HTTP/1.1\r\n"))[0] == 408
    assert time.monotonic() - started >= REQUEST_TIMEOUT

    # max_connections idle connections are all the admin port holds; the next is refused.
    idle = [await asyncio.open_connection(LOOPBACK, port) for _ in range(MAX_CONNECTIONS)]
    await asyncio.sleep(0.1)
    # The refusal is answered before the request is read; read late, it must still be
    # there (a close with the request unread would reset the connection and lose it).
    held_until = time.monotonic() + REQUEST_TIMEOUT
    for _ in range(4):  # while the idle ones hold the port
        status, body = await http(port, b"GET /healthz HTTP/1.1\r\n\r\n", pause=0.05)
        if time.monotonic() >= held_until:
            break  # too slow a machine: they may have timed out meanwhile
        assert (status, body) == (503, "too many admin connections\n")
    for reader, writer in idle:  # they time out, and the port serves again
        assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 408")
        writer.close()
    assert (await get(port, "/healthz"))[0] == 200


async def test_a_dropped_slow_reader_is_counted(node_process, tmp_path):
    node = NodeProcess(
        tmp_path / "slow",
        flags=("--rate-limit", "off", "--admin-listen", "127.0.0.1:0"),
        limits={"max_frame": 8192, "max_outgoing_bytes": 16384},
    )
    node_process.track(node.start())
    port = admin_port(node)
    sender = await TestClient.connect(node.port)
    slow = await TestClient.connect(node.port, rcvbuf=4096)
    for name, client in (("speaker", sender), ("sloth", slow)):
        await client.login(name)
        await client.ok(Join(channel="#lobby"))
    slow.stop_reading()
    content = "z" * 4000
    count = 2500  # 10 MB: more than the kernel's buffers hide
    for _ in range(count):
        sender.conn.send(SendMsg(dest_type="channel", dest="#lobby", content=content))
    await sender.pipe.write(sender.conn.data_to_send())
    deadline = time.monotonic() + 60
    while (await scrape(port))["aronanet_slow_readers_dropped_total"] != 1:
        assert time.monotonic() < deadline, "the slow reader was not dropped (or not counted)"
        await asyncio.sleep(0.2)
    await sender.close()
    await slow.close()


async def test_an_admin_port_in_use_stops_the_start_with_a_clear_line(node_process, tmp_path):
    running: NodeProcess = node_process()
    node = NodeProcess(tmp_path / "second", flags=("--admin-listen", f"127.0.0.1:{running.port}"))
    node.launch()
    assert node.process is not None
    assert node.process.wait(timeout=30) == 1
    assert f"admin listener cannot listen on 127.0.0.1:{running.port}" in node.log_text()
    assert "Traceback" not in node.log_text()
