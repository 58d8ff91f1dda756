"""Real peers for the client's integration tests: a node process and a scripted node.

``NodeProcess`` runs ``aronanet serve`` as a subprocess on 127.0.0.1 with free ports
(``support.real_node.RealNode``).
``ScriptedNode`` is a minimal ArTP responder on a real socket (the real ``proto.Connection``
in the SERVER role) whose replies each test scripts: it lets a test make a node send ``PING``
now, stay silent, or drop the connection mid-request, which the real node only does after
minutes or never. (A module of its own, not conftest, so tests can import it by a unique name.)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import InitVar, dataclass

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.identity import fingerprint, public_key_bytes
from aronanet.proto import messages
from aronanet.proto.connection import Connection, MessageReceived, Role
from support.real_node import RealNode, aronanet_command, free_port, unique_name

__all__ = [
    "PASSWORD",
    "NodeProcess",
    "PeerSession",
    "ScriptedNode",
    "aronanet_command",
    "free_port",
    "unique_name",
]

PASSWORD = "correct horse battery"


# ---------------------------------------------------------------------------- real node


@dataclass(kw_only=True)
class NodeProcess(RealNode):
    """The real node of the client tests, rate limits off; ``extra_args`` are more flags."""

    extra_args: InitVar[tuple[str, ...]] = ()

    def __post_init__(self, extra_args: tuple[str, ...]) -> None:
        self.flags = (*self.flags, *extra_args)


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
