"""Two (or more) ``aronanet serve`` processes sharing one PostgreSQL and one Redis.

They share the node key too, as nodes behind one address must (clients pin the key of the
address, ArTP §2), and nothing else: each has its own data directory and ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aronanet import identity

from .services import REDIS_URL

#: Cheap hashing and no login throttle: the tests check behaviour, not password strength.
CONFIG = """\
[accounts]
time_cost = 1
memory_kib = 8
parallelism = 1

[login_throttle]
burst = 1000000
refill_per_second = 1000000.0
"""
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ClusterNode:
    """One node process of the community."""

    name: str
    data_dir: Path
    store_url: str
    broker_prefix: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def launch(self, config: Path) -> None:
        command = [
            sys.executable, "-m", "aronanet", "serve",
            "--data-dir", str(self.data_dir), "--config", str(config),
            "--host", "127.0.0.1", "--port", str(self.port), "--ws-port", "off",
            "--store", self.store_url, "--broker", REDIS_URL,
            "--broker-prefix", self.broker_prefix, "--rate-limit", "off", "--log-level", "INFO",
        ]  # fmt: skip
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self) -> None:
        """§5: "It is ready when the TCP port accepts connections"."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready in {STARTUP_SECONDS} s")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no last flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_cluster(root: Path, store_url: str, prefix: str, count: int = 2) -> list[ClusterNode]:
    """Start ``count`` nodes (in parallel) with one shared key; returns them when ready."""
    config = root / "node.toml"
    config.write_text(CONFIG)
    key = root / "shared.key"
    identity.load_or_create_key(key)
    nodes = []
    for n in range(count):
        node = ClusterNode(f"node{n}", root / f"node{n}", store_url, prefix)
        node.data_dir.mkdir(mode=0o700)
        shutil.copyfile(key, node.data_dir / "node.key")
        (node.data_dir / "node.key").chmod(0o600)
        nodes.append(node)
    for node in nodes:
        node.launch(config)
    for node in nodes:
        node.wait_ready()
    return nodes
