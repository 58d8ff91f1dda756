"""Coverage-guided fuzzing of the request HANDLERS, on a real in-process node.

``fuzz_decoders.py`` covers the bytes-to-message layer; this campaign goes past it. One real
``Node`` (SQLite store in a temporary directory, the real handler table, router and
sessions) runs for the whole campaign. Each input is a few lines of JSON, one request per
line, sent as encrypted ArTP messages on real ``Session`` objects, through a Noise session
held in memory:

* a line starting ``B `` goes to a second user's session, ``U `` to a session that has not
  logged in, any other line to the first user's session; both users start logged in and
  in ``#lobby``, so messages, history and images have somewhere to go. A session's lines
  are pipelined (sent without waiting), and when the next line is for another session the
  previous one is drained first, so an input reads as a conversation in order.

A finding, reported by raising (atheris prints the input and exits non-zero):

* an ``ERROR INTERNAL`` reply: an exception escaped a handler;
* anything logged at ERROR by the node, or an exception no task retrieved;
* a session the node dropped although the client did nothing wrong at the transport level;
* an input the node has not finished within ``INPUT_TIMEOUT`` seconds.

Run briefly in CI (``tests/unit/server/test_fuzz_handlers.py``), or longer locally::

    python fuzz/fuzz_handlers.py /tmp/corpus fuzz/corpus/handlers -atheris_runs=100000

(the first directory collects new inputs; keep the committed corpus read-only).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import atheris
from campaign import fuzz
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

with atheris.instrument_imports(include=["aronanet"]):
    from aronanet.config import Limits
    from aronanet.proto.codec import encode
    from aronanet.proto.connection import (
        Connection,
        MessageReceived,
        MessageRejected,
        Role,
        State,
    )
    from aronanet.proto.messages import Error, Join, Ok
    from aronanet.server.node import Node
    from aronanet.server.session import Session
    from aronanet.server.settings import LoginThrottle, NodeSettings, PasswordHashing
    from aronanet.transport.base import Stream

#: Lines per input beyond this are ignored: long inputs only slow the campaign down.
MAX_LINES = 16
#: Seconds an input may take on the node (group commits, image checks) before it is a hang.
INPUT_TIMEOUT = 10.0
PASSWORD = "correct horse battery"
USERS = ("alice", "bob")


class CaptureStream(Stream):
    """An unframed stream that keeps what the node sends, for the harness to read."""

    framed = False

    def __init__(self) -> None:
        self.peer_host = "fuzz"
        self.sent: list[bytes] = []
        self.aborted = False

    def send_pending(self, conn: Connection) -> bool:
        self.sent.extend(conn.messages_to_send())
        return True

    def backlog_fill(self) -> float:
        return 0.0

    def backlog_bytes(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.aborted = True


class Peer:
    """One client session on the node: its Noise state, its stream, the replies it got."""

    def __init__(self, node: Node) -> None:
        self.stream = CaptureStream()
        self.client = Connection(Role.CLIENT, X25519PrivateKey.generate(), framed=False)
        session = node._accept(self.stream)  # the transports' Acceptor: a Session per stream
        assert isinstance(session, Session), "the node refused a fuzz session"
        self.session = session
        self._handshake()

    def _handshake(self) -> None:
        for _ in range(2):  # message 1, then message 3
            for message in self.client.messages_to_send():
                self.session.data_received(message)
            self._read()
        assert self.client.state is State.OPEN and self.session.conn.state is State.OPEN

    def send(self, plaintext: bytes) -> None:
        """One request, exactly as given (the codec sees the bytes, not a re-encoding)."""
        self.client.send_encoded(plaintext)
        for message in self.client.messages_to_send():
            self.session.data_received(message)

    def _read(self) -> list[object]:
        self.session.flush()  # what the router would write at the end of this loop turn
        for message in self.stream.sent:
            self.client.receive_message(message)
        self.stream.sent.clear()
        return [
            e.message if isinstance(e, MessageReceived) else e
            for e in self.client.events_received()
        ]

    def replies(self) -> list[object]:
        """Everything decrypted since the last call."""
        return self._read()


class Findings(logging.Handler):
    """ERROR records of the node, and exceptions that no task retrieved."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(f"{record.name}: {record.getMessage()}")

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        self.found.append(f"asyncio: {context.get('message')} {context.get('exception')!r}")


