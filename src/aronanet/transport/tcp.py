"""ArTP over TCP (§1): an ``asyncio.Protocol`` per connection, no streams, no per-write await.

``data_received`` hands raw bytes to the session (the proto ``Connection`` reassembles
frames at any split), and ``send_pending`` does one ``transport.write`` of everything the
connection has queued, then compares the transport's buffer with the allowed backlog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

from aronanet.proto.connection import Connection
from aronanet.transport.base import Acceptor, Stream, StreamSink
from aronanet.transport.budget import OutgoingBudget


class TcpStream(asyncio.Protocol, Stream):
    """One TCP connection; created by the event loop for each accepted socket."""

    framed = True

    def __init__(
        self, accept: Acceptor, max_backlog_bytes: int, budget: OutgoingBudget | None = None
    ) -> None:
        self._accept = accept
        self._max_backlog_bytes = max_backlog_bytes
        self._budget = budget
        self._transport: asyncio.Transport | None = None
        self._sink: StreamSink | None = None
        self.peer_host = "?"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not subclass asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer_host = str(peer[0]) if peer else "?"
        self._sink = self._accept(self)
        if self._sink is None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._budget is not None:
            self._budget.drained(self)
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.connection_lost()

    def send_pending(self, conn: Connection) -> bool:
        transport = self._transport
        if transport is None or transport.is_closing():
            return True
        data = conn.data_to_send()
        if data:
            transport.write(data)
        return transport.get_write_buffer_size() <= self._max_backlog_bytes

    def backlog_fill(self) -> float:
        return self.backlog_bytes() / self._max_backlog_bytes

    def backlog_bytes(self) -> int:
        return 0 if self._transport is None else self._transport.get_write_buffer_size()

    def pause_writing(self) -> None:
        """The transport's buffer passed its high-water mark: count it in the node's budget."""
        if self._budget is not None:
            self._budget.backed_up(self)

    def resume_writing(self) -> None:
        if self._budget is not None:
            self._budget.drained(self)

    def pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def write_each(streams: Sequence[TcpStream], chunks: Sequence[bytes]) -> list[TcpStream]:
    """Write ``chunks[i]`` to ``streams[i]``: a fan-out's writes with no Python call per
    stream. Returns the streams whose backlog is now over their limit (to be dropped);
    a closing stream is skipped, as ``send_pending`` skips it."""
    lagging = []
    for stream, chunk in zip(streams, chunks, strict=True):
        transport = stream._transport
        if transport is None or transport.is_closing():
            continue
        transport.write(chunk)
        if transport.get_write_buffer_size() > stream._max_backlog_bytes:
            lagging.append(stream)
    return lagging


async def serve_tcp(
    host: str,
    port: int,
    accept: Acceptor,
    *,
    max_backlog_bytes: int,
    budget: OutgoingBudget | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (port 0 picks a free one) and feed each connection to ``accept``."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: TcpStream(accept, max_backlog_bytes, budget),
        host,
        port,
        reuse_address=True,
        backlog=1024,
    )
