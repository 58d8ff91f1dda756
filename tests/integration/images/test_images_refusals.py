"""Every refusal of §4 through a real node: the code, the transfer, and the session lives on."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import image_samples as samples
import msgspec
import pytest
from image_chunks import chunks_of
from image_node import ImageNode, Room, unique, user_session

from aronanet.client import ArtpClient
from aronanet.client.link import NodeError
from aronanet.client.transfers import upload_image
from aronanet.errors import ClientError
from aronanet.proto.messages import Error, ImgChunk, ImgGet, MsgEvent

CHUNK = 32768


def image_chunks(data: bytes, room: Room, **overrides: object) -> list[ImgChunk]:
    return chunks_of(
        data,
        transfer=unique("t"),
        chunk_size=CHUNK,
        dest=room.channel,
        **overrides,  # type: ignore[arg-type]
    )


async def refused(client: ArtpClient, chunks: list[ImgChunk]) -> NodeError:
    """Send an upload chunk by chunk, the last as a request; return the node's ERROR."""
    for chunk in chunks[:-1]:
        await client.send_nowait(chunk)
    with pytest.raises(NodeError) as caught:
        await client.request(chunks[-1])
    return caught.value


async def assert_still_serving(client: ArtpClient) -> None:
    """§4: "the session stays open"."""
    assert await client.ping() >= 0


async def test_a_wrong_sha256_is_refused_as_image_invalid(room: Room) -> None:
    data = samples.png(200, 200)
    chunks = image_chunks(data, room, sha256=hashlib.sha256(b"other").hexdigest())
    error = await refused(room.sender, chunks)
    assert error.code == "IMAGE_INVALID" and "SHA-256" in error.message
    assert error.reply.transfer == chunks[0].transfer
    await assert_still_serving(room.sender)


async def test_bytes_that_are_not_an_image_are_refused(room: Room) -> None:
    error = await refused(room.sender, image_chunks(samples.not_an_image(), room))
    assert error.code == "IMAGE_INVALID"
    await assert_still_serving(room.sender)


async def test_a_truncated_image_is_refused(room: Room) -> None:
    error = await refused(room.sender, image_chunks(samples.truncated(samples.png(200, 200)), room))
    assert error.code == "IMAGE_INVALID"


async def test_a_decompression_bomb_is_refused_as_too_large(room: Room) -> None:
    bomb = samples.png_bomb(7000, 7000)  # 49 million pixels, above the default 40 million
    error = await refused(room.sender, image_chunks(bomb, room))
    assert error.code == "TOO_LARGE" and "7000x7000" in error.message
    await assert_still_serving(room.sender)


async def test_a_declared_size_above_max_image_is_refused_at_chunk_zero(room: Room) -> None:
    max_image = room.sender.hello.limits.max_image
    first = image_chunks(b"x" * 100, room, size=max_image + 1)[0]
    first = msgspec.structs.replace(first, total=max_image // CHUNK + 1)
    error = await refused(room.sender, [first])
    assert error.code == "TOO_LARGE" and str(max_image) in error.message
    assert error.reply.transfer == first.transfer


async def test_a_chunk_out_of_order_is_refused(room: Room) -> None:
    chunks = image_chunks(samples.png(200, 200), room)
    error = await refused(room.sender, [chunks[0], chunks[2]])
    assert error.code == "IMAGE_INVALID" and "expected 1" in error.message
    await assert_still_serving(room.sender)


async def events_until_marker(client: ArtpClient, marker: str) -> list[object]:
    """Every event queued for ``client`` before the channel message ``marker`` arrives."""
    seen: list[object] = []

    async def collect() -> list[object]:
        async for event in client.events():
            if isinstance(event, MsgEvent) and event.content == marker:
                return seen
            seen.append(event)
        raise AssertionError("the connection closed before the marker")

    return await asyncio.wait_for(collect(), timeout=10)


async def test_only_the_first_failing_chunk_and_the_awaited_last_are_answered(
    room: Room,
) -> None:
    chunks = image_chunks(samples.png(300, 300), room)
    assert len(chunks) >= 6
    error = await refused(room.sender, [chunks[0], chunks[2], *chunks[3:]])
    assert error.code == "IMAGE_INVALID"
    await room.reader.send_message("channel", room.channel, "marker")
    errors = [e for e in await events_until_marker(room.sender, "marker") if isinstance(e, Error)]
    # §3: "a reply only to the last chunk, or to the first that fails": one unsolicited
    # ERROR (chunk 2 had no id), nothing for chunks 3.., and the awaited last one's above.
    assert [(e.code, e.transfer) for e in errors] == [("IMAGE_INVALID", chunks[0].transfer)]


async def test_a_non_member_cannot_upload_to_a_channel(room: Room) -> None:
    chunks = image_chunks(samples.png(50, 50), room)
    error = await refused(room.outsider, chunks[:1])
    assert error.code == "NOT_IN_CHANNEL"


async def test_a_non_member_gets_not_found_exactly_as_for_a_missing_image(
    room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "private.png"
    path.write_bytes(samples.png(64, 64, seed=7))
    ok = await upload_image(room.sender, path, "channel", room.channel)
    assert isinstance(ok.image, str)
    missing = "f" * 64
    errors = []
    for image in (ok.image, missing):
        with pytest.raises(ClientError) as caught:
            async for _ in room.outsider.stream(ImgGet(image=image)):
                pass
        errors.append(caught.value)
    assert [e.code for e in errors] == ["NOT_FOUND", "NOT_FOUND"]
    assert errors[0].message.replace(ok.image, missing) == errors[1].message
    await assert_still_serving(room.outsider)


async def test_the_upload_quota_is_enforced(tmp_path: Path) -> None:
    data = samples.png(200, 200)
    node = ImageNode(
        tmp_path / "quota-node", limits={"upload_quota_bytes": len(data) + 1000}
    ).start()
    try:
        client = await user_session(node.tcp_address, "quota_user")
        await client.join("#quota")
        first, second = tmp_path / "a.png", tmp_path / "b.png"
        first.write_bytes(data)
        second.write_bytes(samples.png(200, 200, seed=2))
        await upload_image(client, first, "channel", "#quota")
        with pytest.raises(ClientError) as caught:
            await upload_image(client, second, "channel", "#quota")
        assert caught.value.code == "TOO_LARGE" and "quota" in caught.value.message
        await client.close()
    finally:
        node.stop()


async def test_a_muted_member_cannot_post_an_image(room: Room) -> None:
    """§14.18: a mute covers image messages too (the channel's creator owns it)."""
    assert (await room.sender.channel_info(room.channel)).role == "owner"
    await room.sender.mute(room.channel, room.reader.user or "", 600, "cool down")
    error = await refused(room.reader, image_chunks(samples.png(20, 20), room))
    assert error.code == "MUTED"
    assert error.reply.transfer is not msgspec.UNSET
    await room.sender.mute(room.channel, room.reader.user or "", 0)
    await assert_still_serving(room.reader)
