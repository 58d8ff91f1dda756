"""A download streams beside the session's other requests (§3, §4), through a real node.

The first chunks of an ``IMG_GET`` are its replies in order; the rest stream from a task of
their own, so a ``PING`` or ``MSG`` sent after the ``IMG_GET`` is answered before the
download ends, each reply telling itself apart by ``re`` (or, without an id, by its type).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import image_samples as samples
from image_node import Room, next_image_message

from aronanet.client import ArtpClient
from aronanet.client.transfers import download_image, upload_image
from aronanet.proto.messages import (
    Attachment,
    ImgData,
    ImgGet,
    MsgEvent,
    Ok,
    Ping,
    PongReply,
    SendMsg,
)

CHUNK = 32768


async def shared_image(room: Room, tmp_path: Path, size: int, seed: int) -> Attachment:
    """Upload a noise PNG of about ``size`` bytes; the reader's view of its attachment."""
    path = tmp_path / f"stream{seed}.png"
    path.write_bytes(samples.png_of_size(size, seed=seed))
    await upload_image(room.sender, path, "channel", room.channel)
    event = await next_image_message(room.reader)
    assert isinstance(event.attachment, Attachment)
    return event.attachment


async def unsolicited_until_last_chunk(client: ArtpClient, total: int) -> list[object]:
    """Every message without ``re`` up to the download's last chunk, in arrival order."""
    seen: list[object] = []

    async def collect() -> list[object]:
        async for event in client.events():
            seen.append(event)
            if isinstance(event, ImgData) and event.index == total - 1:
                return seen
        raise AssertionError("the connection closed before the last chunk")

    return await asyncio.wait_for(collect(), timeout=30)


async def next_message(client: ArtpClient) -> MsgEvent:
    """The next ``MSG`` event (``JOIN`` events of the room's set-up are skipped)."""

    async def wait() -> MsgEvent:
        async for event in client.events():
            if isinstance(event, MsgEvent):
                return event
        raise AssertionError("the connection closed before a message arrived")

    return await asyncio.wait_for(wait(), timeout=10)


async def test_a_ping_sent_after_a_download_is_answered_before_the_download_ends(
    room: Room, tmp_path: Path
) -> None:
    attachment = await shared_image(room, tmp_path, 3 * 1024 * 1024, seed=21)
    total = -(-attachment.size // CHUNK)
    # Without ids, chunks and PONG all come as unsolicited messages, in wire order.
    await room.reader.send_nowait(ImgGet(image=attachment.image))
    await room.reader.send_nowait(Ping())

    arrived = await unsolicited_until_last_chunk(room.reader, total)

    chunks = [event.index for event in arrived if isinstance(event, ImgData)]
    pong_at = next(i for i, event in enumerate(arrived) if isinstance(event, PongReply))
    assert chunks == list(range(total))
    assert 0 < pong_at < len(arrived) - 1  # after the first chunk, before the last
    assert isinstance(arrived[0], ImgData) and arrived[0].index == 0


async def test_a_message_sent_during_a_download_on_the_same_session_is_stored_and_routed(
    room: Room, tmp_path: Path
) -> None:
    attachment = await shared_image(room, tmp_path, 2 * 1024 * 1024, seed=22)
    total = -(-attachment.size // CHUNK)
    assert room.reader.user is not None
    await room.reader.send_nowait(ImgGet(image=attachment.image))
    await room.reader.send_nowait(SendMsg(dest_type="channel", dest=room.channel, content="mid"))

    arrived = await unsolicited_until_last_chunk(room.reader, total)
    while not any(isinstance(event, Ok) for event in arrived):  # the OK may follow the stream
        arrived.append(await asyncio.wait_for(anext(room.reader.events()), timeout=10))

    [ok] = [event for event in arrived if isinstance(event, Ok)]
    assert arrived.index(ok) > 0  # the stream started first: its IMG_GET came first
    data = b"".join(base64.b64decode(e.data) for e in arrived if isinstance(e, ImgData))
    assert len(data) == attachment.size
    event = await next_message(room.sender)
    assert (event.id, event.content, event.from_) == (ok.msg_id, "mid", room.reader.user)


async def test_more_downloads_than_the_session_may_stream_at_once_all_complete(
    room: Room, tmp_path: Path
) -> None:
    attachment = await shared_image(room, tmp_path, 600 * 1024, seed=23)
    source = tmp_path / "stream23.png"
    caches = [tmp_path / f"cache{number}" for number in range(7)]  # the node streams 4 at once

    paths = await asyncio.gather(
        *(download_image(room.reader, attachment, cache) for cache in caches)
    )

    assert all(path.read_bytes() == source.read_bytes() for path in paths)
    assert await room.reader.ping() >= 0
