"""§14.11 with images, through a real node: deleting a message drops its attachment, and
the image file goes once no message carries it any more (the same bytes posted twice are
one file, kept while either message stands)."""

from __future__ import annotations

from pathlib import Path

import image_samples as samples
from image_node import Room, next_image_message

from aronanet.client.transfers import upload_image
from aronanet.proto.messages import Attachment


async def posted(room: Room, path: Path) -> tuple[str, Attachment]:
    await upload_image(room.sender, path, "channel", room.channel)
    event = await next_image_message(room.reader)
    assert isinstance(event.attachment, Attachment)
    return event.id, event.attachment


async def test_the_file_goes_with_the_last_message_carrying_it(
    room: Room, tmp_path: Path, node_images: Path
) -> None:
    path = tmp_path / "shared.png"
    path.write_bytes(samples.png(64, 48))
    first, image = await posted(room, path)
    second, again = await posted(room, path)
    stored = node_images / image.image[:2] / image.image
    assert again.image == image.image and stored.is_file()
    await room.sender.delete(first)
    assert stored.is_file()  # the second message still carries it
    [tomb, _] = await room.reader.history("channel", room.channel, limit=2)
    assert tomb.id == first and tomb.content == "" and not isinstance(tomb.attachment, Attachment)
    await room.sender.delete(second)
    assert not stored.exists()
