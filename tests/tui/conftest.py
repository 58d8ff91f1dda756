"""The terminal-client tests' fixtures: a real node, and a peer on it.

The node fixture runs the real ``aronanet serve`` in a subprocess on ephemeral ports with a
throwaway data directory, and waits until its TCP port accepts connections. Everything
else shared lives in ``tui_helpers``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from tui_helpers import PASSWORD, Node

from aronanet.client.connection import ArtpClient


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    with Node(tmp_path / "node") as running:
        yield running


@pytest.fixture
async def peer(node: Node) -> AsyncIterator[ArtpClient]:
    """Another user, hoshino, on a scripted client: the other end of every conversation."""
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await client.auth("hoshino", PASSWORD, register=True)
    yield client
    await client.close()
