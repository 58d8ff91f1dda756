"""Bad input of every kind, while a bystander session keeps working (ArTP §1-§3).

§3: "The server never crashes, never leaks a stack trace to a client, and keeps serving
every other session whatever one client sends."
"""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest

from aronanet.config import Limits
from aronanet.errors import ErrorCode
from aronanet.proto.messages import (
    Auth,
    Error,
    History,
    Join,
    ListChannels,
    MsgEvent,
    Ping,
    PongReply,
    SendMsg,
)

from .conftest import seat_bystanders


async def test_node_closes_when_length_exceeds_max_frame(node, connect, bystanders):
    client = await connect(node, handshake=False)
    await client.pipe.write(struct.pack(">I", 65536))
    await client.wait_closed()
    assert client.hello is None
    await bystanders.still_talk()


async def test_node_closes_on_a_zero_length_frame(node, connect, bystanders):
    client = await connect(node)
    await client.pipe.write(struct.pack(">I", 0))
    await client.wait_closed()
    await bystanders.still_talk()


async def test_http_request_instead_of_handshake_is_closed_without_reply(node, connect, bystanders):
    client = await connect(node, handshake=False)
    await client.pipe.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await client.wait_closed()
    assert client.hello is None and client.events.empty()
    await bystanders.still_talk()


async def test_garbage_handshake_message_closes_with_nothing_in_clear(node, connect, bystanders):
    client = await connect(node, handshake=False)
    await client.pipe.write(struct.pack(">I", 20) + b"\x00" * 20)
    await client.wait_closed()
    assert client.hello is None
    await bystanders.still_talk()


async def test_handshake_and_requests_split_into_single_bytes_work(node, connect):
    client = await connect(node, handshake=False)
    first = client.conn.data_to_send()
    for byte in first:
        await client.pipe.write(bytes([byte]))
    await asyncio.wait_for(client._opened.wait(), 5)
    request_id = client.next_id()
    reply = client.expect_reply(request_id)
    client.conn.send(
        Auth(user="slowpoke", password="correct horse battery", register=True, id=request_id)
    )
    for byte in client.conn.data_to_send():
        await client.pipe.write(bytes([byte]))
    assert (await asyncio.wait_for(reply, 5)).user == "slowpoke"


async def test_several_frames_in_one_write_are_all_answered(node, connect):
    client = await connect(node)
    await client.login("batcher")
    futures = []
    for _ in range(5):
        request_id = client.next_id()
        futures.append(client.expect_reply(request_id))
        client.conn.send(History(dest_type="user", dest="batcher", id=request_id))
    await client.pipe.write(client.conn.data_to_send())
    replies = await asyncio.wait_for(asyncio.gather(*futures), 5)
    assert all(reply.messages == [] for reply in replies)


async def test_a_flipped_ciphertext_bit_closes_the_connection(node, connect, bystanders):
    client = await connect(node)
    await client.login("flipper")
    client.conn.send(History(dest_type="user", dest="flipper", id="x"))
    frame = bytearray(client.conn.data_to_send())
    frame[10] ^= 0x01
    await client.pipe.write(bytes(frame))
    await client.wait_closed()
    await bystanders.still_talk()


async def test_a_replayed_frame_closes_the_connection(node, connect, bystanders):
    client = await connect(node)
    client.conn.send(History(dest_type="user", dest="someone"))
    frame = client.conn.data_to_send()
    await client.pipe.write(frame + frame)
    await client.wait_closed()
    await bystanders.still_talk()


async def test_random_bytes_after_the_handshake_close_the_connection(node, connect, bystanders):
    client = await connect(node)
    await client.pipe.write(struct.pack(">I", 100) + bytes(range(100)))
    await client.wait_closed()
    await bystanders.still_talk()


async def test_non_json_gets_invalid_and_the_session_stays_open(node, connect, bystanders):
    client = await connect(node)
    for plaintext in (b"not json", b"\xff\xfe", b"[1,2]", b'"AUTH"', b"{}", b'{"type": 5}'):
        await client.send_plaintext(plaintext)
        error = await client.next_event()
        assert isinstance(error, Error) and error.code == ErrorCode.INVALID, plaintext
    assert isinstance(await client.request(History(dest_type="user", dest="x")), Error)
    await bystanders.still_talk()


