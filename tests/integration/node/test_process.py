"""The node as a real process (§5): durability under SIGKILL, clean stops, the commands."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

from aronanet.proto.messages import History, Join, MsgEvent, Ok, SendMsg

from .driver import TestClient


async def _all_history(client: TestClient, channel: str) -> list[tuple[str, str]]:
    """Every message of ``channel``, paging forward with ``after``."""
    found: list[tuple[str, str]] = []
    after = "0"
    while True:
        page = await client.ok(History(dest_type="channel", dest=channel, after=after, limit=200))
        found += [(m.id, m.content) for m in page.messages]
        if not page.messages:
            return found
        after = page.messages[-1].id


async def test_every_acknowledged_message_survives_sigkill(node_process):
    node = node_process("--rate-limit", "off")
    client = await TestClient.connect(node.port)
    await client.login("durable")
    await client.ok(Join(channel="#durable"))
    sent = {}
    futures = []
    for n in range(400):
        request_id = client.next_id()
        futures.append(client.expect_reply(request_id))
        sent[request_id] = f"message {n}"
        client.conn.send(
            SendMsg(dest_type="channel", dest="#durable", content=sent[request_id], id=request_id)
        )
    await client.pipe.write(client.conn.data_to_send())
    acked: list[Ok] = []
    for future in asyncio.as_completed(futures, timeout=30):
        acked.append(await future)
        if len(acked) == 250:
            node.kill()  # right after a burst of acks, with more still in flight
            break
    await client.close()

    node_process.track(node := node.restart())
    client = await TestClient.connect(node.port)
    await client.login("durable", register=False)
    stored = dict(await _all_history(client, "#durable"))
    for ok in acked:
        assert ok.msg_id in stored, f"acknowledged message {ok.msg_id} was lost"
        assert stored[ok.msg_id] == sent[ok.re]
    await client.close()


async def test_sigterm_stops_cleanly_and_keeps_everything(node_process):
    node = node_process()
    client = await TestClient.connect(node.port)
    await client.login("tidy")
    await client.ok(Join(channel="#tidy"))
    ok = await client.ok(SendMsg(dest_type="channel", dest="#tidy", content="before the stop"))
    code, stdout = node.terminate(signal.SIGTERM)
    await client.wait_closed()
    assert code == 0
    assert "SHA256:" in stdout and f"aronanet chat 127.0.0.1:{node.port}" in stdout
    node_process.track(node := node.restart())
    client = await TestClient.connect(node.port)
    await client.login("tidy", register=False)
    assert (await _all_history(client, "#tidy")) == [(ok.msg_id, "before the stop")]
    await client.close()


async def test_tcp_and_websocket_clients_talk_through_the_real_process(node_process):
    node = node_process()
    tcp = await TestClient.connect(node.port)
    ws = await TestClient.connect(node.ws_port, ws=True)
    await tcp.login("terminal")
    await ws.login("browser")
    for client in (tcp, ws):
        await client.ok(Join(channel="#both"))
    await tcp.ok(SendMsg(dest_type="user", dest="browser", content="psst"))
    event = await ws.next_event_of(MsgEvent)
    assert (event.from_, event.dest, event.content) == ("terminal", "browser", "psst")
    for client in (tcp, ws):
        await client.close()


async def test_sigint_stops_the_node_with_exit_code_zero(node_process):
    node = node_process()
    code, _ = node.terminate(signal.SIGINT)
    assert code == 0


def test_fingerprint_without_a_key_says_how_to_make_one_and_creates_none(tmp_path):
    """An operator who runs it before the first start must not hand out the fingerprint of
    a key that the node would then replace (issue 10)."""
    data_dir = tmp_path / "fp"
    run = [sys.executable, "-m", "aronanet", "fingerprint", "--data-dir", str(data_dir)]
    result = subprocess.run(run, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"aronanet fingerprint: no node key in {data_dir}: run `aronanet serve` once "
        "(with the same --data-dir or --config) to create it\n"
    )
    assert not data_dir.exists()


async def test_the_node_presents_the_fingerprint_the_command_prints(node_process):
    node = node_process()
    printed = subprocess.run(
        [sys.executable, "-m", "aronanet", "fingerprint", "--data-dir", str(node.data_dir)],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.strip()  # fmt: skip
    client = await TestClient.connect(node.port)
    assert client.fingerprint == printed
    await client.close()


def test_serve_help_explains_every_option():
    result = subprocess.run(
        [sys.executable, "-m", "aronanet", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    for option in (
        "--data-dir",
        "--host",
        "--port",
        "--ws-port",
        "--rate-limit",
        "--config",
        "--web-dir",
        "--ws-origins",
    ):
        assert option in result.stdout
    assert "127.0.0.1" in result.stdout
