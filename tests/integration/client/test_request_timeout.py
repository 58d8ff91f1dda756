"""``ArtpClient.request_timeout``: what every request method waits for a reply when the
caller gives no ``timeout`` (``SyncSession`` sets it from ``SyncOptions.request_timeout``, so
a node that stops answering is left for the next address of its community)."""

from __future__ import annotations

import pytest
from client_support import ScriptedNode
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.errors import ClientError


async def test_a_method_without_a_timeout_waits_request_timeout(
    scripted_node: ScriptedNode,
) -> None:
    client = await ArtpClient.connect(scripted_node.address, device_key=X25519PrivateKey.generate())
    client.request_timeout = 0.2
    with pytest.raises(ClientError) as caught:
        await client.history("channel", "#quiet")  # the scripted node never answers
    assert caught.value.code == "TIMEOUT"
    assert "0.2 s" in caught.value.message
    await client.close()
