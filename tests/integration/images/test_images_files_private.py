"""Image blobs and upload spill files are private to the node's user (issue 9, item 11)."""

from __future__ import annotations

import stat
from pathlib import Path

import image_samples as samples
from image_node import ImageNode, Room, next_image_message

from aronanet.client.transfers import upload_image


async def test_stored_images_and_their_directories_are_owner_only(
    node: ImageNode, room: Room, tmp_path: Path
) -> None:
    path = tmp_path / "private.png"
    path.write_bytes(samples.png(400, 300))  # several chunks: spilled, then stored
    ok = await upload_image(room.sender, path, "channel", room.channel)
    await next_image_message(room.reader)
    stored = [p for p in node.images_dir.rglob("*") if p.is_file()]
    assert any(isinstance(ok.image, str) and ok.image in p.name for p in stored)
    everything = [node.data_dir, *node.data_dir.rglob("*")]
    open_to_others = {
        str(p): oct(stat.S_IMODE(p.lstat().st_mode))
        for p in everything
        if p.lstat().st_mode & 0o077
    }
    assert open_to_others == {}
