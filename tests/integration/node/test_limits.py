"""Every limit at its edge: timeouts, keep-alive, connections per address, rate limits."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from aronanet.errors import ErrorCode
from aronanet.proto.connection import Connection
from aronanet.proto.messages import Auth, History, Join, Ping, PingEvent, Pong, PongReply, SendMsg
from aronanet.transport.base import Stream

from .conftest import node_settings
from .driver import PASSWORD


async def test_a_silent_connection_is_closed_after_the_handshake_timeout(start_node, connect):
    node = await start_node(handshake_timeout=0.3)
    client = await connect(node, handshake=False)
    await client.wait_closed()
    assert client.hello is None


async def test_a_handshake_left_unfinished_is_closed_after_the_timeout(start_node, connect):
    node = await start_node(handshake_timeout=0.3)
    client = await connect(node, handshake=False)
    await client.pipe.write(client.conn.data_to_send())  # message 1 only, never message 3
    client.flush = _never  # type: ignore[method-assign]
    await client.wait_closed()


async def _never() -> None:
    return None


async def test_an_idle_session_gets_ping_and_stays_open_while_it_answers(start_node, connect):
    node = await start_node(idle_ping_after=0.2, idle_close_after=0.6)
    client = await connect(node)
    for _ in range(3):  # three pings answered: well past the close timeout, still open
        ping = await client.next_event()
        assert isinstance(ping, PingEvent)
        await client.send(Pong(re=ping.id))
    assert isinstance(await client.request(Ping()), PongReply)


async def test_a_session_that_stays_silent_is_closed(start_node, connect):
    node = await start_node(idle_ping_after=0.2, idle_close_after=0.5)
    client = await connect(node)
    assert isinstance(await client.next_event(), PingEvent)
    await client.wait_closed()


@pytest.mark.parametrize("limit", ["max_connections_per_address", "max_connections"])
async def test_connections_are_limited_at_the_edge(start_node, connect, limit):
    """Per address, and on the whole node (every test client comes from 127.0.0.1)."""
    node = await start_node(**{limit: 3})
    allowed = [await connect(node) for _ in range(3)]
    refused = await connect(node, handshake=False)
    await refused.flush()
    await refused.wait_closed()
    assert refused.hello is None
    await allowed[0].close()
    await asyncio.sleep(0.05)  # let the node see the close
    replacement = await connect(node)
    assert replacement.hello is not None


async def test_rate_limit_allows_the_burst_then_says_retry_after_and_drops(start_node, connect):
    node = await start_node(rate_messages_per_second=0.5, rate_burst=3)
    client = await connect(node)
    await client.login("chatty")
    await client.ok(Join(channel="#rate"))  # spends one of the three tokens
    for n in range(2):
        await client.ok(SendMsg(dest_type="channel", dest="#rate", content=f"ok {n}"))
    error = await client.error(SendMsg(dest_type="channel", dest="#rate", content="dropped"))
    assert error.code == ErrorCode.RATE_LIMITED
    assert isinstance(error.retry_after_ms, int) and 0 < error.retry_after_ms <= 2000
    history = await client.ok(History(dest_type="channel", dest="#rate"))
    assert [m.content for m in history.messages] == ["ok 0", "ok 1"]


async def test_rate_limit_off_lets_a_flood_through(node, connect):
    client = await connect(node)
    await client.login("flood")
    await client.ok(Join(channel="#rate"))
    for n in range(40):
        await client.ok(SendMsg(dest_type="channel", dest="#rate", content=f"m{n}"))


async def test_closed_registration_refuses_new_accounts(tmp_path, start_node, connect):
    settings = replace(node_settings(tmp_path / "closed"), registration_open=False)
    node = await start_node(settings)
    client = await connect(node)
    error = await client.error(Auth(user="newcomer", password=PASSWORD, register=True))
    assert error.code == ErrorCode.REGISTRATION_CLOSED


async def test_repeated_failed_logins_are_throttled(node, connect):
    client = await connect(node)
    codes = [
        (await client.error(Auth(user="victim", password="guess number one"))).code
        for _ in range(12)
    ]
    assert codes[0] == ErrorCode.AUTH_FAILED
    assert codes[-1] == ErrorCode.RATE_LIMITED


class PeerStream(Stream):
    """An accepted connection from ``peer_host`` that carries nothing: the node's own accept
    path decides, without a socket (this machine has no IPv6 network to connect from)."""

    framed = True

    def __init__(self, peer_host: str) -> None:
        self.peer_host = peer_host

    def send_pending(self, conn: Connection) -> bool:
        return True

    def backlog_fill(self) -> float:
        return 0.0

    def backlog_bytes(self) -> int:
        return 0

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


async def test_an_ipv6_slash_64_counts_as_one_address(start_node):
    node = await start_node(max_connections_per_address=2)
    accept = node._accept
    first = accept(PeerStream("2001:db8:1:2::10"))
    second = accept(PeerStream("2001:db8:1:2:ffff:ffff:ffff:fffe"))
    assert first is not None and second is not None
    assert accept(PeerStream("2001:db8:1:2::99")) is None  # the same /64, already at 2
    neighbour = accept(PeerStream("2001:db8:1:3::10"))  # the next /64 is another client
    assert neighbour is not None
    first.abort("done")  # a closed session gives its place back to its /64
    third = accept(PeerStream("2001:db8:1:2::99"))
    assert third is not None
    for session in (second, neighbour, third):
        session.abort("done")
