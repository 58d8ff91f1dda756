"""JSON <-> messages: valid input decodes, every bad input becomes the right Rejection."""

from __future__ import annotations

import json

import pytest

from aronanet.errors import ErrorCode
from aronanet.proto.codec import Rejection, decode_event, decode_request, encode
from aronanet.proto.messages import (
    Attachment,
    Auth,
    Error,
    Hello,
    History,
    ImgGet,
    MsgEvent,
    Ok,
    Ping,
    PingEvent,
    Pong,
    SendMsg,
)

#: ArTP-1.0 §3's example MSG event, as every channel member receives it.
CONTRACT_MSG_EVENT = (
    b'{"version": "1.0", "type": "MSG", "id": "m1", "from": "sensei", "dest_type": "channel",'
    b' "dest": "#general", "content": "Hello Arona!", "timestamp": 1234567890}'
)


def test_encode_writes_compact_json_with_the_type_tag_and_without_unset_fields() -> None:
    encoded = encode(Ping(id="p1"))
    assert json.loads(encoded) == {"version": "1.0", "type": "PING", "id": "p1"}
    assert b" " not in encoded


def test_encode_spells_from_as_from() -> None:
    event = MsgEvent(
        id="m1", from_="sensei", dest_type="user", dest="arona", content="hi", timestamp=1
    )
    assert json.loads(encode(event))["from"] == "sensei"


def test_decode_event_reads_the_contract_example() -> None:
    event = decode_event(CONTRACT_MSG_EVENT)
    assert event == MsgEvent(
        id="m1",
        from_="sensei",
        dest_type="channel",
        dest="#general",
        content="Hello Arona!",
        timestamp=1234567890,
    )


def test_decode_request_reads_a_message_request() -> None:
    data = b'{"version":"1.0","type":"MSG","dest_type":"channel","dest":"#general","content":"hi"}'
    assert decode_request(data) == SendMsg(dest_type="channel", dest="#general", content="hi")


def test_decode_request_accepts_a_missing_version() -> None:
    assert decode_request(b'{"type":"PING","id":"a"}') == Ping(id="a")


def test_decode_request_ignores_unknown_fields() -> None:
    assert decode_request(b'{"type":"PING","id":"a","future":{"x":[1,2]}}') == Ping(id="a")


def test_decode_request_fills_defaults() -> None:
    request = decode_request(b'{"type":"HISTORY","dest_type":"user","dest":"arona"}')
    assert isinstance(request, History)
    assert request.limit == 50


def test_decode_request_reads_the_pong_and_img_get_extensions() -> None:
    assert decode_request(b'{"type":"PONG","re":"s1"}') == Pong(re="s1")
    image = "a" * 64
    request = decode_request(b'{"type":"IMG_GET","image":"' + image.encode() + b'","start":3}')
    assert request == ImgGet(image=image, start=3)


def test_round_trips_of_events_are_lossless() -> None:
    attachment = Attachment(
        image="b" * 64, name="a.png", mime="image/png", size=9, width=1, height=1
    )
    for event in [
        Hello(node="n"),
        Ok(re="r", msg_id="m", timestamp=5),
        Error(code="RATE_LIMITED", message="slow down", retry_after_ms=250),
        PingEvent(id="k"),
        MsgEvent(
            id="m",
            from_="a",
            dest_type="channel",
            dest="#c",
            content="",
            timestamp=1,
            attachment=attachment,
        ),
    ]:
        assert decode_event(encode(event)) == event


def test_round_trip_of_a_request_is_lossless() -> None:
    request = Auth(user="sensei", password="correct horse", register=True, id="a1")
    assert decode_request(encode(request)) == request


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe{}", Rejection(ErrorCode.INVALID, "not valid UTF-8 at byte 0")),
        (
            b'{"type":"PING","id":"\xc3"}',
            Rejection(ErrorCode.INVALID, "not valid UTF-8 at byte 21"),
        ),
        (b"not json", Rejection(ErrorCode.INVALID, "not valid JSON (or nested too deeply)")),
        (b"", Rejection(ErrorCode.INVALID, "not valid JSON (or nested too deeply)")),
        (b'{"type":"PING"', Rejection(ErrorCode.INVALID, "not valid JSON (or nested too deeply)")),
        (b"[1, 2]", Rejection(ErrorCode.INVALID, "expected a JSON object, not an array")),
        (b'"PING"', Rejection(ErrorCode.INVALID, "expected a JSON object, not a string")),
        (b"42", Rejection(ErrorCode.INVALID, "expected a JSON object, not a number")),
        (b"true", Rejection(ErrorCode.INVALID, "expected a JSON object, not a boolean")),
        (b"null", Rejection(ErrorCode.INVALID, "expected a JSON object, not null")),
    ],
)
def test_decode_request_rejects_what_is_not_a_json_object(data: bytes, expected: Rejection) -> None:
    assert decode_request(data) == expected


def test_decode_request_rejects_a_byte_order_mark() -> None:
    rejection = decode_request(b'\xef\xbb\xbf{"type":"PING"}')
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.INVALID


def test_decode_request_rejects_deep_nesting_without_raising() -> None:
    rejection = decode_request(b"[" * 60000 + b"]" * 60000)
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.INVALID


