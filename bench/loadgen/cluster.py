"""Several node processes of one community: one shared key, store and broker, and their
own counters (``/metrics`` of each node's admin listener).

Each node is started like every benchmarked node (``servers.node_server``: rate limits off,
per-address caps lifted), plus ``--store``, ``--broker``, ``--broker-prefix`` and
``--admin-listen`` on a free loopback port; with no store and broker given it is the
default single node (SQLite, in-process fan-out).
"""

from __future__ import annotations

import contextlib
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aronanet import identity
from loadgen.servers import LOOPBACK, ServerProcess, free_port, node_server

#: The node counters a scale benchmark reads (``aronanet.server.metrics``).
COUNTERS = (
    "aronanet_messages_stored_total",
    "aronanet_store_commits_total",
    "aronanet_deliveries_total",
    "aronanet_store_commit_latency_seconds_sum",
    "aronanet_store_commit_latency_seconds_count",
)


@dataclass(frozen=True, slots=True)
class Backends:
    """Where the nodes keep state and fan out; ``None`` for the single-node defaults."""

    store_url: str | None = None
    broker_url: str | None = None
    broker_prefix: str | None = None

    def arguments(self) -> list[str]:
        given = [
            ("--store", self.store_url),
            ("--broker", self.broker_url),
            ("--broker-prefix", self.broker_prefix),
        ]
        return [part for flag, value in given if value for part in (flag, value)]


@dataclass(frozen=True, slots=True)
class ClusterNode:
    process: ServerProcess
    admin_port: int

    @property
    def port(self) -> int:
        return self.process.port

    @property
    def pid(self) -> int:
        return self.process.pid

    def counters(self) -> dict[str, float]:
        """The node's ``COUNTERS`` now, from its ``/metrics``."""
        url = f"http://{LOOPBACK}:{self.admin_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        values = dict.fromkeys(COUNTERS, 0.0)
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in values:
                values[name] = float(value)
        return values


def _share_key(key: Path, data_dir: Path) -> None:
    """Nodes behind one address present one key (ArTP §2): each gets a copy."""
    data_dir.mkdir(mode=0o700, parents=True)
    shutil.copyfile(key, data_dir / "node.key")
    (data_dir / "node.key").chmod(0o600)


@contextlib.contextmanager
def run_cluster(
    work_dir: Path, count: int, backends: Backends, node_args: list[str]
) -> Iterator[list[ClusterNode]]:
    """Start ``count`` nodes at once (one migrates the schema under PostgreSQL's advisory
    lock, the others wait for it); stop them all on the way out."""
    key = work_dir / "shared.key"
    identity.load_or_create_key(key)
    nodes: list[ClusterNode] = []
    try:
        for index in range(count):
            node_dir = work_dir / f"node{index}"
            _share_key(key, node_dir / "node")  # servers.node_server's data directory
            admin_port = free_port()
            extra = [*backends.arguments(), "--admin-listen", f"{LOOPBACK}:{admin_port}"]
            process = node_server(node_dir, extra_args=[*extra, *node_args])
            process.name = f"node{index}"
            process.ready_timeout = 60.0
            process.launch()
            nodes.append(ClusterNode(process, admin_port))
        for node in nodes:
            node.process.wait_ready(node.admin_port)
        yield nodes
    finally:
        for node in nodes:
            node.process.stop()
