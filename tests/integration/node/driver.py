"""A small ArTP test client built on proto.Connection, over real sockets (TCP or WebSocket).

It lets the node tests speak the protocol exactly, or break it on purpose: raw bytes before
or after the handshake, plaintexts that are not JSON, frames with flipped bits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Sequence
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto.connection import (
    Connection,
    ConnectionFailed,
    HandshakeComplete,
    MessageReceived,
    MessageRejected,
    Role,
    State,
)
from aronanet.proto.framing import FrameDecoder
from aronanet.proto.messages import Auth, Error, Hello, Ok, PongReply

PASSWORD = "correct horse battery"
TIMEOUT = 5.0


class Pipe:
    """Bytes to and from a socket; ``read`` returns b"" once closed."""

    framed = True

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def read(self) -> bytes:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


async def connected_socket(
    host: str, port: int, rcvbuf: int | None, source: str | None
) -> socket.socket:
    """A non-blocking TCP socket connected to ``host:port``, with a receive buffer of
    ``rcvbuf`` bytes (the kernel's default if None) and from address ``source``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source is not None:
        sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


class TcpPipe(Pipe):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(
        cls,
        port: int,
        host: str = "127.0.0.1",
        rcvbuf: int | None = None,
        source: str | None = None,
    ) -> TcpPipe:
        """Connect; ``rcvbuf`` shrinks the receive buffer (a slow reader fills up sooner);
        ``source`` picks the client's address (any 127.x.y.z is this machine)."""
        sock = await connected_socket(host, port, rcvbuf, source)
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
        return cls(reader, writer)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read(self) -> bytes:
        try:
            return await self.reader.read(65536)
        except ConnectionError:
            return b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class WsPipe(Pipe):
    framed = False

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls,
        port: int,
        host: str = "127.0.0.1",
        rcvbuf: int | None = None,
        source: str | None = None,
        **kwargs: Any,
    ) -> WsPipe:
        """Connect; ``rcvbuf`` shrinks the receive buffer, so that a client that stops
        reading leaves the node's output in the node, not in this machine's buffers;
        ``source`` picks the client's address."""
        sock = await connected_socket(host, port, rcvbuf, source)
        ws = await ws_connect(
            f"ws://{host}:{port}/artp",
            subprotocols=["artp.1"],
            compression=None,
            sock=sock,
            **kwargs,
        )
        return cls(ws)

    async def write(self, data: bytes) -> None:
        await self.ws.send(data)

    async def read(self) -> bytes:
        try:
            message = await self.ws.recv()
        except ConnectionClosed:
            return b""
        assert isinstance(message, bytes), "the node sent a text message"
        return message

    async def close(self) -> None:
        await self.ws.close()