async def test_wrong_fields_get_invalid_with_re(node, connect, bystanders):
    client = await connect(node)
    await client.login("fields")
    bad = [
        b'{"version":"1.0","type":"JOIN","channel":"general","id":"a1"}',
        b'{"version":"1.0","type":"HISTORY","dest_type":"channel","dest":"#x","limit":0,"id":"a2"}',
        b'{"version":"1.0","type":"HISTORY","dest_type":"channel","dest":"#x","limit":201,"id":"a3"}',
        b'{"version":"1.0","type":"MSG","dest_type":"channel","dest":"#x","id":"a4"}',
        b'{"version":"2.0","type":"JOIN","channel":"#x","id":"a5"}',
        b'{"version":"1.0","type":"MSG","dest_type":"room","dest":"#x","content":"hi","id":"a6"}',
    ]
    for number, plaintext in enumerate(bad, start=1):
        reply = client.expect_reply(f"a{number}")
        await client.send_plaintext(plaintext)
        error = await asyncio.wait_for(reply, 5)
        assert error.code == ErrorCode.INVALID, plaintext
    await bystanders.still_talk()


async def test_unknown_type_gets_unknown_type_and_unknown_fields_are_ignored(node, connect):
    client = await connect(node)
    reply = client.expect_reply("u1")
    await client.send_plaintext(b'{"version":"1.0","type":"TELEPORT","id":"u1"}')
    assert (await asyncio.wait_for(reply, 5)).code == ErrorCode.UNKNOWN_TYPE
    reply = client.expect_reply("u2")
    await client.send_plaintext(b'{"version":"1.0","type":"PING","id":"u2","mood":"happy"}')
    assert isinstance(await asyncio.wait_for(reply, 5), PongReply)


async def test_image_requests_are_refused_until_images_are_enabled(node, connect):
    client = await connect(node)
    await client.login("imager")
    reply = client.expect_reply("g1")
    await client.send_plaintext(
        b'{"version":"1.0","type":"IMG_GET","image":"' + b"0" * 64 + b'","id":"g1"}'
    )
    error = await asyncio.wait_for(reply, 5)
    assert error.code in (ErrorCode.INVALID, ErrorCode.NOT_FOUND)


async def test_content_over_the_limit_is_too_large_and_at_the_limit_is_fine(start_node, connect):
    node = await start_node(max_content=100, rate_limit_enabled=False)
    client = await connect(node)
    await client.login("writer")
    await client.ok(Join(channel="#edge"))
    await client.ok(SendMsg(dest_type="channel", dest="#edge", content="é" * 100))
    error = await client.error(SendMsg(dest_type="channel", dest="#edge", content="é" * 101))
    assert error.code == ErrorCode.TOO_LARGE and "101" in error.message


async def test_a_flood_of_requests_is_answered_in_order_while_others_talk(
    node, connect, bystanders
):
    flooder = await connect(node)
    await flooder.login("flooder")
    await flooder.ok(Join(channel="#flood"))
    ids = [flooder.next_id() for _ in range(500)]
    replies = [flooder.expect_reply(request_id) for request_id in ids]
    for request_id in ids:
        flooder.conn.send(
            SendMsg(dest_type="channel", dest="#flood", content="spam", id=request_id)
        )
    await flooder.pipe.write(flooder.conn.data_to_send())
    await bystanders.still_talk()
    answered = await asyncio.wait_for(asyncio.gather(*replies), 30)
    msg_ids = [int(ok.msg_id) for ok in answered]
    assert msg_ids == sorted(msg_ids) and len(set(msg_ids)) == 500


async def test_a_reader_that_stops_reading_is_dropped_not_waited_for(start_node, connect):
    count = 2500  # 10 MB: more than the kernel buffers can hide
    received = await flood_a_reader_that_stopped(
        start_node, connect, ws=False, count=count, max_outgoing_queue=16, max_frame=8192
    )
    assert received < count * 4000  # the node dropped it instead of buffering everything


