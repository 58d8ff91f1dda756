"""ArTP/1.1 sync in scale-out: two node processes on one PostgreSQL and one Redis, with the
two devices of one user on DIFFERENT nodes. Devices, revocation, cid dedup, conversations
and READ events must behave as on one node."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from node.driver import PASSWORD, TestClient
from node.sync_support import all_conversations, auth, by_dest, fresh_user, say

from aronanet.proto.messages import (
    ChangePassword,
    DeviceRevoke,
    History,
    Join,
    MarkRead,
    MsgEvent,
    ReadEvent,
)

from .cluster import ClusterNode


@pytest.fixture
async def device() -> AsyncIterator[object]:
    """``await device(node, user, key=..., password=..., register=...)``: a ``sync`` session."""
    clients: list[TestClient] = []

    async def open_device(
        node: ClusterNode,
        user: str,
        *,
        key: X25519PrivateKey | None = None,
        password: str | None = PASSWORD,
        register: bool = False,
        features: tuple[str, ...] = ("sync",),
    ) -> TestClient:
        client = await TestClient.connect(node.port, key=key, features=features)
        clients.append(client)
        await client.ok(auth(user, password, register=register))
        return client

    yield open_device
    for client in clients:
        await client.close()


async def test_a_device_recorded_on_one_node_signs_in_on_the_other(cluster, device) -> None:
    a, b = cluster
    user, key = fresh_user(), X25519PrivateKey.generate()
    await device(a, user, key=key, register=True)
    signed_in = await device(b, user, key=key, password=None)
    assert (await signed_in.ok(History(dest_type="user", dest=user))).messages == []


async def test_revoking_closes_the_devices_session_on_the_other_node(cluster, device) -> None:
    a, b = cluster
    user, channel, phone_key = fresh_user(), f"#{fresh_user('c')}", X25519PrivateKey.generate()
    laptop = await device(a, user, register=True)
    phone = await device(b, user, key=phone_key)
    await laptop.ok(DeviceRevoke(device=phone.fingerprint_of_key()))
    await phone.wait_closed(timeout=3.0)
    await laptop.ok(Join(channel=channel))
    refused = await (await TestClient.connect(b.port, key=phone_key, features=["sync"])).error(
        auth(user, None)
    )
    assert refused.code == "AUTH_FAILED"


async def test_a_password_change_closes_other_devices_on_the_other_node(cluster, device) -> None:
    a, b = cluster
    user = fresh_user()
    here = await device(a, user, register=True)
    there = await device(b, user)
    legacy = await device(b, user, features=())
    await here.ok(ChangePassword(old=PASSWORD, new="the new passphrase"))
    await there.wait_closed(timeout=3.0)
    await legacy.wait_closed(timeout=3.0)


async def test_the_same_cid_sent_through_both_nodes_at_once_is_one_message(cluster, device) -> None:
    a, b = cluster
    user, listener, channel = fresh_user(), fresh_user(), f"#{fresh_user('c')}"
    on_a = await device(a, user, register=True)
    on_b = await device(b, user)
    other = await device(a, listener, register=True)
    for client in (on_a, other):
        await client.ok(Join(channel=channel))
    for n in range(5):
        cid = secrets.token_urlsafe(16)
        replies = await asyncio.gather(
            on_a.ok(say(channel, f"m{n}", cid=cid)), on_b.ok(say(channel, f"m{n}", cid=cid))
        )
        assert replies[0].msg_id == replies[1].msg_id
        assert sorted(r.duplicate is True for r in replies) == [False, True]
    page = await other.ok(History(dest_type="channel", dest=channel))
    assert [m.content for m in page.messages] == [f"m{n}" for n in range(5)]


async def test_read_on_one_node_reaches_the_device_on_the_other(cluster, device) -> None:
    a, b = cluster
    me, friend, channel = fresh_user(), fresh_user(), f"#{fresh_user('c')}"
    laptop = await device(a, me, register=True)
    phone = await device(b, me)
    other = await device(b, friend, register=True)
    for client in (laptop, other):
        await client.ok(Join(channel=channel))
    sent = await other.ok(say(channel, f"@{me} look"))
    await laptop.next_event_of(MsgEvent)
    before = by_dest(await all_conversations(phone))[channel]
    assert (before.unread, before.mentions) == (1, 1)
    await laptop.ok(MarkRead(dest_type="channel", dest=channel, up_to=sent.msg_id))
    event = await phone.next_event_of(ReadEvent)
    assert (event.dest, event.read) == (channel, sent.msg_id)
    after = by_dest(await all_conversations(phone))[channel]
    assert (after.unread, after.mentions, after.read) == (0, 0, sent.msg_id)
    await other.no_event(ReadEvent, wait=0.3)


async def test_a_dm_sent_through_one_node_is_listed_on_the_other(cluster, device) -> None:
    a, b = cluster
    me, friend = fresh_user(), fresh_user()
    await (await device(a, me, register=True)).close()
    sent = await (await device(a, friend, register=True)).ok(say(me, "while you were out"))
    listed = await all_conversations(await device(b, me))
    assert [(c.dest_type, c.dest, c.last_id, c.unread) for c in listed] == [
        ("user", friend, sent.msg_id, 1)
    ]
