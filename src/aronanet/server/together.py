"""A run to an ``Audience`` at once: on TCP, one plaintext sealed for every session in one
pass and written in another (``seal_each``, ``write_each``), with no Python call per session.

Who can be reached so (on TCP and open; for several events at once, with ``batch``) is
worked out once per audience (``TogetherPlan``), not once per message: a channel's members
are the same audience message after message, and sorting them again for each message cost
a sixth of the flush's Python time per delivery (``bench/bench_flush.py``). The others
(WebSocket; a 1.0 client given several events) flush alone, as they would without a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aronanet.proto.connection import Connection, batch_plaintexts, seal_each
from aronanet.server.router import Recipient, flush_one_by_one
from aronanet.transport.tcp import TcpStream, write_each

#: Bytes of frames sealed before they are written: a burst's array sealed for every session
#: at once would hold megabytes (and run from fresh memory) where a few dozen kilobytes,
#: reused chunk after chunk, stay in the CPU's cache.
SEAL_CHUNK_BYTES = 64 * 1024
#: Why a session whose peer does not read is dropped: past its own backlog limit (counted
#: by the node's ``/metrics``, beside ``session.NODE_BACKLOG_EXCEEDED``).
BACKLOG_EXCEEDED = "outgoing backlog exceeded: the peer is not reading"


class Sealable(Recipient, Protocol):
    """What a plan needs of a TCP session besides its connection and stream."""

    def abort(self, reason: str) -> None: ...


#: A TCP session with its ``Connection`` and ``TcpStream``.
Seat = tuple[Sealable, Connection, TcpStream]


@dataclass(frozen=True, slots=True)
class SealGroup:
    """TCP sessions that one plaintext reaches as one frame each."""

    sessions: tuple[Sealable, ...]
    connections: tuple[Connection, ...]
    streams: tuple[TcpStream, ...]

    @classmethod
    def of(cls, seats: Sequence[Seat]) -> SealGroup:
        return cls(
            tuple(session for session, _, _ in seats),
            tuple(connection for _, connection, _ in seats),
            tuple(stream for _, _, stream in seats),
        )

    def send(self, plaintext: bytes) -> None:
        """``plaintext`` as one frame to each session; one over its backlog is dropped.

        None is closed: a session that closes leaves the router at once (``Router.detach``),
        and with it every plan it was in."""
        sessions, connections, streams = self.sessions, self.connections, self.streams
        step = max(1, SEAL_CHUNK_BYTES // len(plaintext))
        for start in range(0, len(sessions), step):
            chunk = slice(start, start + step)
            for stream in write_each(streams[chunk], seal_each(connections[chunk], plaintext)):
                sessions[streams.index(stream)].abort(BACKLOG_EXCEEDED)


@dataclass(frozen=True, slots=True)
class TogetherPlan:
    """An audience sorted by how a run reaches each of its sessions."""

    #: every TCP session: one event is the same plaintext for all of them
    every_tcp: SealGroup
    #: the TCP sessions with ``batch``: several events are one array, the same for all
    batching: SealGroup
    #: the TCP sessions without it (1.0): several events are several frames, each its own
    unbatched: tuple[Recipient, ...]
    #: the rest (WebSocket): always alone
    alone: tuple[Recipient, ...]

    @classmethod
    def of(
        cls, batching: Sequence[Seat], unbatched: Sequence[Seat], alone: Sequence[Recipient]
    ) -> TogetherPlan:
        return cls(
            SealGroup.of([*batching, *unbatched]),
            SealGroup.of(batching),
            tuple(session for session, _, _ in unbatched),
            tuple(alone),
        )

    def send(self, payloads: list[bytes]) -> None:
        """``payloads`` (one run, in order) to every session of the audience."""
        if self.alone:
            flush_one_by_one(self.alone, payloads)
        if len(payloads) == 1:
            if self.every_tcp.sessions:
                self.every_tcp.send(payloads[0])
            return
        if self.unbatched:
            flush_one_by_one(self.unbatched, payloads)
        if self.batching.sessions:
            arrays = batch_plaintexts(payloads)
            if len(arrays) == 1:
                self.batching.send(arrays[0])
            else:  # an array over the size limit: each session splits the run alone
                flush_one_by_one(self.batching.sessions, payloads)
