"""The floor: a bare asyncio ArTP broadcast server with no storage, accounts or limits.

It speaks enough real ArTP (Noise XX as responder, ``AUTH`` accepted without a password
check, ``JOIN``, channel ``MSG`` with ``OK``) for the same load generator to drive it, and
does the least a correct node must do per delivery: encode the event once, encrypt it per
recipient, and write once per recipient per batch of incoming data. What the node spends
above this floor is what storage, routing and validation cost. Run as a script::

    python bench/loadgen/floor.py --port 7790
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.config import PROLOGUE
from aronanet.errors import ProtocolError
from aronanet.proto import codec, messages
from aronanet.proto.framing import FrameDecoder, encode_frame
from aronanet.proto.noise import CipherState, HandshakeState

_NO_AD = b""


class Floor:
    """Channel membership and the per-batch flush shared by every session."""

    def __init__(self) -> None:
        self.key = X25519PrivateKey.generate()
        self.hello = codec.encode(messages.Hello(node="floor"))
        self.channels: dict[str, list[FloorSession]] = {}
        self.dirty: set[FloorSession] = set()
        self.ids = itertools.count()

    def flush(self) -> None:
        """One write per session that has output queued since the last flush."""
        dirty, self.dirty = self.dirty, set()
        for session in dirty:
            session.flush()


class FloorSession(asyncio.Protocol):
    """One client connection of the floor server."""

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.user = ""
        self.outbox: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.decoder = FrameDecoder()
        self.handshake = HandshakeState("XX", False, PROLOGUE, s=floor.key)
        self.send_cipher: CipherState | None = None
        self.receive_cipher: CipherState | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for members in self.floor.channels.values():
            if self in members:
                members.remove(self)
        self.floor.dirty.discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            for frame in self.decoder.feed(data):
                self.frame_received(frame)
        except ProtocolError:
            assert self.transport is not None
            self.transport.close()
        self.floor.flush()

    def frame_received(self, frame: bytes) -> None:
        if self.receive_cipher is None:
            self.handshake_step(frame)
            return
        request = codec.decode_request(self.receive_cipher.decrypt_with_ad(_NO_AD, frame))
        self.handle(request)

    def handshake_step(self, frame: bytes) -> None:
        self.handshake.read_message(frame)
        if self.handshake.complete:
            self.receive_cipher, self.send_cipher = self.handshake.split()
            return
        self.queue(encode_frame(self.handshake.write_message(self.floor.hello)))

    def handle(self, request: messages.Request | codec.Rejection) -> None:
        match request:
            case messages.SendMsg(dest=dest, content=content, id=request_id):
                self.broadcast(dest, content, request_id)
            case messages.Auth(user=user, id=request_id):
                self.user = user
                self.reply(messages.Ok(re=request_id, user=user, channels=[]))
            case messages.Join(channel=channel, id=request_id):
                self.floor.channels.setdefault(channel, []).append(self)
                self.reply(messages.Ok(re=request_id, channel=channel, topic="", members=[]))
            case messages.Ping(id=request_id):
                self.reply(messages.PongReply(re=request_id))
            case _:
                self.reply(messages.Error(code="INVALID", message="not supported by the floor"))

    def broadcast(self, channel: str, content: str, request_id: object) -> None:
        """Encode once, encrypt per recipient, queue; the flush writes once per recipient."""
        message_id = str(next(self.floor.ids))
        timestamp = int(time.time())
        event = codec.encode(
            messages.MsgEvent(
                id=message_id,
                from_=self.user,
                dest_type="channel",
                dest=channel,
                content=content,
                timestamp=timestamp,
            )
        )
        for member in self.floor.channels.get(channel, ()):
            if member is not self:
                member.queue_plaintext(event)
        self.reply(messages.Ok(re=request_id, msg_id=message_id, timestamp=timestamp))

    def reply(self, message: messages.Ok | messages.Error | messages.PongReply) -> None:
        self.queue_plaintext(codec.encode(message))

    def queue_plaintext(self, plaintext: bytes) -> None:
        assert self.send_cipher is not None
        self.queue(encode_frame(self.send_cipher.encrypt_with_ad(_NO_AD, plaintext)))

    def queue(self, frame: bytes) -> None:
        self.outbox.append(frame)
        self.floor.dirty.add(self)

    def flush(self) -> None:
        if self.outbox and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.outbox))
        self.outbox.clear()


async def serve(port: int) -> None:
    floor = Floor()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FloorSession(floor), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
