"""Fixtures for the image unit tests: a blob store in tmp_path, a registry on a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from image_chunks import SMALL_LIMITS, ManualClock

from aronanet.server.image_blobs import LocalBlobStore
from aronanet.server.image_transfers import TransferRegistry


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "images")
    store.prepare()
    return store


@pytest.fixture
def registry(blobs: LocalBlobStore, clock: ManualClock) -> Iterator[TransferRegistry]:
    transfers = TransferRegistry(blobs, SMALL_LIMITS, clock)
    yield transfers
    transfers.close()
