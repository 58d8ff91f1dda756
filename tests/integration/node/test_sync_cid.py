"""ArTP/1.1 §14.4 against a real node: a MSG with a known (sender, cid) is never posted
twice, whether resent, raced from two sessions, or resent after the node was SIGKILLed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aronanet.proto.messages import History, Join, MsgEvent, SendMsg
from support.real_node import RealNode

from .driver import TestClient
from .sync_support import Serve, Served, fresh_user, say


@pytest.fixture(scope="module")
def sync_node(serve: Serve) -> Iterator[Served]:
    with serve("cid") as node:
        yield node


def new_cid() -> str:
    """What clients use: 128 random bits, base64url (22 characters)."""
    return secrets.token_urlsafe(16)


@dataclass
class Room:
    """A channel with a sender (two sessions of one user) and a listener."""

    channel: str
    sender: str
    first: TestClient
    second: TestClient
    other: TestClient


async def channel_of_two(node: Served, session) -> Room:
    sender, listener, channel = fresh_user("s"), fresh_user("l"), f"#{fresh_user('c')}"
    first = await session(node, sender, register=True)
    second = await session(node, sender)
    other = await session(node, listener, register=True)
    for client in (first, other):
        await client.ok(Join(channel=channel))
    return Room(channel, sender, first, second, other)


async def contents(client, channel: str) -> list[str]:
    page = await client.ok(History(dest_type="channel", dest=channel, limit=200))
    return [m.content for m in page.messages]


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_a_resend_returns_the_original_ok_and_posts_nothing(sync_node, session, ws) -> None:
    sender, listener, channel = fresh_user("s"), fresh_user("l"), f"#{fresh_user('c')}"
    client = await session(sync_node, sender, register=True, ws=ws)
    other = await session(sync_node, listener, register=True)
    for member in (client, other):
        await member.ok(Join(channel=channel))
    cid = new_cid()
    first = await client.ok(say(channel, "ok", cid=cid))
    event = await other.next_event_of(MsgEvent)
    assert (event.id, event.cid) == (first.msg_id, cid)  # the cid rides on the event
    again = await client.ok(say(channel, "ok", cid=cid))
    assert (again.msg_id, again.timestamp, again.duplicate) == (
        first.msg_id,
        first.timestamp,
        True,
    )
    assert first.duplicate is not True
    await other.no_event(MsgEvent, wait=0.5)
    assert await contents(other, channel) == ["ok"]


async def test_two_identical_messages_with_different_cids_are_two(sync_node, session) -> None:
    room = await channel_of_two(sync_node, session)
    channel, client, other = room.channel, room.first, room.other
    one = await client.ok(say(channel, "ok", cid=new_cid()))
    two = await client.ok(say(channel, "ok", cid=new_cid()))
    assert one.msg_id != two.msg_id
    assert await contents(other, channel) == ["ok", "ok"]


async def test_the_same_cid_from_another_user_is_another_message(sync_node, session) -> None:
    room = await channel_of_two(sync_node, session)
    channel, client, other = room.channel, room.first, room.other
    cid = new_cid()
    mine = await client.ok(say(channel, "mine", cid=cid))
    theirs = await other.ok(say(channel, "theirs", cid=cid))
    assert mine.msg_id != theirs.msg_id and theirs.duplicate is not True


async def test_the_cid_reaches_the_senders_other_session_and_history(sync_node, session) -> None:
    room = await channel_of_two(sync_node, session)
    channel, client, second = room.channel, room.first, room.second
    cid = new_cid()
    sent = await client.ok(say(channel, "matched", cid=cid))
    event = await second.next_event_of(MsgEvent)
    assert (event.id, event.cid) == (sent.msg_id, cid)
    page = await second.ok(History(dest_type="channel", dest=channel))
    assert [(m.id, m.cid) for m in page.messages] == [(sent.msg_id, cid)]


async def test_concurrent_duplicates_on_two_sessions_make_one_message(sync_node, session) -> None:
    room = await channel_of_two(sync_node, session)
    channel, first, second, other = room.channel, room.first, room.second, room.other
    for _ in range(5):
        cid = new_cid()
        replies = await asyncio.gather(
            first.ok(say(channel, f"race {cid}", cid=cid)),
            second.ok(say(channel, f"race {cid}", cid=cid)),
        )
        assert len({(r.msg_id, r.timestamp) for r in replies}) == 1
        assert sorted(r.duplicate is True for r in replies) == [False, True]
    assert len(await contents(other, channel)) == 5


async def test_a_dm_resend_is_deduplicated_too(sync_node, session) -> None:
    alice, bob = fresh_user("a"), fresh_user("b")
    client = await session(sync_node, alice, register=True)
    peer = await session(sync_node, bob, register=True)
    cid = new_cid()
    first = await client.ok(say(bob, "psst", cid=cid))
    again = await client.ok(say(bob, "psst", cid=cid))
    assert (again.msg_id, again.duplicate) == (first.msg_id, True)
    page = await peer.ok(History(dest_type="user", dest=alice))
    assert [m.content for m in page.messages] == ["psst"]


@pytest.mark.parametrize("cid", ["", "x" * 65, "has space", "naïve", "new\nline"])
async def test_a_malformed_cid_is_invalid(sync_node, session, cid) -> None:
    room = await channel_of_two(sync_node, session)
    request = SendMsg(dest_type="channel", dest=room.channel, content="x", cid=cid)
    refused = await room.first.error(request)
    assert refused.code == "INVALID"


async def test_a_cid_of_64_characters_is_accepted(sync_node, session) -> None:
    room = await channel_of_two(sync_node, session)
    sent = await room.first.ok(say(room.channel, "long id", cid="A-_9" * 16))
    assert sent.duplicate is not True


@pytest.mark.single_node("SIGKILLs and restarts its node: the scale chaos test kills nodes")
async def test_a_resend_after_sigkill_and_restart_is_still_deduplicated(tmp_path, session) -> None:
    node = RealNode(tmp_path / "killed")
    with node:
        room = await channel_of_two(node, session)
        channel, cid = room.channel, new_cid()
        first = await room.first.ok(say(channel, "survives", cid=cid))
        node.kill()  # §3: an acknowledged message survives SIGKILL; so does its cid
        node.start()
        again_client = await session(node, room.sender, key=room.first.key, password=None)
        again = await again_client.ok(say(channel, "survives", cid=cid))
        assert (again.msg_id, again.timestamp, again.duplicate) == (
            first.msg_id,
            first.timestamp,
            True,
        )
        assert await contents(again_client, channel) == ["survives"]
