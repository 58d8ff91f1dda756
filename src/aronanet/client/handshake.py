"""Opening a session: transport, Noise XX handshake, and trust on first use.

ArTP/1.0 §2: the node's static key is its identity; "Clients pin it on first use per address
and MUST refuse, loudly, a changed key unless the user accepts it." A changed key is refused
before the client sends handshake message 3, which carries the client's own static key, so
an impostor learns nothing about the device. A new node is asked about after message 3: the
node closes a handshake that takes more than 10 s, and a person may take longer to decide.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.address import NodeAddress
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.transport import Transport, open_transport
from aronanet.errors import ClientError
from aronanet.proto import messages
from aronanet.proto.connection import (
    Connection,
    ConnectionEvent,
    ConnectionFailed,
    HandshakeComplete,
    Role,
)

#: Asked ``(address, fingerprint)`` when a node is seen for the first time; True pins it.
TrustCallback = Callable[[str, str], bool | Awaitable[bool]]


@dataclass(frozen=True)
class Session:
    """An open, verified connection, ready to carry requests."""

    transport: Transport
    connection: Connection
    hello: messages.Hello
    fingerprint: str
    #: Connection events that arrived in the same read as the end of the handshake.
    leftover_events: list[ConnectionEvent]


async def open_session(
    address: NodeAddress,
    *,
    device_key: X25519PrivateKey,
    known_nodes: KnownNodes | None,
    trust_new: TrustCallback | None,
    client_name: str,
    timeout: float,
    features: Sequence[str] = (),
) -> Session:
    """Connect, handshake and verify the node's key; close everything on any failure."""
    transport = await open_transport(address, timeout)
    try:
        connection = Connection(
            Role.CLIENT,
            device_key,
            framed=transport.framed,
            client_name=client_name,
            features=features,
        )
        complete, leftover = await _handshake(transport, connection, address, timeout)
        pinned = known_nodes.check(str(address), complete.fingerprint) if known_nodes else "new"
        await _send_final_message(transport, connection, address)
        if pinned == "new":
            await _accept_new_node(str(address), complete.fingerprint, known_nodes, trust_new)
        hello = complete.hello or connection.hello
        if hello is None:
            raise ClientError("HANDSHAKE", f"{address} sent no HELLO in its handshake")
        return Session(transport, connection, hello, complete.fingerprint, leftover)
    except BaseException:
        await transport.close()
        raise


async def _handshake(
    transport: Transport, connection: Connection, address: NodeAddress, timeout: float
) -> tuple[HandshakeComplete, list[ConnectionEvent]]:
    """Send message 1 and read until message 2 is processed (message 3 is then queued)."""
    try:
        async with asyncio.timeout(timeout):
            await transport.flush(connection)
            while await transport.feed(connection):
                events = connection.events_received()
                for index, event in enumerate(events):
                    if isinstance(event, HandshakeComplete):
                        return event, events[index + 1 :]
                    if isinstance(event, ConnectionFailed):
                        raise ClientError(
                            "HANDSHAKE", f"handshake with {address} failed: {event.reason}"
                        )
    except TimeoutError:
        raise ClientError(
            "HANDSHAKE",
            f"no handshake reply from {address} within {timeout:g} s; is it an ArTP node?",
        ) from None
    except OSError as exc:
        raise ClientError("HANDSHAKE", f"lost {address} during the handshake ({exc})") from exc
    raise ClientError(
        "HANDSHAKE", f"{address} closed the connection during the handshake; is it an ArTP node?"
    )


async def _send_final_message(
    transport: Transport, connection: Connection, address: NodeAddress
) -> None:
    try:
        await transport.flush(connection)
    except OSError as exc:
        raise ClientError("HANDSHAKE", f"lost {address} during the handshake ({exc})") from exc


async def _accept_new_node(
    address: str,
    fingerprint: str,
    known_nodes: KnownNodes | None,
    trust_new: TrustCallback | None,
) -> None:
    """Ask ``trust_new`` (None accepts) about a first-seen node, then pin it."""
    if trust_new is not None:
        answer = trust_new(address, fingerprint)
        if inspect.isawaitable(answer):
            answer = await answer
        if not answer:
            raise ClientError("UNTRUSTED", f"the key {fingerprint} of {address} was not accepted")
    if known_nodes is not None:
        known_nodes.pin(address, fingerprint)
