"""In-memory client/server Connection pairs for the sans-I/O tests (no sockets needed)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.proto.connection import Connection, ConnectionEvent, Role
from aronanet.proto.messages import Hello, HelloLimits

HELLO = Hello(node="arona-test", limits=HelloLimits())


def fixed_key(seed: int) -> X25519PrivateKey:
    """A deterministic key, so handshake bytes are reproducible in literal-byte tests."""
    return X25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def make_pair(
    *, framed: bool = True, client_name: str | None = None
) -> tuple[Connection, Connection]:
    client = Connection(
        Role.CLIENT,
        fixed_key(1),
        framed=framed,
        client_name=client_name,
        ephemeral_key=fixed_key(2),
    )
    server = Connection(
        Role.SERVER, fixed_key(3), framed=framed, hello=HELLO, ephemeral_key=fixed_key(4)
    )
    return client, server


def transfer(sender: Connection, receiver: Connection) -> None:
    """Move everything ``sender`` has queued into ``receiver``, in its own transport's unit."""
    if not receiver.framed:
        for message in sender.messages_to_send():
            receiver.receive_message(message)
    else:
        receiver.receive_data(sender.data_to_send())


def open_pair(*, framed: bool = True) -> tuple[Connection, Connection]:
    """A pair that completed the handshake, with the HandshakeComplete events drained."""
    client, server = make_pair(framed=framed)
    transfer(client, server)
    transfer(server, client)
    transfer(client, server)
    client.events_received()
    server.events_received()
    return client, server


def only_event(connection: Connection) -> ConnectionEvent:
    events = connection.events_received()
    assert len(events) == 1, events
    return events[0]
