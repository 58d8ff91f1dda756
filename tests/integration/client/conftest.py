"""Fixtures for the client's integration tests; the peers themselves are in client_support."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from client_support import PASSWORD, NodeProcess, ScriptedNode, unique_name
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient, KnownNodes


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One node shared by a test module; tests use unique user and channel names."""
    with NodeProcess(tmp_path_factory.mktemp("node") / "data") as running:
        yield running


@pytest.fixture
def fresh_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A node of this test's own, which the test may stop and restart."""
    with NodeProcess(tmp_path / "node-data") as running:
        yield running


@pytest.fixture
def device_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def known_nodes(tmp_path: Path) -> KnownNodes:
    return KnownNodes(tmp_path / "client" / "known_nodes")


@pytest.fixture(params=["tcp", "ws"])
async def logged_in(request: pytest.FixtureRequest, node: NodeProcess) -> AsyncIterator[ArtpClient]:
    """A newly registered user's session, once over TCP and once over WebSocket."""
    address = node.tcp_address if request.param == "tcp" else node.ws_address
    client = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    await client.auth(unique_name("u"), PASSWORD, register=True)
    yield client
    await client.close()


@pytest.fixture
async def scripted_node() -> AsyncIterator[ScriptedNode]:
    peer = ScriptedNode()
    await peer.start()
    yield peer
    await peer.close()
