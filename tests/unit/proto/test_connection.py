"""The Connection state machine: handshake, messages, and every way a peer can break it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.config import PROLOGUE
from aronanet.errors import ErrorCode, FrameError, ProtocolError
from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto.codec import Rejection, encode
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
from aronanet.proto.messages import Ok, Ping, SendMsg
from aronanet.proto.noise import HandshakeState

from .connection_pair import HELLO, fixed_key, make_pair, only_event, open_pair, transfer

GREETING = SendMsg(dest_type="channel", dest="#general", content="Hello Arona!", id="r1")


def _assert_failed(connection: Connection, reason_part: str) -> None:
    event = only_event(connection)
    assert isinstance(event, ConnectionFailed)
    assert reason_part in event.reason
    assert connection.state is State.FAILED


# ------------------------------------------------------------------ handshake


def test_client_queues_handshake_message_one_at_construction() -> None:
    client, _ = make_pair()
    # -> e with an empty payload: a 32-byte ephemeral key in one frame.
    assert client.data_to_send() == b"\x00\x00\x00\x20" + public_key_bytes(fixed_key(2))
    assert client.state is State.HANDSHAKE


def test_client_name_travels_in_clear_in_message_one() -> None:
    client, server = make_pair(client_name="aronanet-tui/0.1")
    data = client.data_to_send()
    assert data.endswith(b'{"client":"aronanet-tui/0.1"}')
    server.receive_data(data)
    assert server.events_received() == []
    assert server.data_to_send()


def test_handshake_opens_both_sides_with_each_others_fingerprint_and_the_hello() -> None:
    client, server = make_pair()
    transfer(client, server)
    transfer(server, client)
    client_event = only_event(client)
    transfer(client, server)
    server_event = only_event(server)
    server_public = public_key_bytes(fixed_key(3))
    client_public = public_key_bytes(fixed_key(1))
    assert client_event == HandshakeComplete(server_public, fingerprint(server_public), HELLO)
    assert server_event == HandshakeComplete(client_public, fingerprint(client_public), None)
    assert client.state is State.OPEN and server.state is State.OPEN
    assert client.remote_fingerprint == fingerprint(server_public)
    assert server.remote_fingerprint == fingerprint(client_public)
    assert client.hello == HELLO


def test_the_handshake_is_deterministic_with_fixed_keys() -> None:
    first, second = make_pair(), make_pair()
    for client, server in (first, second):
        transfer(client, server)
    assert first[1].data_to_send() == second[1].data_to_send()


def test_the_whole_conversation_survives_one_byte_reads() -> None:
    client, server = make_pair()

    def trickle(sender: Connection, receiver: Connection) -> None:
        for byte in sender.data_to_send():
            receiver.receive_data(bytes([byte]))

    trickle(client, server)
    trickle(server, client)
    trickle(client, server)
    client.send(GREETING)
    trickle(client, server)
    events = server.events_received()
    assert [type(event) for event in events] == [HandshakeComplete, MessageReceived]
    assert events[1] == MessageReceived(GREETING)


def test_message_three_and_requests_in_one_read_are_all_processed_in_order() -> None:
    client, server = make_pair()
    transfer(client, server)
    transfer(server, client)
    client.events_received()
    for n in range(3):
        client.send(Ping(id=f"p{n}"))
    server.receive_data(client.data_to_send())
    events = server.events_received()
    assert isinstance(events[0], HandshakeComplete)
    assert events[1:] == [MessageReceived(Ping(id=f"p{n}")) for n in range(3)]


def test_server_needs_a_hello() -> None:
    with pytest.raises(ValueError, match="HELLO"):
        Connection(Role.SERVER, fixed_key(3))


def test_client_fails_when_message_two_carries_no_valid_hello() -> None:
    client, _ = make_pair()
    responder = HandshakeState("XX", False, PROLOGUE, s=fixed_key(3))
    message_one = FrameDecoder().feed(client.data_to_send())[0]
    responder.read_message(message_one)
    message_two = responder.write_message(b'{"type":"OK"}')
    client.receive_data(len(message_two).to_bytes(4, "big") + message_two)
    _assert_failed(client, "not a valid HELLO")
    assert client.data_to_send() == b""  # message 3 is never sent


def test_server_fails_on_a_garbage_first_message() -> None:
    _, server = make_pair()
    server.receive_data(b"\x00\x00\x00\x05hello")
    _assert_failed(server, "too short")
    assert server.data_to_send() == b""


def test_server_fails_on_a_tampered_third_message() -> None:
    client, server = make_pair()
    transfer(client, server)
    transfer(server, client)
    data = bytearray(client.data_to_send())
    data[10] ^= 0x01
    server.receive_data(bytes(data))
    _assert_failed(server, "handshake message failed to decrypt")


def test_client_sees_another_fingerprint_when_the_server_key_changes() -> None:
    client, _ = make_pair()
    impostor = Connection(Role.SERVER, X25519PrivateKey.generate(), hello=HELLO)
    transfer(client, impostor)
    transfer(impostor, client)
    event = only_event(client)
    assert isinstance(event, HandshakeComplete)
    assert event.fingerprint != fingerprint(public_key_bytes(fixed_key(3)))


def test_send_before_the_handshake_completes_is_refused() -> None:
    client, server = make_pair()
    with pytest.raises(ProtocolError, match="HANDSHAKE"):
        client.send(Ping())
    with pytest.raises(ProtocolError, match="HANDSHAKE"):
        server.send(Ok())


# ------------------------------------------------------------------ transport phase


def test_messages_flow_both_ways_after_the_handshake() -> None:
    client, server = open_pair()
    client.send(GREETING)
    transfer(client, server)
    assert only_event(server) == MessageReceived(GREETING)
    reply = Ok(re="r1", msg_id="m1", timestamp=1234567890)
    server.send(reply)
    transfer(server, client)
    assert only_event(client) == MessageReceived(reply)


def test_send_encoded_sends_the_same_plaintext_to_several_sessions() -> None:
    pairs = [open_pair(), open_pair()]
    plaintext = encode(Ok(re="fan"))
    for client, server in pairs:
        server.send_encoded(plaintext)
        transfer(server, client)
        assert only_event(client) == MessageReceived(Ok(re="fan"))


@pytest.mark.parametrize("framed", [True, False])
def test_send_encoded_many_is_the_same_stream_as_send_encoded_one_by_one(framed: bool) -> None:
    """A session's flush encrypts its queue in one call; the peer must not tell."""
    plaintexts = [encode(Ok(re=str(n), msg_id="m" * n)) for n in range(5)]
    (_, one_by_one), (client, many) = open_pair(framed=framed), open_pair(framed=framed)
    for plaintext in plaintexts:
        one_by_one.send_encoded(plaintext)
    many.send_encoded_many(plaintexts)  # the keys are fixed: the bytes must be equal
    if framed:
        data = many.data_to_send()
        assert data == one_by_one.data_to_send()
        client.receive_data(data)
    else:
        messages = many.messages_to_send()
        assert messages == one_by_one.messages_to_send()
        for message in messages:
            client.receive_message(message)
    assert client.events_received() == [
        MessageReceived(Ok(re=str(n), msg_id="m" * n)) for n in range(5)
    ]


