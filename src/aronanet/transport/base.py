"""The one interface between sockets and the node: ``Stream`` out, ``StreamSink`` in.

A transport (TCP, WebSocket) accepts a connection, wraps it in a ``Stream`` and asks the
node's ``Acceptor`` for a ``StreamSink`` to feed what arrives. Everything above this line
is the same for every transport (docs/ARCHITECTURE.md "Layers": "a TCP user and a WS user in one
channel are the same to the node").

Writes never await the peer: ``send_pending`` hands the bytes to the transport's buffer and
reports whether the peer is keeping up. A peer that is not is dropped by the node rather
than allowed to stall a channel (docs/ARCHITECTURE.md "The hot path").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

from aronanet.proto.connection import Connection


class StreamSink(Protocol):
    """What a transport feeds: the node's session for one connection."""

    def data_received(self, data: bytes) -> None:
        """Framed streams: raw bytes, any split. Unframed: exactly one ArTP message."""

    def connection_lost(self) -> None:
        """The connection is gone (either side closed it); called exactly once."""


class Stream(ABC):
    """One accepted connection as the node sees it."""

    #: True when bytes arrive as a byte stream with ArTP length prefixes (TCP).
    framed: bool
    #: The peer's address (host only), for per-address limits and logs.
    peer_host: str

    @abstractmethod
    def send_pending(self, conn: Connection) -> bool:
        """Write whatever ``conn`` has queued without awaiting; False if the peer lags too far."""

    @abstractmethod
    def backlog_fill(self) -> float:
        """Share of the allowed backlog in use (above 1.0 the peer is dropped at next flush).

        Producers of long streams (image downloads) wait while this is high instead of
        filling the backlog and getting the peer dropped.
        """

    @abstractmethod
    def backlog_bytes(self) -> int:
        """Bytes written to this connection and not yet sent (for the node-wide budget)."""

    @abstractmethod
    def pause_reading(self) -> None:
        """Stop reading until ``resume_reading`` (the node is behind on this peer's input)."""

    @abstractmethod
    def resume_reading(self) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Close after writing what is already buffered."""

    @abstractmethod
    def abort(self) -> None:
        """Close at once, discarding buffered output (a misbehaving or lagging peer)."""


#: Called once per accepted connection; returns the sink to feed, or None to refuse it.
Acceptor = Callable[[Stream], StreamSink | None]
