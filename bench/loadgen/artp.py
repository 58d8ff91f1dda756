"""ArTP load clients: a lean asyncio client on the sans-I/O proto core.

Why not ``proto.Connection``: on two cores the receivers share the machine with the node,
so each delivery must cost them as little as possible. This client uses the proto core's
own pieces (``HandshakeState`` for Noise XX, ``FrameDecoder``, ``CipherState``, ``codec``)
and still decrypts and authenticates every frame, but recognises a channel ``MSG`` event by
its bytes instead of decoding it into a Struct; while no latency is sampled it only counts
them, as the IRC client counts ``PRIVMSG`` lines. Anything else (replies, server ``PING``)
is decoded with the codec and handled properly. With ``batch`` (ArTP/1.1 §14.2) it asks
the node for arrays of messages and splits each array into its elements (msgspec ``Raw``).
A sender can also time each message from its send to its ``OK`` (``ack_latency``): the
node acknowledges only after the store committed it, so this is the durable-write latency.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import cast

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.config import PROLOGUE
from aronanet.errors import ProtocolError
from aronanet.proto import codec, messages
from aronanet.proto.features import client_payload
from aronanet.proto.framing import FrameDecoder, encode_frame
from aronanet.proto.noise import CipherState, HandshakeState
from loadgen.counters import LatencyLog
from loadgen.payload import latency_microseconds

#: msgspec writes the tag first and compactly: every MSG event starts with these bytes.
_MSG_EVENT = b'{"type":"MSG"'
_EVENT_START = b'{"type":'
_CONTENT = b'"content":"'
_NO_AD = b""
_BATCH_START = b"["
_split_batch = msgspec.json.Decoder(list[msgspec.Raw]).decode
#: Request ids of benchmark messages start with this, so their OKs are counted, not matched.
_MESSAGE_ID_PREFIX = "m"


Reply = messages.Ok | messages.Error | messages.PongReply


class RequestFailed(Exception):
    """The node answered a setup request with ``ERROR``."""


class ArtpClient(asyncio.Protocol):
    """One ArTP session over TCP: Noise XX as initiator, then requests and deliveries."""

    def __init__(
        self,
        name: str,
        latency: LatencyLog,
        device_key: X25519PrivateKey | None = None,
        batch: bool = False,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.name = name
        self.delivered = 0
        self.sent = 0
        self.acked = 0
        self.refused = 0
        #: Send-to-OK latency samples (µs) of benchmark messages, while enabled.
        self.ack_latency = LatencyLog()
        self._sent_ns: dict[str, int] = {}
        self.hello: messages.Hello | None = None
        self.handshake_done: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._latency = latency
        self._transport: asyncio.Transport | None = None
        self._decoder = FrameDecoder()
        static = device_key or X25519PrivateKey.generate()
        self._handshake = HandshakeState("XX", True, PROLOGUE, s=static)
        self._send_cipher: CipherState | None = None
        self._receive_cipher: CipherState | None = None
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._ids = itertools.count()
        self._hello_payload = client_payload(None, ["batch"] if batch else [])

    # ------------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not ``asyncio.Transport`` subclasses, but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        # ArTP-1.0 §2: "-> e   payload: empty"; §14.1: or the features asked for.
        self._transport.write(encode_frame(self._handshake.write_message(self._hello_payload)))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"{self.name}: connection lost ({exc})"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
            cipher = self._receive_cipher
            if cipher is None and frames:
                self._handshake_received(frames.pop(0))
                cipher = self._receive_cipher
            if not frames:
                return
            assert cipher is not None
            received_ns = time.monotonic_ns()
            counting = not self._latency.enabled
            for frame in frames:
                plaintext = cipher.decrypt_with_ad(_NO_AD, frame)
                if counting and self._count_messages(plaintext):
                    continue
                if plaintext.startswith(_BATCH_START):
                    for element in _split_batch(plaintext):
                        self._plaintext_received(bytes(element), received_ns)
                else:
                    self._plaintext_received(plaintext, received_ns)
        except ProtocolError as error:
            # §2: a frame that fails to decrypt ends the connection.
            self._fail(ConnectionError(f"{self.name}: {error}"))
            self.close()

    # ------------------------------------------------------------------ receiving

    def _handshake_received(self, frame: bytes) -> None:
        """Message 2 (``<- e, ee, s, es`` with HELLO), then send message 3 and split."""
        hello = codec.decode_event(self._handshake.read_message(frame))
        if not isinstance(hello, messages.Hello):
            raise ProtocolError(f"handshake payload is not a HELLO: {hello!r}")
        self.hello = hello
        assert self._transport is not None
        self._transport.write(encode_frame(self._handshake.write_message(b"")))
        self._send_cipher, self._receive_cipher = self._handshake.split()
        self.handshake_done.set_result(None)

    def _count_messages(self, plaintext: bytes) -> bool:
        """The hot path while no latency is sampled, as the IRC client's ``bytes.count``:
        a plaintext (one event, or a ``batch`` array) of nothing but ``MSG`` events is
        counted with two C calls, not split and looked at event by event. Exact, because a
        JSON string escapes its quotes: ``{"type":`` only ever starts an event."""
        events = plaintext.count(_MSG_EVENT)
        if events and events == plaintext.count(_EVENT_START):
            self.delivered += events
            return True
        return False

    def _plaintext_received(self, plaintext: bytes, received_ns: int) -> None:
        if plaintext.startswith(_MSG_EVENT):
            self.delivered += 1
            if self._latency.enabled:
                start = plaintext.index(_CONTENT) + len(_CONTENT)
                latency = latency_microseconds(plaintext[start : start + 64], received_ns)
                self._latency.samples.append(latency)
            return
        self._event_received(codec.decode_event(plaintext))

    def _event_received(self, event: messages.Event | codec.Rejection) -> None:
        match event:
            case messages.Ok(re=str(request_id)) if request_id.startswith(_MESSAGE_ID_PREFIX):
                self._acknowledged(request_id)
            case messages.Error(re=str(request_id)) if request_id.startswith(_MESSAGE_ID_PREFIX):
                self._acknowledged(request_id)
                self.refused += 1
            case (
                messages.Ok(re=str(request_id))
                | messages.Error(re=str(request_id))
                | messages.PongReply(re=str(request_id))
            ):
                self._settle(request_id, event)
            case messages.PingEvent(id=ping_id):
                # §3: "a client idle for 60 s; the client answers PONG with re".
                self._send([codec.encode(messages.Pong(re=ping_id))])
            case _:
                pass  # JOIN/PART events of other members, and anything else, are not counted.

    def _acknowledged(self, request_id: str) -> None:
        self.acked += 1
        sent_ns = self._sent_ns.pop(request_id, None)
        if sent_ns is not None:
            self.ack_latency.samples.append((time.monotonic_ns() - sent_ns) // 1000)

    def _settle(self, request_id: str, reply: Reply) -> None:
        future = self._pending.pop(request_id, None)
        if future is None or future.done():
            return
        if isinstance(reply, messages.Error):
            future.set_exception(RequestFailed(f"{self.name}: {reply.code}: {reply.message}"))
        else:
            future.set_result(reply)

    def _fail(self, error: Exception) -> None:
        if not self.handshake_done.done():
            self.handshake_done.set_exception(error)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    # ------------------------------------------------------------------ sending

    def _send(self, plaintexts: list[bytes]) -> None:
        """Encrypt and frame every plaintext, then write them all at once."""
        cipher = self._send_cipher
        transport = self._transport
        if cipher is None or transport is None or transport.is_closing():
            raise ConnectionError(f"{self.name}: not connected")
        transport.write(
            b"".join([encode_frame(cipher.encrypt_with_ad(_NO_AD, p)) for p in plaintexts])
        )

    def request(self, message: msgspec.Struct) -> asyncio.Future[Reply]:
        """Send a request with a fresh ``id``; the future resolves to its ``OK``."""
        request_id = f"r{next(self._ids)}"
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._send([codec.encode(msgspec.structs.replace(message, id=request_id))])
        return future

    def send_messages(self, channel: str, contents: list[str]) -> None:
        """Pipeline one ``MSG`` per content in a single write; their OKs bump ``acked``.

        ``channel`` is a channel (``#name``) or, for direct messages, a user name."""
        dest_type = "channel" if channel.startswith("#") else "user"
        ids = [f"{_MESSAGE_ID_PREFIX}{self.sent + offset}" for offset in range(len(contents))]
        self._send(
            [
                codec.encode(
                    messages.SendMsg(dest_type=dest_type, dest=channel, content=content, id=i)
                )
                for i, content in zip(ids, contents, strict=True)
            ]
        )
        if self.ack_latency.enabled:
            sent_ns = time.monotonic_ns()
            self._sent_ns.update((request_id, sent_ns) for request_id in ids)
        self.sent += len(contents)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_session(
    port: int,
    name: str,
    latency: LatencyLog,
    timeout: float,
    device_key: X25519PrivateKey | None = None,
    batch: bool = False,
) -> ArtpClient:
    """Connect to 127.0.0.1:``port`` and complete the Noise XX handshake."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(
            lambda: ArtpClient(name, latency, device_key, batch), "127.0.0.1", port
        ),
        timeout,
    )
    await asyncio.wait_for(client.handshake_done, timeout)
    return client


async def handshake_once(port: int, device_key: X25519PrivateKey, timeout: float) -> None:
    """One full session start: connect, Noise XX, then a ``PING`` answered by ``PONG``.

    The reply proves the server finished its side (it must read message 3 to decrypt the
    ``PING``); §3 allows ``PING`` before ``AUTH``.
    """
    client = await open_session(port, "hs", LatencyLog(), timeout, device_key)
    try:
        await asyncio.wait_for(client.request(messages.Ping()), timeout)
    finally:
        client.close()


async def connect_artp(
    port: int,
    user: str,
    password: str,
    channels: list[str],
    latency: LatencyLog,
    timeout: float,
    batch: bool = False,
) -> ArtpClient:
    """Connect, handshake, ``AUTH`` with ``register: true``, then ``JOIN`` every channel."""
    client = await open_session(port, user, latency, timeout, batch=batch)
    await asyncio.wait_for(
        client.request(messages.Auth(user=user, password=password, register=True)), timeout
    )
    for channel in channels:
        await asyncio.wait_for(client.request(messages.Join(channel=channel)), timeout)
    return client
