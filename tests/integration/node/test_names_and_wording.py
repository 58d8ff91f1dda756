"""What a real node accepts as a name, and how it words a refusal (issues 9 and 10)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
import zlib

from aronanet.config import HISTORY_LIMIT_MAX
from aronanet.errors import ErrorCode
from aronanet.proto.messages import Error, History, Join, ListChannels, Ok

#: Every control character (Unicode category Cc): C0, DEL and C1.
CONTROL_CHARACTERS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]


async def _raw_reply(client, request: dict) -> Error | Ok:
    """Send ``request`` as literal JSON (what a hostile client can type) and await its reply."""
    request_id = client.next_id()
    reply = client.expect_reply(request_id)
    await client.send_plaintext(json.dumps({**request, "id": request_id}).encode())
    return await asyncio.wait_for(reply, 5)


async def test_no_name_with_a_control_character_registers_or_joins(node, connect, bystanders):
    """Issue 9 item 7, exhaustively over the control characters and three positions each."""
    client = await connect(node)
    await client.login("ctl")
    for control in CONTROL_CHARACTERS:
        for name in (f"{control}ctl", f"ctl{control}x", f"ctl{control}"):
            auth = {"type": "AUTH", "user": name, "password": "long enough", "register": True}
            reply = await _raw_reply(client, auth)
            assert isinstance(reply, Error) and reply.code == ErrorCode.INVALID, (name, reply)
        for channel in (f"#{control}ops", f"#ops{control}x", f"#ops{control}"):
            reply = await _raw_reply(client, {"type": "JOIN", "channel": channel})
            assert isinstance(reply, Error) and reply.code == ErrorCode.INVALID, (channel, reply)
    listing = await client.ok(ListChannels())
    assert isinstance(listing.channel_list, list)
    assert all(info.name.isprintable() for info in listing.channel_list)
    await bystanders.still_talk()


async def test_a_trailing_newline_is_no_second_account(node, connect):
    first, second = await connect(node), await connect(node)
    await first.login("aronabc67")
    auth = {"type": "AUTH", "user": "aronabc67\n", "password": "long enough", "register": True}
    reply = await _raw_reply(second, auth)
    assert isinstance(reply, Error) and reply.code == ErrorCode.INVALID


async def test_a_lone_surrogate_gets_invalid_with_the_requests_re(node, connect, bystanders):
    """Issue 9 item 8: the client can match the refusal to its request."""
    client = await connect(node)
    await client.login("surrogate")
    reply = client.expect_reply("s1")
    await client.send_plaintext(b'{"type":"JOIN","channel":"#a\\ud800","id":"s1"}')
    error = await asyncio.wait_for(reply, 5)
    assert isinstance(error, Error) and error.code == ErrorCode.INVALID
    await bystanders.still_talk()


async def test_an_uppercase_channel_is_refused_in_words(node, connect):
    """Issue 10: ``#Ops`` is told the rule, not a regular expression."""
    client = await connect(node)
    await client.login("wording")
    reply = await _raw_reply(client, {"type": "JOIN", "channel": "#Ops"})
    assert isinstance(reply, Error)
    assert reply.message == (
        "invalid channel: channel names are # followed by 1-32 lowercase letters, digits, _ or -"
    )
    short = await _raw_reply(client, {"type": "AUTH", "user": "x", "password": "short"})
    assert isinstance(short, Error)
    assert short.message == "invalid password: passwords are 8-1024 characters"


async def test_hello_advertises_a_max_history_a_client_may_ask_for(node, connect):
    """§3: HELLO's ``max_history`` is a ``limit`` the node accepts, and answers in full."""
    client = await connect(node)
    assert client.hello is not None
    advertised = client.hello.limits.max_history
    assert advertised == HISTORY_LIMIT_MAX
    await client.login("historian")
    reply = await client.request(History(dest_type="user", dest="historian", limit=advertised))
    assert isinstance(reply, Ok)
    over = {"type": "HISTORY", "dest_type": "user", "dest": "historian", "limit": advertised + 1}
    refused = await _raw_reply(client, over)
    assert isinstance(refused, Error) and refused.code == ErrorCode.INVALID


def _tiny_png() -> bytes:
    """A valid 1x1 PNG, so that an upload fails only for the reason a test gives it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


async def test_an_upload_with_a_control_character_in_dest_or_name_fails_naming_its_transfer(
    node, connect
):
    """§10: the image layer refuses it before any byte is stored, with ``transfer``."""
    client = await connect(node)
    await client.login("uploader")
    await client.ok(Join(channel="#pics"))
    image = _tiny_png()
    chunk = {"type": "IMG_CHUNK", "index": 0, "total": 1, "mime": "image/png", "name": "a.png"}
    chunk |= {"data": base64.b64encode(image).decode(), "size": len(image)}
    chunk |= {"sha256": hashlib.sha256(image).hexdigest(), "dest_type": "channel", "dest": "#pics"}
    assert isinstance(await _raw_reply(client, {**chunk, "transfer": "clean"}), Ok)
    for number, bad in enumerate(
        [{"dest": "#pics\n"}, {"dest_type": "user", "dest": "uploader\t"}, {"name": "a\x1b[2J.png"}]
    ):
        reply = await _raw_reply(client, {**chunk, **bad, "transfer": f"t{number}"})
        assert isinstance(reply, Error), bad
        assert reply.code in (ErrorCode.INVALID, ErrorCode.IMAGE_INVALID), (bad, reply)
        assert reply.transfer == f"t{number}", (bad, reply)
