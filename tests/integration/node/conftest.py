"""Fixtures: a real node (in-process, or as a subprocess), and clients that speak to it."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aronanet.config import Limits
from aronanet.proto.messages import Join, MsgEvent, SendMsg
from aronanet.server.node import Node
from aronanet.server.settings import LoginThrottle, NodeSettings, PasswordHashing
from support.real_node import NodeStartError, RealNode

from .driver import TestClient
from .sync_support import (
    NODE_MODES,
    Serve,
    session,  # noqa: F401  (the fixture of the capability test files)
)

#: Argon2id at its minimum cost: the tests check behaviour, not hashing strength.
FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)
#: The default login throttle, but room for the many users a test registers from 127.0.0.1.
TEST_THROTTLE = LoginThrottle(register_burst=1000)
#: Tries at starting a node process before a port taken under our feet fails the test.
START_ATTEMPTS = 3


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "single_node(reason): a capability test that runs on one node only, never in scale "
        "mode (docs/SCALE-OUT.md §7 lists them and why)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a file whose tests run in both modes, a test that does not must say why."""
    two_modes = {item.path for item in items if "serve" in getattr(item, "fixturenames", ())}
    for item in items:
        if item.path not in two_modes or "serve" in getattr(item, "fixturenames", ()):
            continue
        marker = item.get_closest_marker("single_node")
        if marker is None or not marker.args:
            raise pytest.UsageError(
                f"{item.nodeid} runs on one node only: use the `serve` fixture (directly or "
                "through the file's node fixture), or mark it single_node(reason)"
            )


@pytest.fixture(scope="module", params=NODE_MODES)
def serve(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Serve:
    """How a capability test file runs its node: once as one ``aronanet serve`` process
    (``single``), once as a community of three on PostgreSQL + Redis (``scale``), in which
    every session a test opens lands on the next node. ``with serve(name, ...) as node``."""
    return Serve(request.param, tmp_path_factory.mktemp(request.param))


def node_settings(data_dir: Path, **limits: Any) -> NodeSettings:
    """Settings for an in-process node on free ports, with cheap hashing."""
    return NodeSettings(
        data_dir=data_dir,
        host="127.0.0.1",
        port=0,
        ws_port=0,
        web_dir=None,
        hashing=FAST_HASHING,
        login_throttle=TEST_THROTTLE,
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
        node: Node | int,
        *,
        ws: bool = False,
        handshake: bool = True,
        rcvbuf: int | None = None,
        source: str | None = None,
        features: Sequence[str] = (),
    ) -> TestClient:
        port = (node.ws_port if ws else node.tcp_port) if isinstance(node, Node) else node
        assert port is not None
        client = await TestClient.connect(
            port, ws=ws, handshake=handshake, rcvbuf=rcvbuf, source=source, features=features
        )
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


@dataclass(kw_only=True)
class NodeProcess(RealNode):
    """``aronanet serve`` as a user runs it: rate limits on unless a test says otherwise."""

    rate_limit: bool = True

    def terminate(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        """Stop with ``signum``; the exit status and everything the node printed."""
        status = self.stop(signum)
        assert status is not None, "terminate() of a node that was never started"
        return status, self.log_text()


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Start ``aronanet serve`` as a real process: ``node_process(*flags)``; stopped after.

    ``node_process.track(node)`` adds a node started otherwise (a restart) to those stopped.
    """
    started: list[NodeProcess] = []

    def start(*flags: str) -> NodeProcess:
        for attempt in range(1, START_ATTEMPTS + 1):
            process = NodeProcess(tmp_path / "data", flags=flags)
            try:
                started.append(process.start())
                return process
            except NodeStartError:  # a free port can be taken by another process before we bind
                if attempt == START_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    start.track = started.append  # type: ignore[attr-defined]
    yield start
    for process in started:
        process.stop()
