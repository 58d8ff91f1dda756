"""One ArTP connection as a sans-I/O state machine, for either role.

Bytes in (``receive_data`` / ``receive_message``), events out (``events_received``), bytes
out (``data_to_send`` / ``messages_to_send``): no sockets, no event loop, no clock. The
transport layer owns I/O and timers (the 10 s handshake timeout, keep-alive); this object
owns every protocol decision, and maps every peer-caused failure to an outcome here, once:

* framing, handshake or decryption violation -> ``ConnectionFailed``; the state is
  ``FAILED`` for good, pending output is dropped (nothing more may be sent, §2), later input
  is ignored. The caller must close the transport.
* a plaintext that decrypts but is not a valid message -> ``MessageRejected``; the
  connection stays ``OPEN`` and the node answers ``ERROR`` (§3).

Handshake (ArTP-1.0 §2, Noise_XX_25519_AESGCM_SHA256, prologue ``ArTP/1.0``)::

    -> e                  payload: empty, or {"client": "<name/version>", "features": [...]}
    <- e, ee, s, es       payload: HELLO (§14.1: its ``features`` are asked AND supported)
    -> s, se              payload: empty
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.config import MAX_FRAME, MAX_PLAINTEXT, PROLOGUE
from aronanet.errors import FrameError, HandshakeError, ProtocolError
from aronanet.identity import fingerprint
from aronanet.proto import codec
from aronanet.proto.codec import Rejection
from aronanet.proto.features import client_payload, negotiate, parse_client_payload
from aronanet.proto.framing import HEADER, FrameDecoder, check_frame_length
from aronanet.proto.messages import Event, Hello, Request
from aronanet.proto.noise import TAG_LENGTH, CipherState, HandshakeState

_NO_AD = b""  # §2: transport messages use "empty associated data".
_pack_header = HEADER.pack


class Role(Enum):
    """Which end of the connection this is; the client is always the Noise initiator."""

    CLIENT = "client"
    SERVER = "server"


class State(Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    """The handshake finished; the connection is ``OPEN``.

    ``remote_static`` and ``fingerprint`` are the peer's: the node's key on the client (pin
    it, TOFU), the client's device key on the server. ``hello`` is the node's ``HELLO`` on
    the client side and ``None`` on the server side. ``features`` are the session's (§14.1,
    on both sides); ``client`` is the name the client gave in message 1 (server side).
    """

    remote_static: bytes
    fingerprint: str
    hello: Hello | None
    features: frozenset[str] = frozenset()
    client: str | None = None


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A valid message: a ``Request`` on the server, an ``Event`` on the client."""

    message: Request | Event


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """A plaintext that decrypted but is not a valid message; the connection stays open."""

    rejection: Rejection


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """A connection-fatal violation; close the transport, send nothing more."""

    reason: str


ConnectionEvent = HandshakeComplete | MessageReceived | MessageRejected | ConnectionFailed


