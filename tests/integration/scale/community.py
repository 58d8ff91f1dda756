"""Three node processes of one community, for the failover tests (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .cluster import ClusterNode, start_cluster


@pytest.fixture(name="community")
def three_nodes(
    tmp_path: Path, postgres_url: str, redis_prefix: str
) -> Iterator[list[ClusterNode]]:
    """Three node processes of one community (one key, one PostgreSQL schema, one Redis),
    each on its own loopback port: the addresses a client lists."""
    nodes = start_cluster(tmp_path / "community", postgres_url, redis_prefix, count=3)
    yield nodes
    for node in nodes:
        node.stop()
