"""Real peers for the client's integration tests: a node process and a scripted node.

``NodeProcess`` runs ``aronanet serve`` as a subprocess on 127.0.0.1 with free ports.
``ScriptedNode`` is a minimal ArTP responder on a real socket (the real ``proto.Connection``
in the SERVER role) whose replies each test scripts: it lets a test make a node send ``PING``
now, stay silent, or drop the connection mid-request, which the real node only does after
minutes or never. (A module of its own, not conftest, so tests can import it by a unique name.)
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

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto import messages
from aronanet.proto.connection import Connection, MessageReceived, Role

STARTUP_SECONDS = 20.0
#: Test-node settings: cheap password hashing, and no login throttle, since every test
#: registers fresh users from 127.0.0.1 (the node counts registrations like failed logins).
NODE_CONFIG = """\
[hashing]
time_cost = 1
memory_kib = 8192
parallelism = 1

[login_throttle]
burst = 1000000
refill_per_second = 1000000.0
"""
PASSWORD = "correct horse battery"
_names = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A user or channel name no other test on the shared node uses."""
    return f"{prefix}{os.getpid() % 1000}x{next(_names)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------- real node


@dataclass
class NodeProcess:
    """A running ``aronanet serve`` with its data directory and ports."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ws_address(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/artp"

    def start(self) -> NodeProcess:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / "node.toml"
        config.write_text(NODE_CONFIG)
        command = [
            *aronanet_command(),
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
            *self.extra_args,
        ]
        log = (self.data_dir.parent / f"{self.data_dir.name}.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_ready(log.name)
        return self

    def _wait_until_ready(self, log_path: str) -> None:
        """§5: "It is ready when the TCP port accepts connections"."""
        deadline = time.monotonic() + STARTUP_SECONDS
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited at start: {Path(log_path).read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"node not ready in {STARTUP_SECONDS} s: {Path(log_path).read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def aronanet_command() -> list[str]:
    """The ``aronanet`` command of this virtual environment."""
    return [sys.executable, "-m", "aronanet.cli"]


# ---------------------------------------------------------------------------- scripted peer


class PeerSession:
    """The server side of one connection to the scripted node."""

    def __init__(self, connection: Connection, writer: asyncio.StreamWriter) -> None:
        self.connection = connection
        self.writer = writer

    async def send(self, message: msgspec.Struct) -> None:
        self.connection.send(message)
        self.writer.write(self.connection.data_to_send())
        await self.writer.drain()

    async def drop(self) -> None:
        """Close the socket without a word, as a crashed node would."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class ScriptedNode:
    """An ArTP responder that hands each request to the test and answers only as told."""

    def __init__(self) -> None:
        self.key = X25519PrivateKey.generate()
        self.fingerprint = fingerprint(public_key_bytes(self.key))
        self.requests: asyncio.Queue[tuple[messages.Request, PeerSession]] = asyncio.Queue()
        self.sessions: list[PeerSession] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def next_request(self) -> tuple[messages.Request, PeerSession]:
        return await asyncio.wait_for(self.requests.get(), 10)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(Role.SERVER, self.key, hello=messages.Hello(node="scripted-node"))
        session = PeerSession(connection, writer)
        self.sessions.append(session)
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                connection.receive_data(data)
                for event in connection.events_received():
                    if isinstance(event, MessageReceived):
                        self.requests.put_nowait((event.message, session))  # type: ignore[arg-type]
                writer.write(connection.data_to_send())
        writer.close()