class TestClient:
    """One ArTP client session; replies (with ``re``) and events are kept apart."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        pipe: Pipe,
        key: X25519PrivateKey | None = None,
        *,
        features: Sequence[str] = (),
        client_name: str | None = None,
    ) -> None:
        self.pipe = pipe
        self.key = key or X25519PrivateKey.generate()
        self.conn = Connection(
            Role.CLIENT,
            self.key,
            framed=pipe.framed,
            features=features,
            client_name=client_name,
        )
        #: Transport messages received (frames or WebSocket messages): batch tests count them.
        self.transport_messages = 0
        self._frames = FrameDecoder()
        self.replies: dict[str, asyncio.Future[Any]] = {}
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.hello: Hello | None = None
        self.fingerprint: str | None = None
        self.closed = asyncio.Event()
        self.failure: str | None = None
        self._opened = asyncio.Event()
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        port: int,
        *,
        ws: bool = False,
        handshake: bool = True,
        rcvbuf: int | None = None,
        source: str | None = None,
        key: X25519PrivateKey | None = None,
        features: Sequence[str] = (),
        client_name: str | None = None,
    ) -> TestClient:
        """Open a session; ``features`` are asked for in message 1 (ArTP/1.1 §14.1), ``key``
        is the device key (a fresh one by default)."""
        pipe: Pipe = await (
            WsPipe.open(port, rcvbuf=rcvbuf, source=source)
            if ws
            else TcpPipe.open(port, rcvbuf=rcvbuf, source=source)
        )
        client = cls(pipe, key, features=features, client_name=client_name)
        client._reader = asyncio.create_task(client._read_loop())
        if handshake:
            await client.flush()
            await asyncio.wait_for(client._opened.wait(), TIMEOUT)
        return client

    async def flush(self) -> None:
        if self.conn.state is State.FAILED:
            return
        if self.pipe.framed:
            data = self.conn.data_to_send()
            if data:
                await self.pipe.write(data)
        else:
            for message in self.conn.messages_to_send():
                await self.pipe.write(message)

    async def _read_loop(self) -> None:
        try:
            while data := await self.pipe.read():
                if self.pipe.framed:
                    self.transport_messages += len(self._frames.feed(data))
                    self.conn.receive_data(data)
                else:
                    self.transport_messages += 1
                    self.conn.receive_message(data)
                for event in self.conn.events_received():
                    self._on_event(event)
                await self.flush()
        finally:
            self.closed.set()
            for future in self.replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("closed"))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, HandshakeComplete):
            self.hello, self.fingerprint = event.hello, event.fingerprint
            self._opened.set()
        elif isinstance(event, MessageReceived):
            message = event.message
            re = getattr(message, "re", msgspec.UNSET)
            if isinstance(re, str) and re in self.replies and not self.replies[re].done():
                self.replies[re].set_result(message)
            else:
                self.events.put_nowait(message)
        elif isinstance(event, MessageRejected):
            raise AssertionError(f"the node sent an invalid message: {event.rejection}")
        elif isinstance(event, ConnectionFailed):
            self.failure = event.reason

    def fingerprint_of_key(self) -> str:
        """This client's device id (§14.3): the fingerprint of its static key."""
        return fingerprint(public_key_bytes(self.key))

    # ---------------------------------------------------------------- requests

    def next_id(self) -> str:
        return f"r{next(self._ids)}"

    async def send(self, message: msgspec.Struct) -> None:
        self.conn.send(message)
        await self.flush()

    async def send_plaintext(self, plaintext: bytes) -> None:
        """Encrypt arbitrary bytes as one transport message (bad JSON, wrong fields...)."""
        self.conn.send_encoded(plaintext)
        await self.flush()

    async def request(
        self, message: msgspec.Struct, timeout: float = TIMEOUT
    ) -> Ok | Error | PongReply:
        """Send ``message`` with a fresh id and wait for the reply carrying it as ``re``."""
        request_id = self.next_id()
        future = self.expect_reply(request_id)
        await self.send(msgspec.structs.replace(message, id=request_id))
        return await asyncio.wait_for(future, timeout)

    def expect_reply(self, request_id: str) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        return future

    async def ok(self, message: msgspec.Struct) -> Ok:
        reply = await self.request(message)
        assert isinstance(reply, Ok), f"expected OK, got {reply}"
        return reply

    async def error(self, message: msgspec.Struct) -> Error:
        reply = await self.request(message)
        assert isinstance(reply, Error), f"expected ERROR, got {reply}"
        return reply

    async def login(self, user: str, *, register: bool = True, password: str = PASSWORD) -> Ok:
        return await self.ok(Auth(user=user, password=password, register=register))

    async def next_event(self, timeout: float = TIMEOUT) -> Any:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_event_of(self, kind: type, timeout: float = TIMEOUT) -> Any:
        """The next event of type ``kind``, skipping others (e.g. JOIN events)."""
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, kind):
                return event

    async def no_event(self, kind: type = object, wait: float = 0.2) -> None:
        """Assert no event of type ``kind`` arrives within ``wait`` seconds (used sparingly)."""
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                event = await asyncio.wait_for(self.events.get(), wait)
                if isinstance(event, kind):
                    raise AssertionError(f"unexpected event {event}")

    def stop_reading(self) -> None:
        """Become a slow reader: leave everything the node sends in the socket buffers."""
        assert self._reader is not None
        self._reader.cancel()

    async def wait_closed(self, timeout: float = TIMEOUT) -> None:
        await asyncio.wait_for(self.closed.wait(), timeout)

    async def close(self) -> None:
        await self.pipe.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
