"""A real ``aronanet serve`` process for the image tests, with the limits each test needs.

(A module of its own with a unique name, not conftest, so the tests and the benchmark can
import it.) The node runs as a separate process (``support.real_node.RealNode``) so that
its memory can be read from ``/proc/PID/status`` and so that uploads cross a real loopback
socket.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.proto.messages import Attachment, MsgEvent
from support.real_node import RealNode
from support.real_node import unique_name as unique

__all__ = [
    "PASSWORD",
    "ImageNode",
    "Room",
    "connect",
    "next_image_message",
    "unique",
    "user_session",
]

PASSWORD = "correct horse battery"


@dataclass(kw_only=True)
class ImageNode(RealNode):
    """A running node, rate limits off; ``limits`` become its ``[limits]`` table."""

    @property
    def images_dir(self) -> Path:
        """The node's content-addressed image store."""
        return self.data_dir / "images"


async def connect(address: str) -> ArtpClient:
    return await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())


async def user_session(address: str, name: str, *, register: bool = True) -> ArtpClient:
    """A logged-in session of ``name`` (registered on first use)."""
    client = await connect(address)
    await client.auth(name, PASSWORD, register=register)
    return client


async def next_image_message(client: ArtpClient) -> MsgEvent:
    """The next MSG event carrying an attachment (other events are skipped)."""

    async def wait() -> MsgEvent:
        async for event in client.events():
            if isinstance(event, MsgEvent) and isinstance(event.attachment, Attachment):
                return event
        raise AssertionError("the connection closed before an image message arrived")

    return await asyncio.wait_for(wait(), timeout=30)


@dataclass
class Room:
    """Two members of one channel (sender and reader) and one outsider."""

    channel: str
    sender: ArtpClient
    reader: ArtpClient
    outsider: ArtpClient
