"""Fixtures: a real node (in-process, or as a subprocess), and clients that speak to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from aronanet.config import Limits
from aronanet.proto.messages import Join, MsgEvent, SendMsg
from aronanet.server.node import Node
from aronanet.server.settings import NodeSettings, PasswordHashing

from .driver import TestClient

#: Argon2id at its minimum cost: the tests check behaviour, not hashing strength.
FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)
FAST_TOML = "[accounts]\ntime_cost = 1\nmemory_kib = 8\nparallelism = 1\n"


def node_settings(data_dir: Path, **limits: Any) -> NodeSettings:
    """Settings for an in-process node on free ports, with cheap hashing."""
    return NodeSettings(
        data_dir=data_dir,
        host="127.0.0.1",
        port=0,
        ws_port=0,
        web_dir=None,
        hashing=FAST_HASHING,
        limits=Limits(**limits),
    )


@pytest.fixture
async def start_node(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Node]]]:
    """Start in-process nodes: ``await start_node(**limits, settings=...)``; stopped after."""
    nodes: list[Node] = []

    async def start(settings: NodeSettings | None = None, **limits: Any) -> Node:
        chosen = settings or node_settings(tmp_path / f"node{len(nodes)}", **limits)
        node = Node(chosen)
        await node.start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        await node.stop()


@pytest.fixture
async def node(start_node: Callable[..., Awaitable[Node]]) -> Node:
    """A node with the contract's default limits but rate limiting off."""
    return await start_node(rate_limit_enabled=False)


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """Open handshaken clients: ``await connect(node)``, ``await connect(node, ws=True)``."""
    clients: list[TestClient] = []

    async def open_client(
        node: Node | int, *, ws: bool = False, handshake: bool = True, rcvbuf: int | None = None
    ) -> TestClient:
        port = (node.ws_port if ws else node.tcp_port) if isinstance(node, Node) else node
        assert port is not None
        client = await TestClient.connect(port, ws=ws, handshake=handshake, rcvbuf=rcvbuf)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


@dataclass
class Bystanders:
    """Two logged-in users in #lobby who must keep talking whatever others do."""

    speaker: TestClient
    listener: TestClient
    sent: int = 0

    async def still_talk(self) -> None:
        self.sent += 1
        content = f"still here {self.sent}"
        await self.speaker.ok(SendMsg(dest_type="channel", dest="#lobby", content=content))
        event = await self.listener.next_event_of(MsgEvent)
        assert event.content == content


async def seat_bystanders(node: Node, connect: Callable[..., Awaitable[TestClient]]) -> Bystanders:
    """Log in two users on ``node`` and check they can talk."""
    speaker, listener = await connect(node), await connect(node)
    await speaker.login("speaker")
    await listener.login("listener")
    for client in (speaker, listener):
        await client.ok(Join(channel="#lobby"))
    found = Bystanders(speaker, listener)
    await found.still_talk()
    return found


@pytest.fixture
async def bystanders(node: Node, connect: Callable[..., Awaitable[TestClient]]) -> Bystanders:
    return await seat_bystanders(node, connect)


# ------------------------------------------------------------------ node as a subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """§5: the node "is ready when the TCP port accepts connections"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"the node exited with {proc.returncode}: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the node did not listen on {port} within {timeout} s")


@dataclass
class NodeProcess:
    data_dir: Path
    config: Path
    port: int
    ws_port: int
    proc: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()

    def start(self) -> NodeProcess:
        command = [
            sys.executable, "-m", "aronanet", "serve",
            "--data-dir", str(self.data_dir), "--config", str(self.config),
            "--host", "127.0.0.1", "--port", str(self.port), "--ws-port", str(self.ws_port),
            *self.extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        wait_for_port(self.port, self.proc)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        assert self.proc is not None
        self.proc.send_signal(signum)
        stdout, _ = self.proc.communicate(timeout=20)
        return self.proc.returncode, stdout.decode()

    def restart(self) -> NodeProcess:
        return replace(self, proc=None).start()


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Start ``aronanet serve`` as a real process; killed at the end if still running."""
    started: list[NodeProcess] = []

    def start(*extra: str) -> NodeProcess:
        config = tmp_path / "node.toml"
        config.write_text(FAST_TOML)
        for attempt in range(3):  # a free port can be taken by another process before we bind
            process = NodeProcess(tmp_path / "data", config, free_port(), free_port(), extra=extra)
            try:
                process.start()
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            started.append(process)
            return process
        raise AssertionError("unreachable")

    def track(process: NodeProcess) -> None:
        started.append(process)

    start.track = track  # type: ignore[attr-defined]
    yield start
    for process in started:
        if process.proc is not None and process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(10)
