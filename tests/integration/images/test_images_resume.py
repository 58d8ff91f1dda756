"""Transfers interrupted by a dropped connection, resumed on a new one; abandoned ones expire."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import image_samples as samples
import pytest
from image_chunks import chunks_of
from image_node import ImageNode, Room, next_image_message, unique, user_session

from aronanet.client.transfers import download_image, upload_image
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment, ImgStatus

CHUNK = 32768


async def test_an_upload_cut_by_a_dropped_connection_resumes_from_the_chunks_held(
    room: Room, node: ImageNode, tmp_path: Path
) -> None:
    data = samples.png(400, 400, seed=11)
    path = tmp_path / "resumed.png"
    path.write_bytes(data)
    transfer = unique("resume")
    chunks = chunks_of(data, transfer=transfer, chunk_size=CHUNK, dest=room.channel)
    assert len(chunks) > 8
    user = room.sender.user
    assert user is not None
    for chunk in chunks[:5]:
        await room.sender.send_nowait(chunk)
    status = await room.sender.request(ImgStatus(transfer=transfer))
    assert status.received == [0, 1, 2, 3, 4]
    await room.sender.close()  # the connection drops mid-upload

    again = await user_session(node.tcp_address, user, register=False)
    try:
        progress: list[int] = []
        ok = await upload_image(
            again,
            path,
            "channel",
            room.channel,
            transfer_id=transfer,
            progress=lambda done, _total: progress.append(done),
        )
        assert progress[0] == 5 * CHUNK  # resumed: chunks 0-4 were not sent again
        assert ok.image == hashlib.sha256(data).hexdigest()
        event = await next_image_message(room.reader)
        assert event.id == ok.msg_id and isinstance(event.attachment, Attachment)
        fetched = await download_image(room.reader, event.attachment, tmp_path / "cache")
        assert fetched.read_bytes() == data
    finally:
        await again.close()


async def test_resuming_a_finished_upload_returns_its_ok_without_posting_twice(
    room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "once.png"
    path.write_bytes(samples.png(120, 90, seed=12))
    transfer = unique("once")
    first = await upload_image(room.sender, path, "channel", room.channel, transfer_id=transfer)
    second = await upload_image(room.sender, path, "channel", room.channel, transfer_id=transfer)
    assert second.msg_id == first.msg_id
    history = await room.reader.history("channel", room.channel)
    assert [m.id for m in history if isinstance(m.attachment, Attachment)] == [first.msg_id]


async def test_status_asked_while_the_upload_is_validated_waits_for_its_outcome(
    room: Room,
) -> None:
    # IMG_STATUS right behind the last chunk on the same session reaches the node while the
    # image is being validated and committed: it must answer with the outcome (msg_id), not
    # "nothing held", or a reconnecting client would upload and post the image twice.
    data = samples.png(300, 300, seed=14)
    transfer = unique("window")
    chunks = chunks_of(data, transfer=transfer, chunk_size=CHUNK, dest=room.channel)
    for chunk in chunks:
        await room.sender.send_nowait(chunk)
    status = await room.sender.request(ImgStatus(transfer=transfer))
    assert isinstance(status.msg_id, str)
    assert status.received == list(range(len(chunks)))
    history = await room.reader.history("channel", room.channel)
    assert [m.id for m in history if isinstance(m.attachment, Attachment)] == [status.msg_id]


async def test_a_download_cut_by_a_dropped_connection_resumes_where_it_stopped(
    room: Room, node: ImageNode, tmp_path: Path
) -> None:
    # Large enough (3.6 MB, 111 chunks) that the node cannot have sent it all by the time
    # the drop takes effect: it streams 8 chunks per write now.
    data = samples.png(1100, 1100, seed=13)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    await upload_image(room.sender, path, "channel", room.channel)
    event = await next_image_message(room.reader)
    attachment = event.attachment
    assert isinstance(attachment, Attachment)
    cache = tmp_path / "cache"

    def drop_after_three_chunks(done: int, _total: int) -> None:
        if done >= 3 * CHUNK and not room.reader.closed:
            asyncio.get_running_loop().create_task(room.reader.close())

    with pytest.raises(ClientError) as caught:
        await download_image(room.reader, attachment, cache, progress=drop_after_three_chunks)
    assert caught.value.code == "DISCONNECTED"

    assert room.reader.user is not None
    again = await user_session(node.ws_address, room.reader.user, register=False)
    try:
        progress: list[int] = []
        fetched = await download_image(
            again, attachment, cache, progress=lambda done, _total: progress.append(done)
        )
        assert progress[0] >= 3 * CHUNK  # resumed with IMG_GET start, not from 0
        assert fetched.read_bytes() == data
    finally:
        await again.close()


async def test_an_abandoned_upload_expires_and_its_spill_file_is_removed(tmp_path: Path) -> None:
    node = ImageNode(tmp_path / "expiry-node", limits={"transfer_timeout": 0.5}).start()
    try:
        client = await user_session(node.tcp_address, "leaver")
        await client.join("#expiry")
        chunks = chunks_of(samples.png(300, 300), transfer="gone", chunk_size=CHUNK, dest="#expiry")
        for chunk in chunks[:3]:
            await client.send_nowait(chunk)
        held = await client.request(ImgStatus(transfer="gone"))
        assert held.received == [0, 1, 2]
        assert len(list((node.images_dir / "tmp").iterdir())) == 1
        await client.close()

        client = await user_session(node.tcp_address, "leaver", register=False)
        for _ in range(100):  # the expiry sweep runs every transfer_timeout / 4
            status = await client.request(ImgStatus(transfer="gone"))
            if status.received == []:
                break
            await asyncio.sleep(0.05)
        assert status.received == []
        assert list((node.images_dir / "tmp").iterdir()) == []
        await client.close()
    finally:
        node.stop()
