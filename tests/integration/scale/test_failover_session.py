"""Failover of the Python client library (issue 16): three node processes of one community
on loopback, a ``SyncSession`` that knows all three addresses, and the node it is on killed
with SIGKILL while other users keep talking. The session moves by itself and holds every
message exactly once in the node's order; what it typed during the outage is posted once.
And the list is pinned as one: a node with another key at one of its addresses is refused."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.community import format_address_list
from aronanet.client.connection import ArtpClient
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.client.sync_options import SyncOptions
from aronanet.client.sync_session import SyncSession
from aronanet.errors import KeyChangedError
from aronanet.proto.messages import MsgEvent
from support.real_node import unique_name

from .cluster import ClusterNode
from .community import three_nodes  # noqa: F401 - the `community` fixture

PASSWORD = "correct horse battery staple"
SETTLE = 30.0


def open_session(
    addresses: list[str], user: str, config_dir: Path, *, register: bool = False
) -> SyncSession:
    session = SyncSession(
        SyncOptions(
            address=addresses[0],
            addresses=tuple(addresses),
            user=user,
            config_dir=config_dir,
            password=lambda: PASSWORD,
            register=register,
            backfill=True,
            retry_initial=0.05,
            retry_maximum=0.5,
            timeout=5.0,
            request_timeout=5.0,  # a node that stops answering counts as lost too
        )
    )
    session.start()
    return session


async def member(node: ClusterNode, user: str, channel: str) -> ArtpClient:
    client = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
    await client.auth(user, PASSWORD, register=True)
    await client.join(channel)
    return client


async def full_history(client: ArtpClient, channel: str) -> list[MsgEvent]:
    """Every stored message of the channel, oldest first, read from the node itself."""
    page = await client.history("channel", channel, limit=200)
    found = list(page)
    while page:
        page = await client.history("channel", channel, before=found[0].id, limit=200)
        found = list(page) + found
    return found


async def eventually(condition: Callable[[], bool], seconds: float = SETTLE) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def keep_talking(client: ArtpClient, channel: str, stop: asyncio.Event) -> int:
    """Send numbered messages until ``stop``; returns how many were acknowledged."""
    sent = 0
    for number in itertools.count():
        if stop.is_set():
            return sent
        await client.send_message("channel", channel, f"{client.user} {number}")
        sent += 1
        await asyncio.sleep(0.01)
    return sent


async def test_a_session_moves_when_its_node_is_killed_with_no_gap_and_no_duplicate(
    community: list[ClusterNode], tmp_path: Path
) -> None:
    first, second, third = community
    channel, me = f"#{unique_name('fo')}", unique_name("arona")
    await (await member(second, me, channel)).close()
    talkers = [
        await member(second, unique_name("hoshino"), channel),
        await member(third, unique_name("shiroko"), channel),
    ]
    session = open_session([n.tcp_address for n in community], me, tmp_path / "device")
    stop = asyncio.Event()
    try:
        await session.settle(SETTLE)
        assert session.current_address == first.tcp_address
        talking = [asyncio.create_task(keep_talking(t, channel, stop)) for t in talkers]
        await eventually(lambda: len(session.view("channel", channel).ids) >= 20)

        first.kill()
        during = session.send("channel", channel, "typed while my node was dead")
        await eventually(lambda: session.failovers >= 1 and session.client is not None)
        assert session.current_address in (second.tcp_address, third.tcp_address)
        after = session.send("channel", channel, "typed on the new node")
        await asyncio.sleep(0.5)  # the others keep talking on the new node too
        stop.set()
        sent = sum(await asyncio.gather(*talking))
        await session.settle(SETTLE)

        stored = await full_history(talkers[0], channel)
        view = session.view("channel", channel)
        assert view.ids == [message.id for message in stored]
        assert len(set(view.ids)) == len(view.ids) == sent + 2
        mine = [m for m in stored if m.from_.casefold() == me.casefold()]
        assert [m.content for m in mine] == [during.content, after.content]
        assert [m.cid for m in mine] == [during.cid, after.cid]
        assert not session.outbox.pending()
        assert session.failovers >= 1 and session.failure is None
    finally:
        stop.set()
        await session.close()
        for talker in talkers:
            await talker.close()


async def test_a_list_pins_one_key_for_all_and_refuses_an_address_with_another(
    community: list[ClusterNode], tmp_path: Path
) -> None:
    stranger = ClusterNode(
        tmp_path / "stranger",
        store_url=community[0].store_url,
        broker_prefix=community[0].broker_prefix,
    )  # its own key: created at its first start
    stranger.data_dir.mkdir(parents=True)
    stranger.start()
    try:
        config_dir, me = tmp_path / "device", unique_name("arona")
        members = [n.tcp_address for n in community]
        registered = open_session(members, me, config_dir, register=True)
        await registered.settle(SETTLE)
        fingerprint = registered.client.fingerprint if registered.client else ""
        await registered.close()
        known = KnownNodes(ClientPaths.at(config_dir).known_nodes)
        assert known.entries() == dict.fromkeys(members, fingerprint)

        with_stranger = [stranger.tcp_address, *members]
        refused = open_session(with_stranger, me, config_dir)
        await eventually(lambda: refused.failure is not None)
        await refused.close()
        assert isinstance(refused.failure, KeyChangedError)
        assert refused.failure.address == stranger.tcp_address
        assert refused.failure.pinned == fingerprint
        assert known.lookup(stranger.tcp_address) is None

        key = X25519PrivateKey.generate()
        with pytest.raises(KeyChangedError):
            await ArtpClient.connect(
                format_address_list(with_stranger), device_key=key, known_nodes=known
            )
    finally:
        stranger.stop()
