"""Fixtures for the server unit tests: a SQLite store on a real file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aronanet.server.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "node.sqlite3")
    await opened.open()
    yield opened
    await opened.close()