class Connection:
    """The protocol state of one connection; see the module docstring for the contract.

    ``framed=True`` is the TCP transport (length-prefixed stream), ``framed=False`` the
    WebSocket transport (one ArTP message per binary WebSocket message).
    """

    def __init__(
        self,
        role: Role,
        static_key: X25519PrivateKey,
        *,
        framed: bool = True,
        hello: Hello | None = None,
        client_name: str | None = None,
        features: Iterable[str] = (),
        max_frame: int = MAX_FRAME,
        ephemeral_key: X25519PrivateKey | None = None,
    ) -> None:
        """``features``: on a client, those to ask for (§14.1); on a server, those it
        supports (a session gets the ones its client asked for among them)."""
        if role is Role.SERVER and hello is None:
            raise ValueError("a SERVER connection needs the HELLO it sends in message 2")
        self._role = role
        self._framed = framed
        self._max_frame = max_frame
        self._frame_decoder = FrameDecoder(max_frame) if framed else None
        self._handshake: HandshakeState | None = HandshakeState(
            "XX", initiator=role is Role.CLIENT, prologue=PROLOGUE, s=static_key, e=ephemeral_key
        )
        self._handshake_messages_read = 0
        self._hello = hello
        self._features_offered = frozenset(features)
        self._features: frozenset[str] = frozenset()
        self._client: str | None = None
        self._state = State.HANDSHAKE
        self._send_cipher: CipherState | None = None
        self._receive_cipher: CipherState | None = None
        self._remote_static: bytes | None = None
        self._remote_fingerprint: str | None = None
        self._decode = codec.decode_request if role is Role.SERVER else codec.decode_event
        self._events: list[ConnectionEvent] = []
        self._outgoing: list[bytes] = []
        if role is Role.CLIENT:
            payload = client_payload(client_name, self._features_offered)
            self._queue(self._handshake.write_message(payload))

    # ------------------------------------------------------------------ state

    @property
    def role(self) -> Role:
        return self._role

    @property
    def framed(self) -> bool:
        """True for the TCP stream transport, False for one-message-per-unit (WebSocket)."""
        return self._framed

    @property
    def state(self) -> State:
        return self._state

    @property
    def remote_static(self) -> bytes | None:
        """The peer's static public key once ``OPEN``."""
        return self._remote_static

    @property
    def remote_fingerprint(self) -> str | None:
        """``SHA256:...`` of the peer's static key once ``OPEN``."""
        return self._remote_fingerprint

    @property
    def hello(self) -> Hello | None:
        """The HELLO of this connection: received (client, once open) or sent (server)."""
        return self._hello

    @property
    def features(self) -> frozenset[str]:
        """§14.1: the features of this session, once the HELLO is sent (server) or read."""
        return self._features

    @property
    def max_plaintext(self) -> int:
        """The largest plaintext ``send_encoded`` accepts (§3: at most 65519 bytes)."""
        return MAX_PLAINTEXT

    # ------------------------------------------------------------------ input

    def receive_data(self, data: bytes) -> None:
        """Feed raw stream bytes (``framed=True``), split anywhere. Never raises on input."""
        if self._frame_decoder is None:
            raise RuntimeError("receive_data() is for framed connections; use receive_message()")
        if self._state is State.FAILED:
            return
        try:
            frames = self._frame_decoder.feed(data)
        except FrameError as error:
            self._fail(str(error))
            return
        self._receive_frames(frames)

    def receive_message(self, message: bytes) -> None:
        """Feed exactly one ArTP message (``framed=False``, one binary WebSocket message)."""
        if self._frame_decoder is not None:
            raise RuntimeError("receive_message() is for unframed connections; use receive_data()")
        if self._state is State.FAILED:
            return
        try:
            # §1: 1 <= N <= 65535 holds for a WebSocket message as for a TCP frame.
            check_frame_length(len(message), self._max_frame)
        except FrameError as error:
            self._fail(str(error))
            return
        self._receive_frames((message,))

    def events_received(self) -> list[ConnectionEvent]:
        """Drain and return the events produced since the last call. Never raises."""
        events, self._events = self._events, []
        return events

    # ------------------------------------------------------------------ output

    def send(self, message: msgspec.Struct) -> None:
        """Encode ``message`` as JSON, encrypt it and queue it. Only when ``OPEN``."""
        self.send_encoded(codec.encode(message))

    def send_encoded(self, plaintext: bytes) -> None:
        """Encrypt already-encoded JSON and queue it (fan-out encodes once per message;
        a node session's flush uses ``send_encoded_many``). Raises ``ProtocolError``
        unless ``OPEN``, and ``FrameError`` (state unchanged) for a plaintext over
        ``max_plaintext`` bytes."""
        cipher = self._send_cipher
        if cipher is None:
            raise ProtocolError(f"cannot send on a connection in state {self._state.name}")
        if len(plaintext) > MAX_PLAINTEXT:
            raise FrameError(
                f"plaintext of {len(plaintext)} bytes exceeds limit of {MAX_PLAINTEXT} bytes"
            )
        # Inlined _queue(): this runs once per recipient of every channel message.
        body = cipher.encrypt(plaintext)
        outgoing = self._outgoing
        if self._framed:
            outgoing.append(_pack_header(len(body)))  # two appends beat one tuple extend
        outgoing.append(body)

    def send_encoded_many(
        self, plaintexts: Sequence[bytes], headers: Sequence[bytes] | None = None
    ) -> None:
        """``send_encoded`` each of ``plaintexts``, in order, in one call: a session's flush
        (the per-recipient AEAD calls run in C). ``headers`` are their frame headers
        (``frame_headers``), made once for every session that queued the same messages.
        Raises as ``send_encoded`` does, before encrypting anything."""
        cipher = self._send_cipher
        if cipher is None:
            raise ProtocolError(f"cannot send on a connection in state {self._state.name}")
        longest = max(map(len, plaintexts), default=0)
        if longest > MAX_PLAINTEXT:
            raise FrameError(f"plaintext of {longest} bytes exceeds limit of {MAX_PLAINTEXT} bytes")
        bodies = cipher.encrypt_many(plaintexts)
        if not self._framed:
            self._outgoing += bodies
            return
        frames: list[bytes] = [b""] * (2 * len(bodies))
        frames[0::2] = frame_headers(plaintexts) if headers is None else headers
        frames[1::2] = bodies
        self._outgoing += frames

    def send_batch(self, plaintexts: Sequence[bytes]) -> None:
        """ArTP/1.1 ``batch`` (§14.2): send already-encoded messages as few JSON arrays
        (``batch_plaintexts``). Only for a peer that enabled ``batch``; raises as
        ``send_encoded`` does."""
        self.send_plaintexts(batch_plaintexts(plaintexts))

    def send_plaintexts(self, plaintexts: Iterable[bytes]) -> None:
        """``send_encoded`` each of ``plaintexts``: the arrays ``batch_plaintexts`` made
        once for every session that queued the same messages."""
        for plaintext in plaintexts:
            self.send_encoded(plaintext)

    def data_to_send(self) -> bytes:
        """Drain the queued output as one length-prefixed byte string (``framed=True``)."""
        if not self._framed:
            raise RuntimeError("data_to_send() is for framed connections; use messages_to_send()")
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        return data

    def messages_to_send(self) -> list[bytes]:
        """Drain the queued output, one bytes per WebSocket message (``framed=False``)."""
        if self._framed:
            raise RuntimeError("messages_to_send() is for unframed connections; use data_to_send()")
        messages, self._outgoing = self._outgoing, []
        return messages

    # ------------------------------------------------------------------ internals

    def _queue(self, body: bytes) -> None:
        if self._framed:
            # Header and body stay separate until data_to_send() joins them in one copy.
            self._outgoing.append(HEADER.pack(len(body)))
        self._outgoing.append(body)

    def _receive_frames(self, frames: Iterable[bytes]) -> None:
        """Process frames in order; the first violation fails the connection and stops.

        This is the per-message hot path, so the transport case is inlined here.
        """
        events = self._events
        decode = self._decode
        try:
            for frame in frames:
                cipher = self._receive_cipher
                if cipher is None:
                    self._receive_handshake_message(frame)
                    continue
                # §2: "a replayed, dropped, reordered or altered frame fails to decrypt, and
                # the receiver MUST then close the connection": DecryptError -> _fail().
                plaintext = cipher.decrypt_with_ad(_NO_AD, frame)
                if plaintext[:1] == b"[" and self._role is Role.CLIENT:
                    # ArTP/1.1 batch (§14.2): an array of messages, handled in array order.
                    for result in codec.decode_event_batch(plaintext):
                        events.append(_received(result))
                else:
                    events.append(_received(decode(plaintext)))
        except ProtocolError as error:
            self._fail(str(error))

    def _receive_handshake_message(self, frame: bytes) -> None:
        handshake = self._handshake
        assert handshake is not None  # only None once OPEN or FAILED
        payload = handshake.read_message(frame)
        self._handshake_messages_read += 1
        if self._role is Role.CLIENT:
            # <- e, ee, s, es with the HELLO; then -> s, se with an empty payload.
            self._hello = _parse_hello(payload)
            self._features = frozenset(self._hello.features)
            self._queue(handshake.write_message(b""))
        elif self._handshake_messages_read == 1:
            # -> e with the client's name and features (§14.1). <- e, ee, s, es with HELLO.
            self._queue(handshake.write_message(self._negotiate(payload)))
        if handshake.complete:
            self._open(handshake)

    def _negotiate(self, payload: bytes) -> bytes:
        """The HELLO for this client: the node's, with the features asked AND supported."""
        assert self._hello is not None
        asked = parse_client_payload(payload)
        enabled = negotiate(asked.features, self._features_offered)
        self._client, self._features = asked.client, frozenset(enabled)
        self._hello = msgspec.structs.replace(self._hello, features=list(enabled))
        return codec.encode(self._hello)

    def _open(self, handshake: HandshakeState) -> None:
        initiator_to_responder, responder_to_initiator = handshake.split()
        if self._role is Role.CLIENT:
            self._send_cipher, self._receive_cipher = initiator_to_responder, responder_to_initiator
        else:
            self._send_cipher, self._receive_cipher = responder_to_initiator, initiator_to_responder
        remote_static = handshake.remote_static
        if remote_static is None:  # impossible after XX; guard against a broken pattern
            raise HandshakeError("the handshake finished without the peer's static key")
        self._remote_static = remote_static
        self._remote_fingerprint = fingerprint(remote_static)
        self._handshake = None
        self._state = State.OPEN
        client_hello = self._hello if self._role is Role.CLIENT else None
        self._events.append(
            HandshakeComplete(
                remote_static,
                self._remote_fingerprint,
                client_hello,
                self._features,
                self._client,
            )
        )

    def _fail(self, reason: str) -> None:
        """The one place a connection dies: §2 "nothing is sent in clear text" and nothing
        more at all, so queued output is dropped along with every key."""
        self._state = State.FAILED
        self._handshake = None
        self._send_cipher = None
        self._receive_cipher = None
        self._outgoing.clear()
        self._events.append(ConnectionFailed(reason))


