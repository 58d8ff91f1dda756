"""Communities of node processes: three nodes for the failover tests (the ``community``
fixture, issue 16), and a community that the capability tests of tests/integration/node
meet as if it were one node (their ``scale`` mode, docs/SCALE-OUT.md §7).

The nodes share one PostgreSQL schema, one Redis prefix and one key, as behind a balancer;
every client connection a test opens goes to the NEXT node in turn, so each step of a test
(a second device, the reader, the moderator...) runs on another node than the step before.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from support.real_node import NodeStartError, free_port

from .cluster import ClusterNode, start_cluster
from .services import fresh_schema, redis_client, unique_prefix

#: Nodes of a community in scale mode: three, so that "the next node" is never "the node
#: before the previous one" for two steps in a row.
COMMUNITY_SIZE = 3
#: Tries at starting the nodes before a port taken under our feet fails the test.
START_ATTEMPTS = 3


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


@dataclass(kw_only=True)
class CommunityNode(ClusterNode):
    """A cluster node with WebSocket on, whose config file names the shared store, so that
    ``aronanet admin --config`` works on the community as an operator's would."""

    ws_port: int | Literal["off"] = field(default_factory=free_port)

    def config_text(self) -> str:
        # Top-level keys go before the first [table] of the inherited text.
        return f"store = {json.dumps(self.store_url)}\n{super().config_text()}"


@dataclass
class Community:
    """Nodes of one community, presented where a test expects one ``RealNode``."""

    nodes: list[ClusterNode]
    _turns: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def next_node(self) -> ClusterNode:
        """The node the next client connects to (round robin)."""
        return self.nodes[next(self._turns) % len(self.nodes)]

    @property
    def data_dir(self) -> Path:
        """The first node's data directory (its config names the shared store)."""
        return self.nodes[0].data_dir

    @property
    def config_path(self) -> Path:
        return self.nodes[0].config_path

    @property
    def store_url(self) -> str:
        """The shared PostgreSQL schema's URL."""
        return self.nodes[0].store_url

    def log_text(self) -> str:
        """Everything every node printed, one after the other."""
        return "".join(node.log_text() for node in self.nodes)


@contextmanager
def running_community(
    root: Path, count: int = COMMUNITY_SIZE, **options: Any
) -> Iterator[Community]:
    """``count`` nodes on a fresh schema and Redis prefix, stopped (and the schema dropped)
    on exit; ``options`` are ``RealNode`` fields every node gets (``flags``, ``limits``...)."""
    redis_client().close()  # a missing Redis fails here with the command that starts it
    with fresh_schema() as url:
        nodes = _start(root, url, count, options)
        try:
            yield Community(nodes)
        finally:
            for node in nodes:
                node.stop()


def _start(root: Path, url: str, count: int, options: dict[str, Any]) -> list[ClusterNode]:
    """Start the nodes, on fresh ports again if one was taken before a node bound it."""
    for attempt in range(1, START_ATTEMPTS + 1):
        where = root / f"start{attempt}"
        where.mkdir(parents=True)
        try:
            return start_cluster(
                where, url, unique_prefix(), count, node_class=CommunityNode, **options
            )
        except NodeStartError:
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