def test_send_encoded_many_refuses_an_oversized_plaintext_before_encrypting_any() -> None:
    client, server = open_pair()
    with pytest.raises(FrameError, match="65520 bytes exceeds limit of 65519"):
        server.send_encoded_many([encode(Ok(re="a")), b"x" * 65520])
    assert server.data_to_send() == b""
    server.send_encoded_many([encode(Ok(re="b"))])  # the nonce was not used up
    transfer(server, client)
    assert only_event(client) == MessageReceived(Ok(re="b"))


def test_an_invalid_plaintext_is_rejected_and_the_connection_stays_open() -> None:
    client, server = open_pair()
    client.send_encoded(b"[1, 2, 3]")
    client.send_encoded(b'{"type":"DANCE","id":"d1"}')
    client.send(GREETING)
    transfer(client, server)
    assert server.events_received() == [
        MessageRejected(Rejection(ErrorCode.INVALID, "expected a JSON object, not an array")),
        MessageRejected(Rejection(ErrorCode.UNKNOWN_TYPE, "unknown type 'DANCE'", "d1")),
        MessageReceived(GREETING),
    ]
    assert server.state is State.OPEN


def test_a_flipped_ciphertext_bit_fails_the_connection() -> None:
    client, server = open_pair()
    client.send(GREETING)
    data = bytearray(client.data_to_send())
    data[-1] ^= 0x01
    server.receive_data(bytes(data))
    _assert_failed(server, "failed to authenticate")


