"""SyncSession against a real node: device sign-in, catch-up of DMs that arrived offline,
read markers across devices, and an outbox that outlives the client process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from client_support import PASSWORD, NodeProcess, unique_name
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.connection import ArtpClient
from aronanet.client.sync_options import SyncOptions
from aronanet.client.sync_session import SyncSession

SETTLE = 20.0


def session_for(
    node: NodeProcess, user: str, config_dir: Path, *, password: bool = True
) -> SyncSession:
    session = SyncSession(
        SyncOptions(
            address=node.tcp_address,
            user=user,
            config_dir=config_dir,
            password=(lambda: PASSWORD) if password else None,
            register=password,
            retry_initial=0.05,
            retry_maximum=0.3,
        )
    )
    session.start()
    return session


async def peer(node: NodeProcess, user: str) -> ArtpClient:
    client = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
    await client.auth(user, PASSWORD, register=True)
    return client


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_dms_that_arrived_offline_are_caught_up_and_reads_reach_other_devices(
    node: NodeProcess, tmp_path: Path
) -> None:
    arona, hoshino = unique_name("arona"), unique_name("hoshino")
    await (await peer(node, arona)).close()
    sender = await peer(node, hoshino)
    sent = [await sender.send_message("user", arona, text) for text in ("one", "two")]
    tablet = session_for(node, arona, tmp_path / "tablet")
    phone = session_for(node, arona, tmp_path / "phone")
    try:
        await tablet.settle(SETTLE)
        await phone.settle(SETTLE)
        view = tablet.view("user", hoshino)
        assert view.ids == [ok.msg_id for ok in sent]
        assert view.unread == 2
        await phone.mark_read("user", hoshino)
        await eventually(lambda: tablet.view("user", hoshino).unread == 0)
        assert tablet.view("user", hoshino).read == sent[-1].msg_id
        # A later run of the same device signs in without the password.
        await tablet.close()
        again = session_for(node, arona, tmp_path / "tablet", password=False)
        await again.settle(SETTLE)
        assert again.failure is None
        await again.close()
    finally:
        await tablet.close()
        await phone.close()
        await sender.close()


async def test_a_message_queued_while_the_node_is_down_outlives_the_client_process(
    fresh_node: NodeProcess, tmp_path: Path
) -> None:
    user = unique_name("arona")
    channel = f"#{unique_name('c')}"
    joiner = await peer(fresh_node, user)
    await joiner.join(channel)
    await joiner.close()
    first = session_for(fresh_node, user, tmp_path / "device")
    await first.settle(SETTLE)
    fresh_node.stop()
    await eventually(lambda: first.client is None)
    entry = first.send("channel", channel, "typed while the node was down")
    assert first.optimistic("channel", channel) == [entry]  # shown pending meanwhile
    await first.close()  # the process "exits" with the message only on disk
    fresh_node.start()
    second = session_for(fresh_node, user, tmp_path / "device", password=False)
    try:
        await second.settle(SETTLE)
        assert [m.cid for m in second.view("channel", channel).messages.values()] == [entry.cid]
        assert entry.cid in second.acknowledged
        assert second.optimistic("channel", channel) == []
    finally:
        await second.close()
    reader = await peer(fresh_node, unique_name("reader"))
    await reader.join(channel)
    history = await reader.history("channel", channel)
    await reader.close()
    assert [(m.content, m.cid) for m in history] == [("typed while the node was down", entry.cid)]


async def test_a_node_session_without_sync_falls_back_to_the_password_and_its_channels(
    node: NodeProcess, tmp_path: Path
) -> None:
    """ArTP/1.0 behaviour when the node enables nothing: password login, no cid dedup asked
    of it, and the channels of the AUTH reply caught up (there is no CONVERSATIONS)."""
    user, channel = unique_name("old"), f"#{unique_name('c')}"
    other = await peer(node, unique_name("other"))
    await other.join(channel)
    member = await peer(node, user)
    await member.join(channel)
    await member.close()
    said = await other.send_message("channel", channel, "before the session")
    key = X25519PrivateKey.generate()

    async def connect_asking_nothing() -> ArtpClient:
        return await ArtpClient.connect(node.tcp_address, device_key=key, features=())

    options = SyncOptions(
        address=node.tcp_address, user=user, config_dir=tmp_path, password=lambda: PASSWORD
    )
    session = SyncSession(options, connector=connect_asking_nothing)
    session.start()
    try:
        await session.settle(SETTLE)
        assert session.client is not None and not session.client.syncing
        assert session.view("channel", channel).ids == [said.msg_id]
        session.send("channel", channel, "from a 1.0 session")
        await session.settle(SETTLE)
        assert len(session.view("channel", channel).ids) == 2
    finally:
        await session.close()
        await other.close()


async def test_a_refused_message_leaves_the_outbox_and_the_link_stays_up(
    node: NodeProcess, tmp_path: Path
) -> None:
    user = unique_name("arona")
    session = session_for(node, user, tmp_path / "device")
    try:
        await session.settle(SETTLE)
        refused = session.send("user", unique_name("nobody"), "hello?")
        kept = session.send("channel", f"#{unique_name('c')}", "not a member")
        await session.settle(SETTLE)
        assert session.refused == {refused.cid: "NO_SUCH_USER", kept.cid: "NOT_IN_CHANNEL"}
        assert session.sign_ins == 1  # refusals are answers, not lost links
    finally:
        await session.close()