def test_decode_request_answers_unknown_type_with_the_id() -> None:
    assert decode_request(b'{"type":"DANCE","id":"d1"}') == Rejection(
        ErrorCode.UNKNOWN_TYPE, "unknown type 'DANCE'", "d1"
    )


def test_decode_request_treats_a_server_only_type_as_unknown() -> None:
    rejection = decode_request(b'{"type":"HELLO","node":"n"}')
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.UNKNOWN_TYPE


@pytest.mark.parametrize(
    "data",
    [b'{"id":"x1"}', b'{"type":7,"id":"x1"}', b'{"type":null,"id":"x1"}'],
    ids=["missing", "number", "null"],
)
def test_decode_request_answers_a_missing_or_odd_type_invalid_with_the_id(data: bytes) -> None:
    assert decode_request(data) == Rejection(
        ErrorCode.INVALID, "missing or non-string `type`", "x1"
    )


CHANNEL_WORDS = "channel names are # followed by 1-32 lowercase letters, digits, _ or -"
USER_WORDS = "user names are 1-32 letters, digits, _ or -"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"type":"JOIN","id":"r1"}', f"missing channel: {CHANNEL_WORDS}"),
        (b'{"type":"JOIN","channel":"general","id":"r1"}', f"invalid channel: {CHANNEL_WORDS}"),
        (b'{"type":"JOIN","channel":"#Ops","id":"r1"}', f"invalid channel: {CHANNEL_WORDS}"),
        (
            b'{"type":"HISTORY","dest_type":"user","dest":"a","limit":201,"id":"r1"}',
            "invalid limit: limit is a whole number from 1 to 200",
        ),
        (
            b'{"type":"AUTH","user":"sensei","password":"short","id":"r1"}',
            "invalid password: passwords are 8-1024 characters",
        ),
        (
            b'{"type":"AUTH","user":"a b","password":"long enough","id":"r1"}',
            f"invalid user: {USER_WORDS}",
        ),
        (
            b'{"type":"MSG","dest_type":"room","dest":"#a","content":"x","id":"r1"}',
            'invalid dest_type: dest_type is "channel" or "user"',
        ),
        (
            b'{"type":"MSG","dest_type":"user","dest":"#a","content":"x","id":"r1"}',
            f"invalid dest: {USER_WORDS}",
        ),
        (
            b'{"type":"MSG","dest_type":"channel","dest":"#A","content":"x","id":"r1"}',
            f"invalid dest: {CHANNEL_WORDS}",
        ),
        (
            b'{"type":"MSG","dest_type":"user","dest":"bob","content":"","id":"r1"}',
            "invalid content: content is text of at least 1 character",
        ),
        (b'{"type":"PING","version":"2.0","id":"r1"}', 'invalid version: version is "1.0"'),
        (
            b'{"type":"HISTORY","dest_type":"user","dest":"a","before":"1","after":"2","id":"r1"}',
            "HISTORY takes `before` or `after`, not both",
        ),
    ],
)
def test_decode_request_answers_wrong_fields_invalid_in_words_with_the_id(
    data: bytes, words: str
) -> None:
    """Issue 10: a person reads these; no regex or msgspec jargon reaches them."""
    assert decode_request(data) == Rejection(ErrorCode.INVALID, words, "r1")


def test_a_rejection_never_repeats_the_password_it_refused() -> None:
    rejection = decode_request(b'{"type":"AUTH","user":"a","password":"hunter2","id":"r1"}')
    assert isinstance(rejection, Rejection)
    assert "hunter2" not in rejection.message


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"PING","id":"r1","x":"\\ud800"}',
        b'{"type":"JOIN","channel":"#a\\udc00","id":"r1"}',
        b'{"type":"MSG","dest_type":"user","dest":"bob","content":"\\ud83d","id":"r1"}',
    ],
    ids=["unknown-field", "channel", "content"],
)
def test_a_lone_surrogate_is_invalid_and_the_reply_keeps_the_id(data: bytes) -> None:
    """Issue 9 item 8: JSON allows the escape, Unicode does not; the client still gets ``re``."""
    rejection = decode_request(data)
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.INVALID
    assert rejection.re == "r1"
    assert "lone surrogate" in rejection.message


def test_a_lone_surrogate_in_the_id_itself_is_not_echoed() -> None:
    rejection = decode_request(b'{"type":"PING","id":"\\ud800"}')
    assert isinstance(rejection, Rejection)
    assert (rejection.code, rejection.re) == (ErrorCode.INVALID, None)
    encode(Error(code=rejection.code, message=rejection.message))  # the reply is encodable


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"JOIN","id":""}',
        b'{"type":"JOIN","id":"' + b"x" * 65 + b'"}',
        b'{"type":"JOIN","id":12}',
    ],
    ids=["empty", "too-long", "number"],
)
def test_decode_request_does_not_echo_an_id_the_contract_forbids(data: bytes) -> None:
    rejection = decode_request(data)
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.INVALID
    assert rejection.re is None


def test_decode_event_rejects_a_client_only_type_as_unknown() -> None:
    rejection = decode_event(b'{"type":"AUTH","user":"a","password":"12345678"}')
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.UNKNOWN_TYPE


def test_decode_event_rejects_an_event_with_wrong_fields() -> None:
    rejection = decode_event(b'{"type":"MSG","id":"m1","from":"a"}')
    assert isinstance(rejection, Rejection)
    assert rejection.code is ErrorCode.INVALID
