"""A real ``aronanet serve`` subprocess for the discovery tests, and the CLI runner.

(A module of its own with a unique name, not conftest, so tests import it directly.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_SECONDS = 20.0
#: Cheap password hashing, so that tests which log in stay fast.
BASE_CONFIG = """\
[hashing]
time_cost = 1
memory_kib = 8192
parallelism = 1
"""


def aronanet(*args: str) -> list[str]:
    """The ``aronanet`` command of this virtual environment."""
    return [sys.executable, "-m", "aronanet.cli", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aronanet(*args), capture_output=True, text=True, timeout=60, env=env or dict(os.environ)
    )


def wait_until(condition: Callable[[], object], what: str, seconds: float = 20.0) -> None:
    """Poll ``condition()`` until it holds; fail the test (not hang) past ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class DiscoveryNode:
    """``aronanet serve`` on 127.0.0.1 with free ports, discovery flags and a ``[publish]``
    table; stdout and stderr go to one log file that tests read."""

    data_dir: Path
    flags: tuple[str, ...] = ()
    publish_toml: str = ""
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def launch(self) -> DiscoveryNode:
        """Start the process without waiting for readiness."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / f"{self.data_dir.name}.toml"
        table = f"\n[publish]\n{self.publish_toml}" if self.publish_toml else ""
        config.write_text(BASE_CONFIG + table)
        command = aronanet(
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ws-port",
            "off",
            "--log-level",
            "DEBUG",
            *self.flags,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        return self

    def start(self) -> DiscoveryNode:
        """§5: ready "when the TCP port accepts connections"."""
        self.launch()
        wait_until(self._accepts, f"the node on port {self.port}\n{self.output()}", STARTUP_SECONDS)
        return self

    def _accepts(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the node exited at start:\n{self.output()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
            return True
        return False

    def wait_output(self, text: str) -> None:
        wait_until(
            lambda: text in self.output(), f"{text!r} in the node's output:\n{self.output()}"
        )

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
