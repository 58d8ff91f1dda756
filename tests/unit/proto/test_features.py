"""§14.1 feature negotiation, sans-I/O: message 1's payload and HELLO.features."""

from __future__ import annotations

import pytest

from aronanet.proto.connection import Connection, HandshakeComplete, Role
from aronanet.proto.features import (
    ClientPayload,
    client_payload,
    negotiate,
    parse_client_payload,
)

from .connection_pair import HELLO, fixed_key, transfer


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", ClientPayload()),
        (b'{"client":"x/1"}', ClientPayload("x/1")),
        (b'{"client":"x/1","features":["sync","batch"]}', ClientPayload("x/1", {"sync", "batch"})),
        (b'{"features":["sync",7,null,["x"]]}', ClientPayload(None, frozenset({"sync"}))),
        (b'{"features":"sync"}', ClientPayload()),  # not a list: nothing asked
        (b'{"client":5}', ClientPayload()),
        (b"[1,2]", ClientPayload()),
        (b"not json", ClientPayload()),
        (b"\xff\xfe", ClientPayload()),
        (b"[" * 100_000, ClientPayload()),
    ],
)
def test_message_1_payloads_are_read_defensively(payload: bytes, expected: ClientPayload) -> None:
    parsed = parse_client_payload(payload)
    assert (parsed.client, parsed.features) == (expected.client, frozenset(expected.features))


def test_a_client_with_nothing_to_say_sends_an_empty_payload() -> None:
    assert client_payload(None) == b""
    assert client_payload("x/1") == b'{"client":"x/1"}'
    assert client_payload(None, ["sync", "batch", "sync"]) == b'{"features":["batch","sync"]}'


def test_features_are_those_asked_and_supported_sorted() -> None:
    assert negotiate({"sync", "batch", "nope"}, {"sync", "batch"}) == ("batch", "sync")
    assert negotiate((), {"sync"}) == ()


@pytest.mark.parametrize(
    ("asked", "supported", "enabled"),
    [
        ((), {"sync"}, []),
        (("sync",), {"sync"}, ["sync"]),
        (("sync", "batch", "zzz"), {"sync"}, ["sync"]),
        (("sync",), set(), []),
    ],
)
def test_the_handshake_negotiates_features_on_both_sides(asked, supported, enabled) -> None:
    client = Connection(Role.CLIENT, fixed_key(1), features=asked, client_name="t/1")
    server = Connection(Role.SERVER, fixed_key(3), hello=HELLO, features=supported)
    transfer(client, server)
    transfer(server, client)
    transfer(client, server)
    [opened] = client.events_received()
    [accepted] = server.events_received()
    assert isinstance(opened, HandshakeComplete) and isinstance(accepted, HandshakeComplete)
    assert opened.hello is not None and opened.hello.features == enabled
    assert opened.features == accepted.features == frozenset(enabled)
    assert accepted.client == "t/1"
    assert HELLO.features == []  # the node's template is not changed per session