async def flood_a_reader_that_stopped(
    start_node, connect, *, ws: bool, count: int = 2000, features=(), **limits
) -> int:
    """A reader on ``ws`` (or TCP), asking for ``features``, stops reading while ``count``
    messages of 4,000 characters go to its channel; returns what it gets once it reads
    again until closed."""
    node = await start_node(rate_limit_enabled=False, **limits)
    bystanders = await seat_bystanders(node, connect)
    slow = await connect(node, ws=ws, rcvbuf=4096, features=features)
    await slow.login("sloth")
    await slow.ok(Join(channel="#lobby"))
    slow.stop_reading()
    content = "z" * 4000
    for _ in range(count):
        bystanders.speaker.conn.send(SendMsg(dest_type="channel", dest="#lobby", content=content))
    await bystanders.speaker.pipe.write(bystanders.speaker.conn.data_to_send())
    for _ in range(count):
        assert (await bystanders.listener.next_event_of(MsgEvent)).content == content
    await bystanders.still_talk()
    return await asyncio.wait_for(read_until_closed(slow), 10)


async def test_a_websocket_reader_is_dropped_past_the_byte_bound(start_node, connect):
    # The message bound alone (100,000) would hold all 8 MB for the reader: bytes decide.
    bound = 512 * 1024
    received = await flood_a_reader_that_stopped(
        start_node, connect, ws=True, max_outgoing_queue=100_000, max_outgoing_bytes=bound
    )
    assert received < 2000 * 4000  # dropped, not every message kept for it


async def test_a_tcp_reader_is_dropped_past_the_byte_bound(start_node, connect):
    bound = 512 * 1024
    received = await flood_a_reader_that_stopped(
        start_node, connect, ws=False, max_outgoing_queue=100_000, max_outgoing_bytes=bound
    )
    assert received < 2000 * 4000  # the kernel's buffers hold a few MB; the node did not


def test_the_outgoing_byte_bound_holds_two_full_frames_at_least() -> None:
    assert Limits(max_frame=8192, max_outgoing_bytes=16384).max_outgoing_bytes == 16384
    with pytest.raises(ValueError, match="twice max_frame"):
        Limits(max_frame=8192, max_outgoing_bytes=16383)


def test_the_node_outgoing_budget_holds_one_session_full_at_least() -> None:
    limits = Limits(max_frame=8192, max_outgoing_bytes=65536, max_outgoing_bytes_per_node=65536)
    assert limits.max_outgoing_bytes_per_node == 65536
    with pytest.raises(ValueError, match="max_outgoing_bytes_per_node 65535 is below"):
        Limits(max_frame=8192, max_outgoing_bytes=65536, max_outgoing_bytes_per_node=65535)


async def read_until_closed(client) -> int:
    received = 0
    while data := await client.pipe.read():  # what was buffered before the node gave up
        received += len(data)
    return received


async def test_hundreds_of_idle_connections_do_not_stop_the_node(start_node, connect):
    node = await start_node(rate_limit_enabled=False, max_connections_per_address=1000)
    bystanders = await seat_bystanders(node, connect)
    idle = [await connect(node, handshake=False) for _ in range(300)]
    await bystanders.still_talk()
    assert node.session_count >= 300
    for client in idle[:10]:
        await client.close()


async def test_a_failing_handler_answers_internal_without_details_or_logged_content(
    node, connect, bystanders, caplog
):
    async def broken(ctx, request):
        raise RuntimeError("secret content that must not leak")

    node.handlers.register(ListChannels, broken)
    client = await connect(node)
    await client.login("unlucky")
    with caplog.at_level(logging.DEBUG, logger="aronanet"):
        error = await client.error(ListChannels())
    assert error.code == ErrorCode.INTERNAL and "secret" not in error.message
    assert "handler_failed" in caplog.text and "secret" not in caplog.text
    assert isinstance(await client.request(Ping()), PongReply)  # the session stays open
    await bystanders.still_talk()
