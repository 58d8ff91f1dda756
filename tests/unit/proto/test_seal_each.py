"""One event sealed for many connections at once (``seal_each``, the node's fan-out): the
same bytes each connection would have sent alone, checked before anything is encrypted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aronanet.config import MAX_PLAINTEXT
from aronanet.errors import FrameError, NonceExhaustedError, ProtocolError
from aronanet.proto.codec import encode
from aronanet.proto.connection import Connection, MessageReceived, seal_each
from aronanet.proto.messages import MsgEvent, Ok
from aronanet.proto.noise import MAX_NONCE, CipherState

from .connection_pair import make_pair, open_pair

EVENT = MsgEvent(
    id="7", from_="arona", dest_type="channel", dest="#general", content="hi", timestamp=1
)


def _pairs(count: int) -> list[tuple[Connection, Connection]]:
    return [open_pair() for _ in range(count)]


def test_every_peer_decrypts_the_event_and_the_stream_goes_on() -> None:
    pairs = _pairs(3)
    frames = seal_each([server for _, server in pairs], encode(EVENT))
    for (client, server), frame in zip(pairs, frames, strict=True):
        client.receive_data(frame)
        server.send(Ok(re="after"))  # the next nonce follows the sealed one
        client.receive_data(server.data_to_send())
        assert client.events_received() == [MessageReceived(EVENT), MessageReceived(Ok(re="after"))]


@settings(max_examples=50, deadline=None)
@given(
    plaintexts=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=4),
    queued_before=st.booleans(),
)
def test_the_bytes_are_those_each_connection_would_have_sent_alone(
    plaintexts: list[bytes], queued_before: bool
) -> None:
    # make_pair's keys are fixed: two pairs made alike share every key and nonce.
    sealed, alone = open_pair(), open_pair()
    for _, server in (sealed, alone):
        if queued_before:
            server.send(Ok(re="first"))
    for plaintext in plaintexts:
        [frame] = seal_each([sealed[1]], plaintext)
        alone[1].send_encoded(plaintext)
        assert frame == alone[1].data_to_send()
        queued_before = False


def test_what_a_connection_had_queued_goes_first() -> None:
    client, server = open_pair()
    server.send(Ok(re="reply"))
    [frame] = seal_each([server], encode(EVENT))
    client.receive_data(frame)
    assert client.events_received() == [MessageReceived(Ok(re="reply")), MessageReceived(EVENT)]
    assert server.data_to_send() == b""  # drained, as data_to_send would have


def test_a_plaintext_over_the_limit_is_refused_before_any_nonce_is_used() -> None:
    client, server = open_pair()
    with pytest.raises(FrameError):
        seal_each([server], b"x" * (MAX_PLAINTEXT + 1))
    [frame] = seal_each([server], encode(EVENT))
    client.receive_data(frame)
    assert client.events_received() == [MessageReceived(EVENT)]


def test_a_connection_still_in_its_handshake_is_refused() -> None:
    _, opened = open_pair()
    _, handshaking = make_pair()
    with pytest.raises(ProtocolError):
        seal_each([opened, handshaking], encode(EVENT))


def test_an_exhausted_nonce_stops_every_cipher_before_any_is_used() -> None:
    key = bytes(range(32))
    fresh, spent = CipherState("AESGCM", key), CipherState("AESGCM", key)
    spent.set_nonce(MAX_NONCE)
    with pytest.raises(NonceExhaustedError):
        CipherState.encrypt_each([fresh, spent], b"x")
    assert fresh.n == 0
    assert CipherState.encrypt_each([fresh], b"x") == [CipherState("AESGCM", key).encrypt(b"x")]
    assert fresh.n == 1
