"""Images on two node processes sharing PostgreSQL: any node serves any image, and an upload
cut on one node resumes on the other (docs/PROTOCOL.md §10), with nothing on either disk."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.client.transfers import download_image, upload_image
from aronanet.config import Limits
from aronanet.errors import ClientError, ErrorCode, RequestError
from aronanet.proto.messages import Attachment, ImgStatus
from aronanet.server.image_postgres import PostgresBlobStore, SharedUploads
from aronanet.server.store.postgres_connections import ReaderPool

from .cluster import ClusterNode, free_port

# The sample images and chunk builder are shared with the unit tests (tests/unit/images).
sys.path.append(str(Path(__file__).resolve().parents[2] / "unit" / "images"))
import image_samples as samples
from image_chunks import chunks_of

CHUNK = 32768
PASSWORD = "correct horse battery"


@pytest.fixture
async def sessions() -> AsyncIterator[Callable[..., object]]:
    """``await open_session(node, user, register=...)``; every session closed afterwards."""
    clients: list[ArtpClient] = []

    async def open_session(node: ClusterNode, user: str, *, register: bool) -> ArtpClient:
        client = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
        await client.auth(user, PASSWORD, register=register)
        clients.append(client)
        return client

    yield open_session
    for client in clients:
        await client.close()


def stored_files(node: ClusterNode) -> list[Path]:
    """Image files under the node's own data directory (the spill area aside)."""
    images = node.data_dir / "images"
    return [p for p in images.rglob("*") if p.is_file() and p.parent.name != "tmp"]


async def test_an_image_uploaded_on_one_node_is_served_by_the_other(
    cluster: list[ClusterNode], sessions: Callable[..., object], tmp_path: Path, postgres_url: str
) -> None:
    a, b = cluster
    poster = await sessions(a, "poster", register=True)  # type: ignore[misc]
    reader = await sessions(b, "reader", register=True)  # type: ignore[misc]
    outsider = await sessions(b, "outsider", register=True)  # type: ignore[misc]
    for client in (poster, reader):
        await client.join("#gallery")
    data = samples.png(300, 300, seed=21)
    path = tmp_path / "shared.png"
    path.write_bytes(data)

    ok = await upload_image(poster, path, "channel", "#gallery", content="on A")

    [stored] = [m for m in await reader.history("channel", "#gallery") if m.id == ok.msg_id]
    assert isinstance(stored.attachment, Attachment)
    fetched = await download_image(reader, stored.attachment, tmp_path / "reader-cache")
    assert fetched.read_bytes() == data
    with pytest.raises(ClientError) as refused:
        await download_image(outsider, stored.attachment, tmp_path / "outsider-cache")
    assert refused.value.code == "NOT_FOUND"
    assert stored_files(a) == [] and stored_files(b) == []  # in PostgreSQL, not on a disk
    with psycopg.connect(postgres_url) as db:
        size, rows = db.execute(  # type: ignore[misc]
            "SELECT b.size, count(c.idx) FROM image_blobs b JOIN image_blob_chunks c "
            "USING (sha256) WHERE sha256 = %s GROUP BY b.size",
            (hashlib.sha256(data).hexdigest(),),
        ).fetchone()
    assert size == len(data) and rows >= 1


async def test_an_upload_cut_on_one_node_resumes_on_the_other(
    cluster: list[ClusterNode], sessions: Callable[..., object], tmp_path: Path
) -> None:
    a, b = cluster
    sender = await sessions(a, "sender", register=True)  # type: ignore[misc]
    reader = await sessions(b, "watcher", register=True)  # type: ignore[misc]
    for client in (sender, reader):
        await client.join("#relay")
    data = samples.png(400, 400, seed=22)
    path = tmp_path / "resumed.png"
    path.write_bytes(data)
    chunks = chunks_of(data, transfer="cut-1", chunk_size=CHUNK, dest="#relay")
    assert len(chunks) > 8
    for chunk in chunks[:5]:
        await sender.send_nowait(chunk)
    status = await sender.request(ImgStatus(transfer="cut-1"))
    assert status.received == [0, 1, 2, 3, 4]
    await sender.close()  # the connection to node A drops mid-upload

    again = await sessions(b, "sender", register=False)  # type: ignore[misc]
    status = await again.request(ImgStatus(transfer="cut-1"))
    assert status.received == [0, 1, 2, 3, 4]  # node B knows what node A received
    progress: list[int] = []
    ok = await upload_image(
        again,
        path,
        "channel",
        "#relay",
        transfer_id="cut-1",
        progress=lambda done, _total: progress.append(done),
    )
    assert progress[0] == 5 * CHUNK  # resumed: chunks 0-4 were not sent again
    assert ok.image == hashlib.sha256(data).hexdigest()
    [stored] = [m for m in await reader.history("channel", "#relay") if m.id == ok.msg_id]
    assert isinstance(stored.attachment, Attachment)
    fetched = await download_image(reader, stored.attachment, tmp_path / "cache")
    assert fetched.read_bytes() == data

    # Asked on node A afterwards, the finished upload answers with its outcome.
    on_a = await sessions(a, "sender", register=False)  # type: ignore[misc]
    done = await on_a.request(ImgStatus(transfer="cut-1"))
    assert done.msg_id == ok.msg_id and done.received == list(range(len(chunks)))


