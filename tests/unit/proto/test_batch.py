"""ArTP/1.1 ``batch`` (§14.2): node-to-client arrays of messages, sans-I/O."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aronanet.config import MAX_PLAINTEXT
from aronanet.errors import ErrorCode
from aronanet.proto.codec import Rejection, decode_event_batch, encode
from aronanet.proto.connection import Connection, MessageReceived, MessageRejected
from aronanet.proto.framing import FrameDecoder
from aronanet.proto.messages import MsgEvent, Ok, PingEvent, SendMsg

from .connection_pair import open_pair, transfer


def _event(number: int, content: str = "hello") -> MsgEvent:
    return MsgEvent(
        id=str(number),
        from_="arona",
        dest_type="channel",
        dest="#general",
        content=content,
        timestamp=1234567890 + number,
    )


def _deliver_counting_frames(server: Connection, client: Connection) -> int:
    """Move the server's output to the client; return how many transport messages it was."""
    data = server.data_to_send()
    frames = FrameDecoder().feed(data)
    client.receive_data(data)
    return len(frames)


def test_a_batch_reaches_the_client_as_its_messages_in_order() -> None:
    client, server = open_pair()
    messages = [_event(1), Ok(re="r1", msg_id="2", timestamp=5), _event(3), PingEvent(id="p")]
    server.send_batch([encode(message) for message in messages])
    assert _deliver_counting_frames(server, client) == 1  # one AEAD call, one message
    assert client.events_received() == [MessageReceived(message) for message in messages]


def test_a_batch_of_one_is_sent_as_the_bare_object() -> None:
    client, server = open_pair()
    plaintext = encode(_event(1))
    server.send_batch([plaintext])
    data = server.data_to_send()
    assert len(data) == 4 + len(plaintext) + 16  # length prefix, the object itself, the tag
    client.receive_data(data)
    assert client.events_received() == [MessageReceived(_event(1))]


def test_a_batch_never_exceeds_the_plaintext_limit_and_splits_in_order() -> None:
    client, server = open_pair()
    big = [encode(_event(n, "x" * 3000)) for n in range(60)]  # ~190 KB in all
    server.send_batch(big)
    assert _deliver_counting_frames(server, client) == 3  # 65519 bytes hold 20 of ~3.2 KB
    assert client.events_received() == [MessageReceived(_event(n, "x" * 3000)) for n in range(60)]


def test_an_element_that_fills_a_plaintext_alone_goes_bare_between_arrays() -> None:
    client, server = open_pair()
    filler = encode(_event(2, "y"))
    overhead = len(filler) - 1
    huge = encode(_event(2, "y" * (MAX_PLAINTEXT - overhead)))
    assert len(huge) == MAX_PLAINTEXT  # too big for any array, exactly a plaintext
    server.send_batch([encode(_event(1)), huge, encode(_event(3))])
    transfer(server, client)
    contents = [event.message.content for event in client.events_received()]  # type: ignore[union-attr]
    assert contents == ["hello", "y" * (MAX_PLAINTEXT - overhead), "hello"]


def test_one_bad_element_is_one_rejection_and_the_others_arrive() -> None:
    client, server = open_pair()
    server.send_encoded(b'[{"type":"DANCE"},' + encode(_event(1)) + b"]")
    transfer(server, client)
    assert client.events_received() == [
        MessageRejected(Rejection(ErrorCode.UNKNOWN_TYPE, "unknown type 'DANCE'")),
        MessageReceived(_event(1)),
    ]


@pytest.mark.parametrize("plaintext", [b"[", b"[]", b"[1,", b'["x"'])
def test_a_broken_batch_is_a_rejection_not_a_failure(plaintext: bytes) -> None:
    results = decode_event_batch(plaintext)
    assert len(results) == 1 and isinstance(results[0], Rejection)
    client, server = open_pair()
    server.send_encoded(plaintext)
    transfer(server, client)
    assert isinstance(client.events_received()[0], MessageRejected)


def test_the_node_still_refuses_an_array_from_a_client() -> None:
    """§14.2: client-to-node messages do not change; an array stays INVALID."""
    client, server = open_pair()
    client.send_encoded(b"[" + encode(SendMsg(dest_type="channel", dest="#a", content="x")) + b"]")
    transfer(client, server)
    (event,) = server.events_received()
    assert isinstance(event, MessageRejected)
    assert event.rejection.code is ErrorCode.INVALID


_contents = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=4000)


@settings(max_examples=60, deadline=None)
@given(st.lists(_contents, min_size=1, max_size=40))
def test_a_batched_stream_decodes_to_the_same_events_as_the_unbatched_one(
    contents: list[str],
) -> None:
    events = [_event(n, content) for n, content in enumerate(contents)]
    plaintexts = [encode(event) for event in events]

    batched_client, batched_server = open_pair()
    batched_server.send_batch(plaintexts)
    transfer(batched_server, batched_client)

    plain_client, plain_server = open_pair(framed=False)
    for plaintext in plaintexts:
        plain_server.send_encoded(plaintext)
    transfer(plain_server, plain_client)

    assert batched_client.events_received() == plain_client.events_received()
