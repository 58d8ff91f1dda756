"""Two (or more) ``aronanet serve`` processes sharing one PostgreSQL and one Redis.

They share the node key too, as nodes behind one address must (clients pin the key of the
address, ArTP §2), and nothing else: each has its own data directory, ports, config and log.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aronanet import identity
from support.real_node import FAST_TEST_CONFIG, NodeStartError, RealNode, free_port

from .services import REDIS_URL

__all__ = ["CONFIG", "ClusterNode", "free_port", "start_cluster"]

#: The settings of every node of the cluster (and of any node a scale test runs by hand).
CONFIG = FAST_TEST_CONFIG


@dataclass(kw_only=True)
class ClusterNode(RealNode):
    """One node process of the community: TCP only, rate limits off, logging at INFO."""

    store_url: str
    broker_prefix: str
    ws_port: int | Literal["off"] = "off"

    def serve_arguments(self) -> list[str]:
        return [
            *super().serve_arguments(),
            "--store", self.store_url,
            "--broker", REDIS_URL,
            "--broker-prefix", self.broker_prefix,
            "--log-level", "INFO",
        ]  # fmt: skip


def start_cluster(
    root: Path,
    store_url: str,
    prefix: str,
    count: int = 2,
    node_class: type[ClusterNode] = ClusterNode,
    **options: Any,
) -> list[ClusterNode]:
    """Start ``count`` nodes (in parallel) with one shared key; returns them when ready.
    ``options`` are ``node_class`` fields every node gets (``limits``, ``rate_limit``…)."""
    key = root / "shared.key"
    identity.load_or_create_key(key)
    nodes = [
        node_class(root / f"node{n}", store_url=store_url, broker_prefix=prefix, **options)
        for n in range(count)
    ]
    for node in nodes:
        node.data_dir.mkdir(mode=0o700)
        shutil.copyfile(key, node.data_dir / "node.key")
        (node.data_dir / "node.key").chmod(0o600)
    for node in nodes:
        node.launch()
    try:
        for node in nodes:
            node.wait_until_ready()
    except NodeStartError:
        for node in nodes:
            node.stop()
        raise
    return nodes
