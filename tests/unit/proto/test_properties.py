"""Property tests: whatever bytes a peer sends, only documented outcomes come out."""

from __future__ import annotations

import itertools
from typing import Any, get_args

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aronanet.errors import ErrorCode, FrameError
from aronanet.proto import messages
from aronanet.proto.codec import Rejection, decode_event, decode_request, encode
from aronanet.proto.connection import (
    Connection,
    ConnectionFailed,
    HandshakeComplete,
    MessageReceived,
    MessageRejected,
    State,
)
from aronanet.proto.framing import FrameDecoder, encode_frame

from .connection_pair import make_pair, open_pair

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["id", "re", "user", "password", "channel", "dest", "dest_type", "content", "limit",
     "transfer", "index", "total", "data", "image", "from", "timestamp", "node", "version"]
)  # fmt: skip
message_types = st.sampled_from(
    sorted(messages.REQUEST_TYPES | messages.EVENT_TYPES | {"NOPE", ""})
)
message_like_objects = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    message_types,
    st.dictionaries(field_names, json_values, max_size=6),
)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


@PROPERTY_SETTINGS
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=8))
def test_frame_decoder_only_returns_frames_or_raises_frame_error(
    data: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder(max_frame=64)
    frames: list[bytes] = []
    try:
        for piece in _split(data, cuts):
            frames.extend(decoder.feed(piece))
    except FrameError:
        return
    assert all(1 <= len(frame) <= 64 for frame in frames)
    consumed = sum(4 + len(frame) for frame in frames)
    assert data[:consumed] == b"".join(encode_frame(frame) for frame in frames)
    assert decoder.buffered == len(data) - consumed


@PROPERTY_SETTINGS
@given(st.lists(st.binary(min_size=1, max_size=200), max_size=6), st.lists(st.integers(0)))
def test_frame_decoder_returns_exactly_the_frames_sent_however_split(
    bodies: list[bytes], cuts: list[int]
) -> None:
    decoder = FrameDecoder()
    stream = b"".join(encode_frame(body) for body in bodies)
    received: list[bytes] = []
    for piece in _split(stream, cuts):
        received.extend(decoder.feed(piece))
    assert received == bodies


def _assert_documented(result: Any, message_classes: tuple[type, ...]) -> None:
    if isinstance(result, Rejection):
        assert result.code in (ErrorCode.INVALID, ErrorCode.UNKNOWN_TYPE)
        assert result.re is None or 1 <= len(result.re) <= 64
    else:
        assert isinstance(result, message_classes)


REQUEST_CLASSES = get_args(messages.Request)
EVENT_CLASSES = get_args(messages.Event)


@PROPERTY_SETTINGS
@given(st.binary(max_size=400))
def test_decoders_turn_any_bytes_into_a_message_or_a_rejection(data: bytes) -> None:
    _assert_documented(decode_request(data), REQUEST_CLASSES)
    _assert_documented(decode_event(data), EVENT_CLASSES)


@PROPERTY_SETTINGS
@given(message_like_objects)
def test_decoders_turn_any_message_like_object_into_a_message_or_a_rejection(
    value: dict[str, Any],
) -> None:
    data = msgspec.json.encode(value)
    request = decode_request(data)
    _assert_documented(request, REQUEST_CLASSES)
    _assert_documented(decode_event(data), EVENT_CLASSES)
    if not isinstance(request, Rejection):
        assert decode_request(encode(request)) == request


DOCUMENTED_EVENTS = (HandshakeComplete, MessageReceived, MessageRejected, ConnectionFailed)


def _assert_only_documented_events(connection: Connection) -> None:
    events = connection.events_received()
    assert all(isinstance(event, DOCUMENTED_EVENTS) for event in events)
    failures = [event for event in events if isinstance(event, ConnectionFailed)]
    assert len(failures) <= 1
    assert (connection.state is State.FAILED) == bool(failures)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300), st.lists(st.integers(0), max_size=6))
def test_any_bytes_before_the_handshake_only_give_documented_events(
    data: bytes, cuts: list[int]
) -> None:
    for connection in make_pair():
        connection.data_to_send()
        for piece in _split(data, cuts):
            connection.receive_data(piece)
        _assert_only_documented_events(connection)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300), st.lists(st.integers(0), max_size=6))
def test_any_bytes_after_the_handshake_only_give_documented_events(
    data: bytes, cuts: list[int]
) -> None:
    for connection in open_pair():
        for piece in _split(data, cuts):
            connection.receive_data(piece)
        _assert_only_documented_events(connection)


@PROPERTY_SETTINGS
@given(st.lists(st.binary(max_size=200), max_size=4))
def test_any_websocket_messages_in_either_role_only_give_documented_events(
    units: list[bytes],
) -> None:
    for connection in (*make_pair(framed=False), *open_pair(framed=False)):
        for unit in units:
            connection.receive_message(unit)
        _assert_only_documented_events(connection)


@PROPERTY_SETTINGS
@given(st.binary(max_size=500) | message_like_objects.map(msgspec.json.encode))
def test_any_authenticated_plaintext_keeps_the_connection_open(plaintext: bytes) -> None:
    client, server = open_pair()
    client.send_encoded(plaintext)
    server.send_encoded(plaintext)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    for connection in (client, server):
        events = connection.events_received()
        assert len(events) == 1
        assert isinstance(events[0], MessageReceived | MessageRejected)
        assert connection.state is State.OPEN
