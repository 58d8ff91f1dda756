"""ArTP over WebSocket (§1): port 7778, path /artp, subprotocol artp.1, binary messages.

One binary WebSocket message is one ArTP message; a text message is a protocol violation
and closes the connection with code 1003. Messages larger than ``max_frame`` are refused by
the library before they are buffered. Every other path is a plain HTTP GET of the web
client's static files, so a browser finds the client at ``http://host:7778/``.

Output never blocks the node: ``send_pending`` moves the connection's messages into this
stream's outbox and a per-connection writer task awaits the socket. An outbox longer than
the allowed backlog, in messages or in bytes, means the peer is not keeping up, and the
node drops it: counting messages alone let 4,096 messages of up to 64 KiB each pile up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from aronanet.config import WS_PATH, WS_SUBPROTOCOL
from aronanet.proto.connection import Connection
from aronanet.transport import static
from aronanet.transport.base import Acceptor, Stream

logger = logging.getLogger(__name__)

#: RFC 6455 §7.4.1: "received a type of data it cannot accept" (§1: text messages).
CLOSE_UNSUPPORTED_DATA = 1003
#: RFC 6455 §7.4.1 1013 "try again later": the per-address connection limit.
CLOSE_TRY_AGAIN_LATER = 1013


class WsStream(Stream):
    """One WebSocket connection, with its outbox and writer task."""

    framed = False

    def __init__(
        self, ws: ServerConnection, max_backlog_messages: int, max_backlog_bytes: int
    ) -> None:
        self._ws = ws
        self._max_backlog = max_backlog_messages
        self._max_backlog_bytes = max_backlog_bytes
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wakeup = asyncio.Event()
        self._may_read = asyncio.Event()
        self._may_read.set()
        self._closing = False
        address = ws.remote_address
        self.peer_host = str(address[0]) if address else "?"

    def send_pending(self, conn: Connection) -> bool:
        if self._closing:
            return True
        messages = conn.messages_to_send()
        self._outbox_bytes += sum(map(len, messages))
        self._outbox.extend(messages)
        self._wakeup.set()
        return (
            len(self._outbox) <= self._max_backlog and self._outbox_bytes <= self._max_backlog_bytes
        )

    def backlog_fill(self) -> float:
        return max(
            len(self._outbox) / self._max_backlog, self._outbox_bytes / self._max_backlog_bytes
        )

    def pause_reading(self) -> None:
        self._may_read.clear()

    def resume_reading(self) -> None:
        self._may_read.set()

    def close(self) -> None:
        self._closing = True
        self._wakeup.set()

    def abort(self) -> None:
        self._closing = True
        self._outbox.clear()
        self._outbox_bytes = 0
        self._ws.transport.abort()

    async def write_loop(self) -> None:
        """Await the socket for each queued message; after ``close``, drain then close."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox:
                    message = self._outbox.popleft()
                    self._outbox_bytes -= len(message)
                    await self._ws.send(message)
                if self._closing:
                    await self._ws.close()
                    return

    async def read_loop(self, feed: Callable[[bytes], None]) -> None:
        """Feed each binary message to the sink; close with 1003 on a text message (§1)."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._may_read.wait()
                message = await self._ws.recv()
                if isinstance(message, str):
                    self._closing = True
                    await self._ws.close(CLOSE_UNSUPPORTED_DATA, "ArTP takes binary messages only")
                    return
                feed(message)


class WebSocketEndpoint:
    """The ``/artp`` endpoint plus static files; one instance per listening node."""

    def __init__(
        self,
        accept: Acceptor,
        *,
        max_frame: int,
        max_backlog_messages: int,
        max_backlog_bytes: int,
        origins: Sequence[str] | None,
        web_root: Path | None,
    ) -> None:
        self._accept = accept
        self._max_frame = max_frame
        self._max_backlog = max_backlog_messages
        self._max_backlog_bytes = max_backlog_bytes
        self._origins = None if origins is None else frozenset(o.rstrip("/") for o in origins)
        self._web_root = web_root

    async def serve(self, host: str, port: int) -> Server:
        """Listen on ``host:port`` (0 picks a free port)."""
        return await serve(
            self._handle,
            host,
            port,
            subprotocols=[Subprotocol(WS_SUBPROTOCOL)],
            process_request=self._process_request,
            compression=None,  # ciphertext does not compress; and no decompression bombs
            max_size=self._max_frame,
            server_header=None,
            reuse_address=True,
        )

    async def _handle(self, ws: ServerConnection) -> None:
        stream = WsStream(ws, self._max_backlog, self._max_backlog_bytes)
        sink = self._accept(stream)
        if sink is None:
            await ws.close(CLOSE_TRY_AGAIN_LATER, "too many connections from your address")
            return
        writer = asyncio.create_task(stream.write_loop())
        try:
            await stream.read_loop(sink.data_received)
        finally:
            sink.connection_lost()
            stream.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), timeout=5)
            writer.cancel()

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            return (
                None
                if self._origin_allowed(request.headers)
                else self._plain(403, "origin not allowed")
            )
        return await self._static(path)

    def _origin_allowed(self, headers: Headers) -> bool:
        """Allowed: any origin when unconfigured; else the listed ones and the node's own."""
        origin = headers.get("Origin")
        if self._origins is None or origin is None:
            return True
        host = headers.get("Host", "")
        return origin in self._origins or origin in (f"http://{host}", f"https://{host}")

    async def _static(self, path: str) -> Response:
        if self._web_root is None:
            return self._plain(404, "this node serves no web client")
        found = await asyncio.to_thread(static.load, self._web_root, path)
        if found is None:
            return self._plain(404, "not found")
        return _response(200, "OK", found.body, found.content_type)

    @staticmethod
    def _plain(status: int, text: str) -> Response:
        reason = {403: "Forbidden", 404: "Not Found"}.get(status, "Error")
        return _response(status, reason, text.encode() + b"\n", "text/plain; charset=utf-8")


def _response(status: int, reason: str, body: bytes, content_type: str) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = "no-cache"
    headers["Connection"] = "close"
    return Response(status, reason, headers, body)
