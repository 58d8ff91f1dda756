"""The client's I/O: moves bytes between a socket and the sans-I/O ``proto.Connection``.

ArTP/1.0 §1 carries the same messages over two transports: a length-prefixed TCP stream
(``Connection(framed=True)`` does the framing) and binary WebSocket messages (one ArTP message
each, ``framed=False``). ``Transport`` hides which one is in use behind two calls: ``feed``
(read once, hand it to the connection) and ``flush`` (write what the connection queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from abc import ABC, abstractmethod

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import CloseCode

from aronanet.client.address import NodeAddress
from aronanet.config import DEFAULT_TCP_PORT, MAX_FRAME, WS_PATH, WS_SUBPROTOCOL
from aronanet.errors import ClientError
from aronanet.proto.connection import Connection

#: How much one TCP read asks for: one maximal frame plus its 4-byte header.
READ_SIZE = MAX_FRAME + 4
#: How an HTTP answer starts: a TCP client that reads this reached a WebSocket (HTTP) port.
HTTP_ANSWER = b"HTTP/"


class Transport(ABC):
    """One open connection to a node, carrying ArTP messages for a ``proto.Connection``."""

    #: True when the byte stream needs ArTP's u32 length prefix (TCP), False for WebSocket.
    framed: bool

    @abstractmethod
    async def feed(self, connection: Connection) -> bool:
        """Read once and pass what arrived to ``connection``; False once the peer is gone."""

    @abstractmethod
    async def flush(self, connection: Connection) -> None:
        """Write everything ``connection`` has queued, in order; raises ``OSError`` if gone."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection; idempotent, never raises."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the connection at once, as a pulled cable would: no goodbye, no flush."""


class TcpTransport(Transport):
    """ArTP over TCP: a stream of ``[u32 length][body]`` frames."""

    framed = True

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        address: NodeAddress | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._address = address
        self._first_read = True

    async def feed(self, connection: Connection) -> bool:
        """Read once; the first read raises ``ClientError`` if the port answers in HTTP."""
        try:
            data = await self._reader.read(READ_SIZE)
            if self._first_read:
                self._first_read = False
                data = await self._refuse_http(data)
        except OSError:
            return False
        if not data:
            return False
        connection.receive_data(data)
        return True

    async def _refuse_http(self, data: bytes) -> bytes:
        """A node's WebSocket port answers an ArTP frame with an HTTP 400: say which port
        to use instead of "bad frame length" (the answer may come in more than one read)."""
        while data and len(data) < len(HTTP_ANSWER) and HTTP_ANSWER.startswith(data):
            more = await self._reader.read(READ_SIZE)
            if not more:
                break
            data += more
        if data.startswith(HTTP_ANSWER):
            raise ClientError("CONNECT", wrong_port_message(self._address))
        return data

    async def flush(self, connection: Connection) -> None:
        data = connection.data_to_send()
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    def abort(self) -> None:
        self._writer.transport.abort()


class WebSocketTransport(Transport):
    """ArTP over WebSocket: one binary message per ArTP message, subprotocol ``artp.1``."""

    framed = False

    def __init__(self, websocket: ClientConnection) -> None:
        self._websocket = websocket

    async def feed(self, connection: Connection) -> bool:
        try:
            message = await self._websocket.recv()
        except ConnectionClosed:
            return False
        if isinstance(message, str):
            # §1: "A WebSocket text message is a protocol violation: close (code 1003)."
            await self._websocket.close(CloseCode.UNSUPPORTED_DATA, "ArTP is binary only")
            return False
        connection.receive_message(message)
        return True

    async def flush(self, connection: Connection) -> None:
        for message in connection.messages_to_send():
            try:
                await self._websocket.send(message)
            except ConnectionClosed as exc:
                raise ConnectionResetError("the WebSocket connection is closed") from exc

    async def close(self) -> None:
        with contextlib.suppress(OSError, ConnectionClosed):
            await self._websocket.close()

    def abort(self) -> None:
        self._websocket.transport.abort()


async def open_transport(address: NodeAddress, timeout: float) -> Transport:
    """Connect to ``address`` within ``timeout`` seconds.

    Raises ``ClientError("CONNECT", ...)`` with a message that tells the user what to check.
    """
    try:
        async with asyncio.timeout(timeout):
            if address.is_websocket:
                return await _open_websocket(address)
            reader, writer = await asyncio.open_connection(address.host, address.port)
            return TcpTransport(reader, writer, address)
    except TimeoutError as exc:
        raise ClientError(
            "CONNECT", f"no answer from {address} within {timeout:g} s; is the address right?"
        ) from exc
    except OSError as exc:
        raise ClientError("CONNECT", _unreachable(address, exc)) from exc


def wrong_port_message(address: NodeAddress | None) -> str:
    """One line for a TCP connection that reached an HTTP (WebSocket) port."""
    where = "this port" if address is None else str(address)
    url = "ws://HOST:PORT" if address is None else f"ws://{address}"
    return (
        f"{where} answered in HTTP: it looks like the node's WebSocket port; connect to "
        f"{url}{WS_PATH} instead, or to the node's TCP port (default {DEFAULT_TCP_PORT})"
    )


def _unreachable(address: NodeAddress, error: OSError) -> str:
    """Why ``address`` could not be reached, and what the user should check."""
    if isinstance(error, socket.gaierror):
        return f"cannot find host {address.host} ({error.strerror}); is the name right?"
    reason = os.strerror(error.errno) if error.errno and error.errno > 0 else str(error)
    return f"cannot reach {address}: {reason}; is the node running on that port?"


async def _open_websocket(address: NodeAddress) -> WebSocketTransport:
    try:
        websocket = await websocket_connect(
            address.websocket_uri(),
            subprotocols=[WS_SUBPROTOCOL],  # type: ignore[list-item]
            max_size=MAX_FRAME,
            compression=None,  # Noise ciphertext does not compress.
            open_timeout=None,  # the caller's asyncio.timeout bounds the whole opening
            proxy=None,
        )
    except (InvalidHandshake, InvalidURI) as exc:
        raise ClientError(
            "CONNECT",
            f"{address} did not accept an ArTP WebSocket ({exc}); check the port and path",
        ) from exc
    if websocket.subprotocol != WS_SUBPROTOCOL:
        await websocket.close()
        raise ClientError("CONNECT", f"{address} did not agree to subprotocol {WS_SUBPROTOCOL}")
    return WebSocketTransport(websocket)
