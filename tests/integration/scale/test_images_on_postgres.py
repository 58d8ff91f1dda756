"""Images on a PostgreSQL-backed node: the access rule and quota are the store's queries (§4)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PIL import Image

from aronanet.client import ArtpClient
from aronanet.client.transfers import download_image, upload_image
from aronanet.config import Limits
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment
from aronanet.server.node import Node
from aronanet.server.settings import NodeSettings, PasswordHashing
from aronanet.server.store.postgres import PostgresStore

PASSWORD = "correct horse battery"


@pytest.fixture
async def node(tmp_path: Path, postgres_url: str) -> AsyncIterator[Node]:
    settings = NodeSettings(
        data_dir=tmp_path / "data",
        port=0,
        ws_port=None,
        web_dir=None,
        store=postgres_url,
        hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
        limits=Limits(rate_limit_enabled=False),
    )
    running = Node(settings)
    await running.start()
    yield running
    await running.stop()


async def session(node: Node, user: str) -> ArtpClient:
    client = await ArtpClient.connect(
        f"127.0.0.1:{node.tcp_port}", device_key=X25519PrivateKey.generate()
    )
    await client.auth(user, PASSWORD, register=True)
    return client


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (255, 120, 180)).save(out, "PNG")
    return out.getvalue()


async def test_members_download_an_image_and_outsiders_get_not_found(
    node: Node, tmp_path: Path
) -> None:
    assert isinstance(node.store, PostgresStore)
    poster, member, outsider = [await session(node, n) for n in ("poster", "member", "out")]
    for client in (poster, member):
        await client.join("#gallery")
    data = png(64, 48)
    path = tmp_path / "arona.png"
    path.write_bytes(data)

    ok = await upload_image(poster, path, "channel", "#gallery", content="look")

    assert ok.image == hashlib.sha256(data).hexdigest()
    [stored] = [m for m in await member.history("channel", "#gallery") if m.id == ok.msg_id]
    assert isinstance(stored.attachment, Attachment) and stored.attachment.width == 64
    fetched = await download_image(member, stored.attachment, tmp_path / "cache")
    assert fetched.read_bytes() == data
    with pytest.raises(ClientError) as refused:
        await download_image(outsider, stored.attachment, tmp_path / "outsider-cache")
    assert refused.value.code == "NOT_FOUND"
    assert await node.store.uploaded_image_bytes("poster") == len(data)
    for client in (poster, member, outsider):
        await client.close()
