"""Real uploads and downloads through a real node on loopback, byte for byte (§4)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import image_samples as samples
import pytest
from image_node import Room, next_image_message

from aronanet.client.transfers import download_image, upload_image
from aronanet.proto.messages import Attachment


@pytest.mark.parametrize(
    ("make", "mime", "suffix"),
    [
        (lambda: samples.png(400, 300), "image/png", ".png"),
        (lambda: samples.jpeg(900, 700), "image/jpeg", ".jpg"),
    ],
    ids=["png", "jpeg"],
)
async def test_a_multi_chunk_image_round_trips_byte_for_byte(
    room: Room, tmp_path: Path, make: Callable[[], bytes], mime: str, suffix: str
) -> None:
    data = make()
    assert len(data) > 3 * room.sender.hello.limits.chunk_size
    path = tmp_path / f"arona{suffix}"
    path.write_bytes(data)
    progress: list[tuple[int, int]] = []

    ok = await upload_image(
        room.sender,
        path,
        "channel",
        room.channel,
        content="look",
        progress=lambda d, t: progress.append((d, t)),
    )

    sha = hashlib.sha256(data).hexdigest()
    assert ok.image == sha and isinstance(ok.msg_id, str) and isinstance(ok.transfer, str)
    assert progress[-1] == (len(data), len(data))
    event = await next_image_message(room.reader)
    assert (event.id, event.content, event.from_) == (ok.msg_id, "look", room.sender.user)
    attachment = event.attachment
    assert isinstance(attachment, Attachment)
    assert (attachment.image, attachment.mime, attachment.size) == (sha, mime, len(data))
    assert attachment.name == path.name
    downloaded = await download_image(room.reader, attachment, tmp_path / "cache")
    assert downloaded.read_bytes() == data


async def test_the_image_message_is_in_history_with_its_attachment(
    room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "pic.gif"
    path.write_bytes(samples.gif(48, 32))
    ok = await upload_image(room.sender, path, "channel", room.channel)
    [stored] = [m for m in await room.reader.history("channel", room.channel) if m.id == ok.msg_id]
    assert isinstance(stored.attachment, Attachment)
    assert (stored.attachment.width, stored.attachment.height) == (48, 32)
    assert stored.attachment.mime == "image/gif"


async def test_a_direct_message_image_reaches_the_recipient_only(
    room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "dm.webp"
    path.write_bytes(samples.webp(40, 40))
    assert room.reader.user is not None
    ok = await upload_image(room.sender, path, "user", room.reader.user)
    event = await next_image_message(room.reader)
    assert event.id == ok.msg_id and event.dest_type == "user"
    assert isinstance(event.attachment, Attachment)
    fetched = await download_image(room.reader, event.attachment, tmp_path / "cache")
    assert fetched.read_bytes() == path.read_bytes()


async def test_identical_images_are_stored_once(
    room: Room, tmp_path: Path, node_images: Path
) -> None:
    data = samples.png(64, 64, seed=99)
    for name in ("one.png", "two.png"):
        (tmp_path / name).write_bytes(data)
        await upload_image(room.sender, tmp_path / name, "channel", room.channel)
    sha = hashlib.sha256(data).hexdigest()
    assert [p.name for p in node_images.rglob(sha)] == [sha]


async def test_a_cached_download_is_verified_and_refetched_when_corrupt(
    room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "cached.png"
    path.write_bytes(samples.png(100, 100, seed=5))
    await upload_image(room.sender, path, "channel", room.channel)
    event = await next_image_message(room.reader)
    assert isinstance(event.attachment, Attachment)
    cached = await download_image(room.reader, event.attachment, tmp_path / "cache")
    cached.write_bytes(b"bit rot")
    again = await download_image(room.reader, event.attachment, tmp_path / "cache")
    assert again == cached and again.read_bytes() == path.read_bytes()
