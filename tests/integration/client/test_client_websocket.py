"""The WebSocket transport's own rules, against small real WebSocket servers."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from aronanet.client import ArtpClient
from aronanet.errors import ClientError


async def test_a_text_message_is_refused_with_close_code_1003() -> None:
    close_codes: list[int | None] = []

    async def send_text(websocket: ServerConnection) -> None:
        await websocket.send("this is not ArTP")
        try:
            await websocket.recv()
            await websocket.recv()
        except ConnectionClosed:
            close_codes.append(websocket.close_code)

    async with serve(send_text, "127.0.0.1", 0, subprotocols=["artp.1"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        with pytest.raises(ClientError) as caught:
            await ArtpClient.connect(
                f"ws://127.0.0.1:{port}/artp", device_key=X25519PrivateKey.generate()
            )
    assert caught.value.code == "HANDSHAKE"
    assert close_codes == [1003]


async def test_a_server_without_the_artp_subprotocol_is_refused() -> None:
    async def idle(websocket: ServerConnection) -> None:
        await websocket.wait_closed()

    async with serve(idle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        with pytest.raises(ClientError) as caught:
            await ArtpClient.connect(
                f"ws://127.0.0.1:{port}/artp", device_key=X25519PrivateKey.generate()
            )
    assert caught.value.code == "CONNECT"
    assert "artp.1" in caught.value.message