class Harness:
    """The node and the event loop, built once per campaign."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.findings = Findings()
        self.loop.set_exception_handler(self.findings.loop_exception)
        logging.getLogger("aronanet").addHandler(self.findings)
        self._data = tempfile.TemporaryDirectory(prefix="aronanet-fuzz-")
        settings = NodeSettings(
            data_dir=Path(self._data.name),
            host="127.0.0.1",
            port=0,
            ws_port=None,
            web_dir=None,
            hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
            login_throttle=LoginThrottle(burst=10**9, refill_per_second=10**9),
            limits=Limits(rate_limit_enabled=False, chunk_size=64, max_image=4096),
        )
        self.node = Node(settings)
        self._peers: dict[str, Peer] = {}
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        await self.node.start()
        for user in USERS:  # the accounts exist once; every input logs in again
            peer = Peer(self.node)
            await self._request(peer, f'{{"type":"AUTH","user":"{user}","password":"{PASSWORD}",'
                                      f'"register":true,"id":"setup"}}'.encode())  # fmt: skip
            peer.session.close("set-up done")

    async def _request(self, peer: Peer, plaintext: bytes) -> list[object]:
        peer.send(plaintext)
        await peer.session.drain()
        await asyncio.sleep(0)
        return peer.replies()

    async def _logged_in(self, user: str) -> Peer:
        peer = Peer(self.node)
        auth = f'{{"type":"AUTH","user":"{user}","password":"{PASSWORD}","id":"login"}}'
        replies = await self._request(peer, auth.encode())
        assert any(isinstance(r, Ok) for r in replies), f"set-up login failed: {replies}"
        peer.send(encode(Join(channel="#lobby", id="lobby")))
        return peer

    def close(self) -> None:
        """Stop the node and remove its data (the campaign itself just exits)."""
        self.loop.run_until_complete(self.node.stop())
        self.loop.close()
        logging.getLogger("aronanet").removeHandler(self.findings)
        self._data.cleanup()

    def run(self, lines: list[bytes]) -> None:
        """Play one input; raise on any finding."""
        self.loop.run_until_complete(asyncio.wait_for(self._play(lines), INPUT_TIMEOUT))
        if self.findings.found:
            found, self.findings.found = self.findings.found, []
            raise AssertionError("; ".join(found))

    async def _users(self) -> dict[str, Peer]:
        """The two users' sessions, kept from input to input (as the node's own state is) and
        opened again only if an input closed one; each input starts with both in #lobby."""
        for name, user in zip("AB", USERS, strict=True):
            peer = self._peers.get(name)
            if peer is None or peer.session.closed:
                self._peers[name] = await self._logged_in(user)
            else:
                peer.send(encode(Join(channel="#lobby", id="lobby")))
        return dict(self._peers)

    async def _play(self, lines: list[bytes]) -> None:
        peers = await self._users()
        peers["U"] = Peer(self.node)  # a fresh session that has not logged in
        try:
            previous = "A"
            for line in lines:
                target, plaintext = _route(line)
                if target != previous:  # one session's requests pipeline; sessions take turns
                    await peers[previous].session.drain()
                    previous = target
                if plaintext:
                    peers[target].send(plaintext)
            for peer in peers.values():
                await peer.session.drain()
            await asyncio.sleep(0)
            for name, peer in peers.items():
                _check(name, peer)
        finally:
            peers["U"].session.connection_lost()


def _route(line: bytes) -> tuple[str, bytes]:
    """``B ...`` and ``U ...`` pick a session; other lines go to the first user's."""
    if line[:2] in (b"B ", b"U "):
        return line[:1].decode(), line[2:]
    return "A", line


def _check(name: str, peer: Peer) -> None:
    if peer.stream.aborted:
        raise AssertionError(f"session {name} was dropped: the harness broke no transport rule")
    for reply in peer.replies():
        if isinstance(reply, Error) and reply.code == "INTERNAL":
            raise AssertionError(f"session {name} got ERROR INTERNAL: {reply.message}")
        if isinstance(reply, MessageRejected):  # the node sent something it should not
            raise AssertionError(f"session {name} got an invalid message: {reply.rejection}")


_harness: Harness | None = None


def test_one_input(data: bytes) -> None:
    global _harness
    if _harness is None:
        _harness = Harness()
    lines = [line for line in data.split(b"\n")[:MAX_LINES] if line.strip()]
    _harness.run(lines)


if __name__ == "__main__":
    fuzz(test_one_input)
