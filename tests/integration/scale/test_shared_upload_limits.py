"""Limits on uploads in progress across two node processes sharing PostgreSQL: a user's
uploads count on every node together (``max_uploads_per_user``, ``max_upload_bytes_per_user``
and the in-progress bytes the upload quota adds to the stored ones), each at its edge: what
fits the limit exactly is admitted on the other node, one more is refused there."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest
from node.driver import TestClient

from aronanet.proto.messages import Error, ImgStatus, Join, Ok

from .cluster import ClusterNode, start_cluster

# The chunk builder and sample images are shared with the unit tests (tests/unit/images).
sys.path.append(str(Path(__file__).resolve().parents[2] / "unit" / "images"))
import image_samples as samples
from image_chunks import chunks_of

CHUNK = 32768  # the nodes' chunk_size (the default)
MAX_UPLOADS = 2
MAX_BYTES = 300_000
#: Bytes of ended uploads' outcomes kept per user: room for about three.
MEMORY = 2048


def _cluster(root: Path, postgres_url: str, prefix: str, **limits: int) -> list[ClusterNode]:
    return start_cluster(root, postgres_url, prefix, limits=limits)


@pytest.fixture
def bounded(tmp_path: Path, postgres_url: str, redis_prefix: str) -> Iterator[list[ClusterNode]]:
    """Two nodes allowing a user 2 uploads and 300000 declared bytes in progress, and
    2 KiB of outcomes of ended uploads."""
    nodes = _cluster(
        tmp_path,
        postgres_url,
        redis_prefix,
        max_uploads_per_user=MAX_UPLOADS,
        max_upload_bytes_per_user=MAX_BYTES,
        upload_memory_per_user=MEMORY,
    )
    yield nodes
    for node in nodes:
        node.stop()


async def _user_on_both(
    nodes: list[ClusterNode], clients: list[TestClient], user: str, channel: str
) -> tuple[TestClient, TestClient]:
    on_a, on_b = [await TestClient.connect(node.port) for node in nodes]
    clients += [on_a, on_b]
    await on_a.login(user)
    await on_b.login(user, register=False)
    await on_a.ok(Join(channel=channel))
    return on_a, on_b


async def _begin(client: TestClient, channel: str, transfer: str, size: int) -> Ok | Error:
    """Send chunk 0 of an upload declaring ``size`` bytes (the rest never comes, so it stays
    in progress): the chunk's ``ERROR`` if refused, else the ``IMG_STATUS`` that shows it
    held. Replies come in order, so a refusal has arrived before the status."""
    first = chunks_of(os.urandom(size), transfer=transfer, chunk_size=CHUNK, dest=channel)[0]
    chunk_id = client.next_id()
    refusal = client.expect_reply(chunk_id)
    await client.send(msgspec.structs.replace(first, id=chunk_id))
    status = await client.request(ImgStatus(transfer=transfer))
    if refusal.done():
        error = refusal.result()
        assert isinstance(error, Error)
        return error
    client.replies.pop(chunk_id)
    assert isinstance(status, Ok) and status.received == [0], status
    return status


def _refused(reply: Ok | Error, code: str, wording: str) -> None:
    assert isinstance(reply, Error), f"expected {code}, got {reply}"
    assert reply.code == code and wording in reply.message, reply
    assert reply.transfer is not msgspec.UNSET


async def test_uploads_in_progress_per_user_count_on_both_nodes(
    bounded: list[ClusterNode], clients: list[TestClient]
) -> None:
    on_a, on_b = await _user_on_both(bounded, clients, "painter", "#easel")

    assert isinstance(await _begin(on_a, "#easel", "u1", 40_000), Ok)
    assert isinstance(await _begin(on_b, "#easel", "u2", 40_000), Ok)  # the second: admitted

    # A third, on either node, would be the user's third: each node alone holds only one.
    for client in (on_a, on_b):
        refused = await _begin(client, "#easel", "u3", 40_000)
        _refused(refused, "RATE_LIMITED", "3 would exceed the limit of 2")
        assert isinstance(refused, Error) and refused.retry_after_ms
    # Restarting an upload of one's own (chunk 0 again) is not a new one.
    assert isinstance(await _begin(on_b, "#easel", "u1", 40_000), Ok)


async def test_declared_bytes_in_progress_per_user_count_on_both_nodes(
    bounded: list[ClusterNode], clients: list[TestClient]
) -> None:
    on_a, on_b = await _user_on_both(bounded, clients, "sculptor", "#clay")
    assert isinstance(await _begin(on_a, "#clay", "big", 200_001), Ok)

    over = await _begin(on_b, "#clay", "more", MAX_BYTES - 200_001 + 1)
    _refused(over, "RATE_LIMITED", "300001 would exceed the limit of 300000")
    assert isinstance(await _begin(on_b, "#clay", "fits", MAX_BYTES - 200_001), Ok)


async def test_two_nodes_admitting_at_once_never_pass_the_limit(
    bounded: list[ClusterNode], clients: list[TestClient]
) -> None:
    """The per-user lock: with one upload in progress, two new ones sent to the two nodes
    at the same moment are one admitted and one refused, never both admitted."""
    for round_ in range(5):
        on_a, on_b = await _user_on_both(bounded, clients, f"racer{round_}", f"#race{round_}")
        channel = f"#race{round_}"
        assert isinstance(await _begin(on_a, channel, "held", 40_000), Ok)
        replies = await asyncio.gather(
            _begin(on_a, channel, "left", 40_000), _begin(on_b, channel, "right", 40_000)
        )
        assert sorted(type(reply).__name__ for reply in replies) == ["Error", "Ok"], replies


async def test_the_outcomes_of_ended_uploads_kept_for_a_user_are_bounded(
    bounded: list[ClusterNode], clients: list[TestClient], postgres_url: str
) -> None:
    """Uploads that fail at once leave an outcome each (for ``IMG_STATUS``); past
    ``upload_memory_per_user`` the oldest are forgotten, whichever node they failed on."""
    on_a, on_b = await _user_on_both(bounded, clients, "quitter", "#drafts")
    for n in range(12):
        client = (on_a, on_b)[n % 2]
        assert isinstance(await _begin(client, "#drafts", f"gave-up-{n}", 80_000), Ok)
        wrong = chunks_of(b"x" * 80_000, transfer=f"gave-up-{n}", chunk_size=CHUNK)[2]
        _refused(await client.request(wrong), "IMAGE_INVALID", "out of order")

    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT count(*) FROM image_uploads WHERE user_key = 'quitter'")
        [count] = row.fetchone() or (0,)
    # 2 KiB hold about three outcomes (400 bytes each and the header), and one more may
    # have ended since the last upload was admitted: never all twelve.
    assert 2 <= count <= MEMORY // 400
    # The newest is still known on either node.
    _refused(await on_a.request(ImgStatus(transfer="gave-up-11")), "IMAGE_INVALID", "order")


async def test_the_quota_counts_stored_images_and_uploads_in_progress_on_both_nodes(
    tmp_path: Path, postgres_url: str, redis_prefix: str, clients: list[TestClient]
) -> None:
    image = samples.png(64, 64, seed=31)
    quota = len(image) + 150_000
    nodes = _cluster(tmp_path, postgres_url, redis_prefix, upload_quota_bytes=quota)
    try:
        on_a, on_b = await _user_on_both(nodes, clients, "archivist", "#shelf")
        [stored] = chunks_of(image, transfer="stored", chunk_size=CHUNK, dest="#shelf")
        await on_a.ok(stored)  # one chunk: the whole image, stored
        assert isinstance(await _begin(on_a, "#shelf", "pending", 100_000), Ok)

        over = await _begin(on_b, "#shelf", "over", 50_001)
        _refused(over, "TOO_LARGE", f"{len(image) + 100_000} bytes used + 50001 > quota")
        assert isinstance(await _begin(on_b, "#shelf", "fits", 50_000), Ok)
    finally:
        for node in nodes:
            node.stop()
