"""A real ``aronanet serve`` process for the image tests, with the limits each test needs.

(A module of its own with a unique name, not conftest, so the tests and the benchmark can
import it.) The node runs as a separate process so that its memory can be read from
``/proc/PID/status`` and so that uploads cross a real loopback socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.proto.messages import Attachment, MsgEvent

PASSWORD = "correct horse battery"
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid() % 1000}x{next(_names)}"


STARTUP_SECONDS = 20.0
#: Cheap password hashing and no login throttle: every test registers fresh users.
BASE_CONFIG = """\
[hashing]
time_cost = 1
memory_kib = 8192
parallelism = 1

[login_throttle]
burst = 1000000
refill_per_second = 1000000.0
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ImageNode:
    """A running node; ``limits`` become its ``[limits]`` table."""

    data_dir: Path
    limits: dict[str, int | float] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ws_address(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/artp"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    def start(self) -> ImageNode:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / f"{self.data_dir.name}.toml"
        table = "".join(f"{key} = {value!r}\n" for key, value in self.limits.items())
        config.write_text(BASE_CONFIG + ("\n[limits]\n" + table if table else ""))
        log = (self.data_dir.parent / f"{self.data_dir.name}.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aronanet.cli",
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
                str(self.ws_port),
                "--rate-limit",
                "off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready(Path(log.name))
        return self

    def _wait_until_ready(self, log: Path) -> None:
        """§5: "It is ready when the TCP port accepts connections"."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited at start: {log.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"node not ready in {STARTUP_SECONDS} s: {log.read_text()}")

    def memory_kib(self, field_name: str = "VmRSS") -> int:
        """A memory figure of the node process from ``/proc/PID/status``, in KiB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
        raise KeyError(field_name)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def connect(address: str) -> ArtpClient:
    return await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())


async def user_session(address: str, name: str, *, register: bool = True) -> ArtpClient:
    """A logged-in session of ``name`` (registered on first use)."""
    client = await connect(address)
    await client.auth(name, PASSWORD, register=register)
    return client


async def next_image_message(client: ArtpClient) -> MsgEvent:
    """The next MSG event carrying an attachment (other events are skipped)."""

    async def wait() -> MsgEvent:
        async for event in client.events():
            if isinstance(event, MsgEvent) and isinstance(event.attachment, Attachment):
                return event
        raise AssertionError("the connection closed before an image message arrived")

    return await asyncio.wait_for(wait(), timeout=30)


@dataclass
class Room:
    """Two members of one channel (sender and reader) and one outsider."""

    channel: str
    sender: ArtpClient
    reader: ArtpClient
    outsider: ArtpClient
