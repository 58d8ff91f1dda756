"""Fixtures for the image unit tests: a blob store in tmp_path, a registry on a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from image_chunks import SMALL_LIMITS, ManualClock

from aronanet.server.images import ImageBlobStore, TransferRegistry


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def blobs(tmp_path: Path) -> ImageBlobStore:
    store = ImageBlobStore(tmp_path / "images")
    store.prepare()
    return store


@pytest.fixture
def registry(blobs: ImageBlobStore, clock: ManualClock) -> Iterator[TransferRegistry]:
    transfers = TransferRegistry(blobs, SMALL_LIMITS, clock)
    yield transfers
    transfers.close()
