"""ArTP/1.1 ``moderation`` in scale-out: two node processes on one PostgreSQL and one
Redis. A ban, a mute, a mode made through node A hold for sessions on node B at once
(the caches follow the change feed), and disabling an account closes its sessions on B."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from node.driver import PASSWORD, TestClient
from node.sync_support import auth, fresh_user, say

from aronanet.proto.messages import History, Join, ListChannels, PartEvent
from aronanet.proto.moderation import (
    AccountRequest,
    Ban,
    Block,
    ModerationEvent,
    Mute,
    SetMode,
    SetRole,
)
from aronanet.server.store.moderation_rows import AuditRecord
from aronanet.server.store.postgres import PostgresStore

from .cluster import ClusterNode

FEATURES = ("moderation", "lifecycle", "sync")


@pytest.fixture
async def member() -> AsyncIterator[object]:
    """``await member(node, user, channel, features=..., register=...)``: joined."""
    clients: list[TestClient] = []

    async def open_member(
        node: ClusterNode,
        user: str,
        channel: str | None,
        features: tuple[str, ...] = FEATURES,
        register: bool = True,
    ) -> TestClient:
        client = await TestClient.connect(node.port, features=features)
        clients.append(client)
        await client.ok(auth(user, PASSWORD, register=register))
        if channel is not None:
            await client.ok(Join(channel=channel))
        return client

    yield open_member
    for client in clients:
        await client.close()


async def code_of(client: TestClient, request: object) -> str:
    reply = await client.request(request)  # type: ignore[arg-type]
    return str(getattr(reply, "code", "OK"))


async def test_a_ban_on_node_a_holds_for_a_session_on_node_b(cluster, member) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    channel = f"#{fresh_user('x')}"
    owner = await member(a, fresh_user("own"), channel)
    victim_name = fresh_user("vic")
    victim = await member(b, victim_name, channel)
    victim_old = await member(b, victim_name, None, features=(), register=False)
    await owner.ok(Ban(channel=channel, user=victim_name, reason="spam"))
    event = await victim.next_event_of(ModerationEvent)
    assert (event.action, event.user, event.reason) == ("ban", victim_name, "spam")
    part = await victim_old.next_event_of(PartEvent)
    assert part.from_ == victim_name
    assert await code_of(victim, say(channel, "still here?")) == "BANNED"
    assert await code_of(victim, History(dest_type="channel", dest=channel)) == "BANNED"
    assert await code_of(victim, Join(channel=channel)) == "BANNED"
    again = await member(b, victim_name, None, register=False)  # a new session on B
    assert await code_of(again, Join(channel=channel)) == "BANNED"


async def test_mute_and_modes_made_on_a_hold_on_b(cluster, member) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    channel = f"#{fresh_user('x')}"
    owner = await member(a, fresh_user("own"), channel)
    talker_name = fresh_user("tlk")
    talker = await member(b, talker_name, channel)
    outsider = await member(b, fresh_user("out"), None)
    await talker.ok(say(channel, "warm cache on b"))
    await owner.ok(Mute(channel=channel, user=talker_name, seconds=600))
    await talker.next_event_of(ModerationEvent)
    assert await code_of(talker, say(channel, "muted?")) == "MUTED"
    await owner.ok(Mute(channel=channel, user=talker_name, seconds=0))
    await owner.ok(SetMode(channel=channel, moderated=True, invite_only=True))
    while (await talker.next_event_of(ModerationEvent)).action != "mode":
        pass
    assert await code_of(talker, say(channel, "voice?")) == "NOT_VOICED"
    await owner.ok(SetRole(channel=channel, user=talker_name, role="voiced"))
    while (await talker.next_event_of(ModerationEvent)).action != "role":
        pass
    assert await code_of(talker, say(channel, "voiced now")) == "OK"
    listed = await outsider.ok(ListChannels())
    assert channel not in [entry.name for entry in listed.channel_list]
    assert await code_of(outsider, Join(channel=channel)) == "INVITE_ONLY"


async def test_disabling_an_account_on_a_closes_its_sessions_on_b(cluster, member) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    admin_name = fresh_user("adm")
    admin = await member(a, admin_name, None)
    victim_name = fresh_user("vic")
    victim = await member(b, victim_name, None)
    assert await code_of(admin, AccountRequest(user=victim_name, disabled=True)) == "NOT_ADMIN"
    # grant through the store, as ``aronanet admin grant`` does
    store = PostgresStore(a.store_url)
    await store.open()
    try:
        await store.set_admin(
            admin_name.lower(), admin_name, True, AuditRecord(1, "admin-cli", "grant", admin_name)
        )
    finally:
        await store.close()
    await admin.ok(AccountRequest(user=victim_name, disabled=True))
    await victim.wait_closed(timeout=5)
    refused = await TestClient.connect(b.port, features=FEATURES)
    try:
        assert await code_of(refused, auth(victim_name, PASSWORD)) == "ACCOUNT_DISABLED"
    finally:
        await refused.close()


async def test_a_block_made_on_a_holds_for_dms_sent_through_b(cluster, member) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    blocker_name, pest_name = fresh_user("blk"), fresh_user("pst")
    blocker = await member(a, blocker_name, None)
    pest = await member(b, pest_name, None)
    assert await code_of(pest, say(blocker_name, "hi")) == "OK"  # b now remembers
    await blocker.ok(Block(user=pest_name, blocked=True))
    for _ in range(50):  # the change reaches b through Redis
        if await code_of(pest, say(blocker_name, "hi?")) == "BLOCKED":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("b still delivers DMs from a blocked user")
    await blocker.ok(Block(user=pest_name, blocked=False))
    for _ in range(50):
        if await code_of(pest, say(blocker_name, "sorry")) == "OK":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("b still refuses DMs after the unblock")
