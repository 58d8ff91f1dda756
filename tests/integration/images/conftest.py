"""Fixtures for the image integration tests: real nodes, users, a channel, sample files."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from image_node import ImageNode, Room, unique, user_session

# The sample images are shared with the unit tests (tests/unit/images/image_samples.py).
sys.path.append(str(Path(__file__).resolve().parents[2] / "unit" / "images"))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageNode]:
    """One node shared by a test module; tests use unique user and channel names."""
    with ImageNode(tmp_path_factory.mktemp("image-node") / "data") as running:
        yield running


@pytest.fixture
async def room(node: ImageNode) -> AsyncIterator[Room]:
    channel = "#" + unique("img")
    sender = await user_session(node.tcp_address, unique("snd"))
    reader = await user_session(node.ws_address, unique("rdr"))
    outsider = await user_session(node.tcp_address, unique("out"))
    await sender.join(channel)
    await reader.join(channel)
    yield Room(channel, sender, reader, outsider)
    for client in (sender, reader, outsider):
        await client.close()


@pytest.fixture
def node_images(node: ImageNode) -> Path:
    """The node's content-addressed image directory."""
    return node.images_dir
