"""A real ``aronanet serve`` subprocess for the discovery tests, and the CLI runner.

(A module of its own with a unique name, not conftest, so tests import it directly.)
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from support.real_node import RealNode, aronanet_command


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aronanet_command(*args),
        capture_output=True,
        text=True,
        timeout=60,
        env=env or dict(os.environ),
    )


def wait_until(condition: Callable[[], object], what: str, seconds: float = 20.0) -> None:
    """Poll ``condition()`` until it holds; fail the test (not hang) past ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass(kw_only=True)
class DiscoveryNode(RealNode):
    """``aronanet serve`` on 127.0.0.1, TCP only, logging at DEBUG (so tests can check that
    not even DEBUG shows a token), with discovery ``flags`` and the text of a ``[publish]``
    table: ``DiscoveryNode(data_dir, flags, publish_toml, env=...)``."""

    flags: tuple[str, ...] = field(default=(), kw_only=False)
    publish_toml: str = field(default="", kw_only=False)
    ws_port: int | Literal["off"] = "off"
    rate_limit: bool = True

    @property
    def address(self) -> str:
        return self.tcp_address

    def output(self) -> str:
        return self.log_text()

    def config_text(self) -> str:
        table = f"\n[publish]\n{self.publish_toml}" if self.publish_toml else ""
        return super().config_text() + table

    def serve_arguments(self) -> list[str]:
        return [*super().serve_arguments(), "--log-level", "DEBUG"]

    def wait_output(self, text: str) -> None:
        wait_until(
            lambda: text in self.output(), f"{text!r} in the node's output:\n{self.output()}"
        )
