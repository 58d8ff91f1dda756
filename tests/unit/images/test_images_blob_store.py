"""``LocalBlobStore``: content addressing, deduplication, chunked reads, stale spills."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aronanet.server.image_blobs import LocalBlobStore


def spill(blobs: LocalBlobStore, data: bytes) -> tuple[str, Path]:
    path = blobs.new_spill_file()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


def test_commit_stores_the_image_under_its_sha256_fanned_out_by_two_digits(
    blobs: LocalBlobStore,
) -> None:
    sha, path = spill(blobs, b"pixels")
    final = blobs.commit(path, sha)
    assert final == blobs.root / sha[:2] / sha
    assert final.read_bytes() == b"pixels"
    assert blobs.exists(sha) and blobs.size(sha) == 6


def test_committing_the_same_bytes_twice_keeps_one_file(blobs: LocalBlobStore) -> None:
    sha, first = spill(blobs, b"same")
    _, second = spill(blobs, b"same")
    blobs.commit(first, sha)
    blobs.commit(second, sha)
    assert [p.name for p in blobs.root.rglob("*") if p.is_file()] == [sha]


def test_an_image_opened_at_a_chunk_reads_from_that_chunk_to_the_end(
    blobs: LocalBlobStore,
) -> None:
    data = bytes(range(256)) * 10
    sha, path = spill(blobs, data)
    blobs.commit(path, sha)
    with blobs.open_at_chunk(sha, 1, 1000) as source:
        pieces = [source.read(1000) for _ in range(3)]
    assert b"".join(pieces) == data[1000:]
    assert (pieces[1], pieces[2]) == (data[2000:], b"")


def test_prepare_removes_spill_files_left_by_a_previous_run(blobs: LocalBlobStore) -> None:
    _, path = spill(blobs, b"half an upload")
    blobs.prepare()
    assert not path.exists()
