"""Fixtures of the scale-out tests: a fresh PostgreSQL schema and Redis prefix per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from node.driver import TestClient

from aronanet.server.store.base import Store
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.sqlite import SqliteStore

from .cluster import ClusterNode, start_cluster
from .services import fresh_schema, redis_client, unique_prefix


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh schema in the real PostgreSQL, dropped after the test."""
    with fresh_schema() as url:
        yield url


@pytest.fixture
def redis_prefix() -> str:
    """A Redis channel prefix unique to this test (after checking Redis is there)."""
    redis_client().close()
    return unique_prefix()


StoreFactory = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Builds unopened stores on ONE database, so a test can close and reopen it."""
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "node.sqlite3")
        return
    with fresh_schema() as url:
        yield lambda: PostgresStore(url)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str, redis_prefix: str) -> Iterator[list[ClusterNode]]:
    """Two node processes of one community (shared PostgreSQL schema and Redis prefix)."""
    nodes = start_cluster(tmp_path, postgres_url, redis_prefix)
    yield nodes
    for node in nodes:
        node.stop()


@pytest.fixture
async def clients() -> AsyncIterator[list[TestClient]]:
    """Test clients a test opens (it appends them), closed after it."""
    opened: list[TestClient] = []
    yield opened
    for client in opened:
        await client.close()
