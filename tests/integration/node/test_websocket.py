"""ArTP over WebSocket (§1): binary only, size-limited, origins, and the web client's files."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .conftest import node_settings


async def test_a_text_message_closes_the_websocket_with_1003(node, connect, bystanders):
    client = await connect(node, ws=True)
    await client.pipe.ws.send("hello as text")
    await client.wait_closed()
    assert client.pipe.ws.close_code == 1003
    await bystanders.still_talk()


async def test_a_message_over_max_frame_closes_the_websocket(start_node, connect):
    node = await start_node(max_frame=2048)
    client = await connect(node, ws=True)
    await client.pipe.ws.send(b"\x00" * 4096)
    await client.wait_closed()
    assert client.pipe.ws.close_code == 1009


async def test_a_client_without_the_artp_subprotocol_is_refused(node):
    with pytest.raises(InvalidStatus):
        await ws_connect(f"ws://127.0.0.1:{node.ws_port}/artp")


async def test_origins_not_listed_are_refused_and_the_nodes_own_is_allowed(tmp_path, start_node):
    settings = replace(node_settings(tmp_path / "o"), ws_origins=("https://chat.example",))
    node = await start_node(settings)
    url = f"ws://127.0.0.1:{node.ws_port}/artp"
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(url, subprotocols=["artp.1"], origin="https://evil.example")
    assert refused.value.response.status_code == 403
    for origin in ("https://chat.example", f"http://127.0.0.1:{node.ws_port}"):
        ws = await ws_connect(url, subprotocols=["artp.1"], origin=origin)
        assert ws.subprotocol == "artp.1"
        await ws.close()


async def _http_get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture
async def web_node(tmp_path, start_node):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<h1>Arona</h1>")
    (web / "assets" / "app.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("do not serve")
    return await start_node(replace(node_settings(tmp_path / "w"), web_dir=web))


async def test_the_web_client_is_served_with_content_types(web_node):
    status, headers, body = await _http_get(web_node.ws_port, "/")
    assert status == 200 and body == b"<h1>Arona</h1>"
    assert headers["content-type"].startswith("text/html")
    status, headers, body = await _http_get(web_node.ws_port, "/assets/app.js?v=1")
    assert status == 200 and headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/missing.html"]
)
async def test_paths_outside_the_web_root_are_not_found(web_node, path):
    status, _, body = await _http_get(web_node.ws_port, path)
    assert status == 404 and b"do not serve" not in body


async def test_a_websocket_session_leaves_the_node_when_the_client_closes(node, connect):
    client = await connect(node, ws=True)
    await client.login("leaver")
    assert node.services.router.is_online("leaver")
    await client.pipe.ws.close()
    with pytest.raises(ConnectionClosed):
        await client.pipe.ws.recv()
    for _ in range(100):
        if not node.services.router.is_online("leaver"):
            break
        await asyncio.sleep(0.01)
    assert not node.services.router.is_online("leaver")