def batch_plaintexts(plaintexts: Sequence[bytes]) -> list[bytes]:
    """ArTP/1.1 ``batch`` (§14.2): already-encoded messages joined into as few JSON arrays
    as the size limit allows, in order.

    The node joins the messages queued for a session in one loop turn, so a burst costs
    the session one AEAD call and one write instead of one per message. Each array's
    plaintext stays within ``MAX_PLAINTEXT`` (the 65519-byte limit holds for the whole
    array); a group of one is the bare object.
    """
    if len(plaintexts) <= 1:
        return list(plaintexts)
    # "[" + the elements + one "," or "]" after each: the common case, one array.
    if sum(map(len, plaintexts)) + len(plaintexts) + 1 <= MAX_PLAINTEXT:
        return [b"[" + b",".join(plaintexts) + b"]"]
    arrays: list[bytes] = []
    group: list[bytes] = []
    size = 1  # the opening "["; each element adds its length plus one "," or "]"
    for plaintext in plaintexts:
        grown = size + len(plaintext) + 1
        if group and grown > MAX_PLAINTEXT:
            arrays.append(_array(group))
            group, grown = [], 2 + len(plaintext)
        group.append(plaintext)
        size = grown
    if group:
        arrays.append(_array(group))
    return arrays


def seal_each(connections: Sequence[Connection], plaintext: bytes) -> list[bytes]:
    """``plaintext`` as one frame on each of ``connections`` (open and framed), after what each
    has queued: the wire bytes to write to each, drained like ``data_to_send``.

    A fan-out event with nothing else to send costs each connection its AEAD call and no
    Python call of its own (``CipherState.encrypt_each``). Raises ``FrameError`` for a
    plaintext over ``MAX_PLAINTEXT`` and ``ProtocolError`` if one is not open, before
    anything is encrypted.
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise FrameError(
            f"plaintext of {len(plaintext)} bytes exceeds limit of {MAX_PLAINTEXT} bytes"
        )
    ciphers = [connection._send_cipher for connection in connections]
    if None in ciphers or not all(connection._framed for connection in connections):
        raise ProtocolError("seal_each is for open, framed connections")
    bodies = CipherState.encrypt_each(ciphers, plaintext)  # type: ignore[arg-type]
    header = _pack_header(len(plaintext) + TAG_LENGTH)
    frames = [header + body for body in bodies]
    for index, connection in enumerate(connections):
        queued = connection._outgoing
        if queued:  # rare: whatever was queued goes first, as data_to_send would write it
            frames[index] = b"".join(queued) + frames[index]
            queued.clear()
    return frames


def frame_headers(plaintexts: Sequence[bytes]) -> list[bytes]:
    """The TCP length prefix (§1) of each plaintext's frame once encrypted (plus its tag)."""
    return [_pack_header(len(plaintext) + TAG_LENGTH) for plaintext in plaintexts]


def _array(group: list[bytes]) -> bytes:
    return group[0] if len(group) == 1 else b"[" + b",".join(group) + b"]"


def _received(result: Request | Event | Rejection) -> ConnectionEvent:
    if isinstance(result, Rejection):
        return MessageRejected(result)
    return MessageReceived(result)


def _parse_hello(payload: bytes) -> Hello:
    """The node's HELLO from message 2; anything else fails the handshake."""
    result = codec.decode_event(payload)
    if isinstance(result, Hello):
        return result
    reason = result.message if isinstance(result, Rejection) else f"a {type(result).__name__}"
    raise HandshakeError(f"message 2 payload is not a valid HELLO: {reason}")