def test_a_replayed_frame_fails_the_connection() -> None:
    client, server = open_pair()
    client.send(GREETING)
    frame = client.data_to_send()
    server.receive_data(frame)
    assert isinstance(only_event(server), MessageReceived)
    server.receive_data(frame)
    _assert_failed(server, "failed to authenticate at nonce 1")


def test_reordered_frames_fail_the_connection() -> None:
    client, server = open_pair()
    client.send(Ping(id="first"))
    first = client.data_to_send()
    client.send(Ping(id="second"))
    second = client.data_to_send()
    server.receive_data(second + first)
    _assert_failed(server, "failed to authenticate at nonce 0")


def test_a_failed_connection_ignores_input_refuses_sends_and_sends_nothing() -> None:
    client, server = open_pair()
    server.send(Ok(re="pending"))
    server.receive_data(b"\x00\x00\x00\x00")
    _assert_failed(server, "frame length 0")
    assert server.data_to_send() == b""
    client.send(GREETING)
    server.receive_data(client.data_to_send())
    assert server.events_received() == []
    with pytest.raises(ProtocolError, match="FAILED"):
        server.send(Ok())


@pytest.mark.parametrize(
    ("header", "reason"),
    [(b"\x00\x00\x00\x00", "frame length 0"), (b"\x00\x01\x00\x00", "65536 exceeds")],
)
def test_a_bad_length_fails_the_connection_from_the_header_alone(
    header: bytes, reason: str
) -> None:
    _client, server = open_pair()
    server.receive_data(header)
    _assert_failed(server, reason)
    _, fresh_server = make_pair()
    fresh_server.receive_data(header)
    _assert_failed(fresh_server, reason)


def test_a_lower_max_frame_is_enforced() -> None:
    server = Connection(Role.SERVER, fixed_key(3), hello=HELLO, max_frame=100)
    server.receive_data(b"\x00\x00\x00\x65")
    _assert_failed(server, "frame length 101 exceeds limit of 100 bytes")


def test_an_oversized_plaintext_is_refused_without_failing_the_connection() -> None:
    client, _ = open_pair()
    with pytest.raises(FrameError, match="65520 bytes exceeds limit of 65519"):
        client.send_encoded(b"x" * 65520)
    assert client.state is State.OPEN
    client.send_encoded(b"x" * client.max_plaintext)
    assert len(client.data_to_send()) == 4 + 65535


# ------------------------------------------------------------------ WebSocket (unframed)


def test_unframed_connections_exchange_one_message_per_unit() -> None:
    client, server = open_pair(framed=False)
    client.send(GREETING)
    client.send(Ping(id="p"))
    messages = client.messages_to_send()
    assert len(messages) == 2
    for message in messages:
        server.receive_message(message)
    assert server.events_received() == [MessageReceived(GREETING), MessageReceived(Ping(id="p"))]


@pytest.mark.parametrize(("size", "reason"), [(0, "frame length 0"), (65536, "65536 exceeds")])
def test_unframed_connections_reject_lengths_outside_the_contract(size: int, reason: str) -> None:
    _, server = make_pair(framed=False)
    server.receive_message(b"\x00" * size)
    _assert_failed(server, reason)


def test_calling_the_other_transports_methods_is_a_programming_error() -> None:
    framed, _ = make_pair()
    unframed, _ = make_pair(framed=False)
    with pytest.raises(RuntimeError):
        framed.receive_message(b"x")
    with pytest.raises(RuntimeError):
        framed.messages_to_send()
    with pytest.raises(RuntimeError):
        unframed.receive_data(b"x")
    with pytest.raises(RuntimeError):
        unframed.data_to_send()