async def test_deleting_the_last_message_carrying_an_image_removes_it_from_postgres(
    cluster: list[ClusterNode], sessions: Callable[..., object], tmp_path: Path, postgres_url: str
) -> None:
    a, b = cluster
    poster = await sessions(a, "remover", register=True)  # type: ignore[misc]
    await poster.join("#gone")
    data = samples.png(120, 90, seed=23)
    path = tmp_path / "gone.png"
    path.write_bytes(data)
    ok = await upload_image(poster, path, "channel", "#gone")
    sha = hashlib.sha256(data).hexdigest()

    on_b = await sessions(b, "remover", register=False)  # type: ignore[misc]
    await on_b.delete(ok.msg_id)  # §14.11, through the other node

    with psycopg.connect(postgres_url) as db:
        blobs = db.execute("SELECT count(*) FROM image_blobs WHERE sha256 = %s", (sha,))
        chunks = db.execute("SELECT count(*) FROM image_blob_chunks WHERE sha256 = %s", (sha,))
        assert blobs.fetchone() == (0,) and chunks.fetchone() == (0,)


async def test_postgres_unreachable_is_a_quiet_rate_limited_for_image_requests(
    postgres_url: str, tmp_path: Path
) -> None:
    pool = ReaderPool(postgres_url, 1)
    await pool.open()
    await pool.close()  # the connection is gone, and reconnecting finds nobody listening
    pool._dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    blobs, uploads = PostgresBlobStore(pool), SharedUploads(pool, Limits())
    spill = tmp_path / "spill.part"
    spill.write_bytes(b"bytes")
    attempts = [
        blobs.stored_size("ab" * 32),
        blobs.put(spill, "ab" * 32),
        blobs.open_reader("ab" * 32, 0),
        uploads.load("sensei", "t1"),
    ]
    for attempt in attempts:
        with pytest.raises(RequestError) as refused:
            await attempt
        assert refused.value.code == ErrorCode.RATE_LIMITED
        assert refused.value.extra["retry_after_ms"] > 0
    # Recording an outcome fails quietly: the OK of a stored message must still go out.
    await uploads.finished("sensei", "t1", "ab" * 32, "1", 1)


async def test_an_upload_moving_back_to_a_node_with_an_old_copy_continues_from_the_shared_state(
    cluster: list[ClusterNode], sessions: Callable[..., object], tmp_path: Path
) -> None:
    a, b = cluster
    first = await sessions(a, "nomad", register=True)  # type: ignore[misc]
    await first.join("#roam")
    data = samples.png(400, 400, seed=24)
    path = tmp_path / "roaming.png"
    path.write_bytes(data)
    chunks = chunks_of(data, transfer="roam-1", chunk_size=CHUNK, dest="#roam")
    for chunk in chunks[:5]:
        await first.send_nowait(chunk)
    assert (await first.request(ImgStatus(transfer="roam-1"))).received == list(range(5))
    await first.close()  # node A keeps its copy of chunks 0-4

    second = await sessions(b, "nomad", register=False)  # type: ignore[misc]
    for chunk in chunks[5:7]:
        await second.send_nowait(chunk)
    assert (await second.request(ImgStatus(transfer="roam-1"))).received == list(range(7))
    await second.close()

    back = await sessions(a, "nomad", register=False)  # type: ignore[misc]
    assert (await back.request(ImgStatus(transfer="roam-1"))).received == list(range(7))
    ok = await upload_image(back, path, "channel", "#roam", transfer_id="roam-1")
    assert ok.image == hashlib.sha256(data).hexdigest()
    [stored] = [m for m in await back.history("channel", "#roam") if m.id == ok.msg_id]
    assert isinstance(stored.attachment, Attachment)
    fetched = await download_image(back, stored.attachment, tmp_path / "cache")
    assert fetched.read_bytes() == data
