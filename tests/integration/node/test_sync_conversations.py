"""ArTP/1.1 §14.5-14.6 against a real node: CONVERSATIONS lists every joined channel and
DM peer (also DMs that arrived while offline) with the newest message, the read marker and
unread/mention counts, paged; READ moves markers forward only and tells the other devices."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest

from aronanet.config import MAX_PLAINTEXT
from aronanet.proto.codec import encode
from aronanet.proto.messages import Conversations, Join, MarkRead, MsgEvent, Part, ReadEvent
from support.real_node import RealNode

from .sync_support import (
    Serve,
    Served,
    all_conversations,
    by_dest,
    fresh_user,
    say,
)

PAGE = 3


@pytest.fixture(scope="module")
def sync_node(serve: Serve) -> Iterator[Served]:
    with serve("conversations", limits={"conversations_page": PAGE}) as node:
        yield node


def read(dest: str, up_to: str) -> MarkRead:
    dest_type = "channel" if dest.startswith("#") else "user"
    return MarkRead(dest_type=dest_type, dest=dest, up_to=up_to)  # type: ignore[arg-type]


async def test_a_new_device_sees_channels_and_dms_that_began_offline(sync_node, session) -> None:
    me, friend, stranger = fresh_user("me"), fresh_user("fr"), fresh_user("st")
    channel = f"#{fresh_user('c')}"
    mine = await session(sync_node, me, register=True)
    await mine.ok(Join(channel=channel))
    await mine.close()  # offline from now on
    other = await session(sync_node, friend, register=True)
    dm = await other.ok(say(me, "are you there?"))
    await (await session(sync_node, stranger, register=True)).ok(say(me, "hi from a stranger"))
    new_device = await session(sync_node, me)
    listed = await all_conversations(new_device)
    assert [(c.dest_type, c.dest) for c in listed] == [
        ("channel", channel),
        *sorted((("user", friend), ("user", stranger)), key=lambda c: c[1].lower()),
    ]
    friend_dm = by_dest(listed)[friend]
    assert (friend_dm.last_id, friend_dm.last_timestamp) == (dm.msg_id, dm.timestamp)
    assert (friend_dm.unread, friend_dm.mentions, friend_dm.read) == (1, 0, friend_dm.read)
    assert not isinstance(friend_dm.read, str)  # no marker yet
    empty = by_dest(listed)[channel]
    assert (empty.unread, empty.mentions) == (0, 0)
    assert not isinstance(empty.last_id, str)  # a channel with no message yet


async def test_the_sender_lists_the_dm_too(sync_node, session) -> None:
    me, friend = fresh_user("me"), fresh_user("fr")
    await session(sync_node, friend, register=True)
    mine = await session(sync_node, me, register=True)
    sent = await mine.ok(say(friend, "hello"))
    [conversation] = await all_conversations(mine)
    assert (conversation.dest, conversation.last_id, conversation.unread) == (
        friend,
        sent.msg_id,
        0,  # one's own messages are never unread
    )


async def test_unread_and_mentions_follow_the_read_marker(sync_node, session) -> None:
    me, friend, channel = fresh_user("me"), fresh_user("fr"), f"#{fresh_user('c')}"
    mine = await session(sync_node, me, register=True)
    other = await session(sync_node, friend, register=True)
    for client in (mine, other):
        await client.ok(Join(channel=channel))
    first = await other.ok(say(channel, "morning all"))
    await other.ok(say(channel, f"@{me.upper()} did you see this?"))  # case-insensitive
    await other.ok(say(channel, f"{me}: and this"))
    await other.ok(say(channel, f"email me at x@{me}-work"))  # not followed by a name char
    await mine.ok(say(channel, f"@{me} talking to myself"))  # own: never unread
    state = by_dest(await all_conversations(mine))[channel]
    assert (state.unread, state.mentions) == (4, 2)
    await mine.ok(read(channel, first.msg_id))
    state = by_dest(await all_conversations(mine))[channel]
    assert (state.unread, state.mentions, state.read) == (3, 2, first.msg_id)
    await mine.ok(read(channel, state.last_id))
    state = by_dest(await all_conversations(mine))[channel]
    assert (state.unread, state.mentions, state.read) == (0, 0, state.last_id)


async def test_a_dm_that_mentions_the_recipient_counts_as_a_mention(sync_node, session) -> None:
    me, friend = fresh_user("me"), fresh_user("fr")
    mine = await session(sync_node, me, register=True)
    other = await session(sync_node, friend, register=True)
    await other.ok(say(me, f"{me}, lunch?"))
    await other.ok(say(me, "no mention here"))
    state = by_dest(await all_conversations(mine))[friend]
    assert (state.unread, state.mentions) == (2, 1)


async def test_paging_lists_every_conversation_once_in_order(sync_node, session) -> None:
    me = fresh_user("me")
    mine = await session(sync_node, me, register=True)
    channels = [f"#{fresh_user('p')}" for _ in range(2 * PAGE + 1)]  # under 10 new channels
    for channel in channels:
        await mine.ok(Join(channel=channel))
    peers = [fresh_user("peer") for _ in range(3)]
    for peer in peers:
        await (await session(sync_node, peer, register=True)).ok(say(me, "hi"))
    first_page = await mine.ok(Conversations())
    assert len(first_page.conversations) == PAGE and isinstance(first_page.next, str)
    listed = await all_conversations(mine)
    expected = [("channel", c) for c in sorted(channels)]
    expected += [("user", p) for p in sorted(peers, key=str.lower)]
    assert [(c.dest_type, c.dest) for c in listed] == expected


async def test_a_parted_channel_is_no_longer_listed(sync_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    mine = await session(sync_node, me, register=True)
    await mine.ok(Join(channel=channel))
    await mine.ok(Part(channel=channel))
    assert await all_conversations(mine) == []


async def test_a_cursor_the_node_did_not_give_is_invalid(sync_node, session) -> None:
    mine = await session(sync_node, fresh_user("me"), register=True)
    assert (await mine.error(Conversations(cursor="garbage"))).code == "INVALID"


async def test_read_never_moves_backwards(sync_node, session) -> None:
    me, channel = fresh_user("me"), f"#{fresh_user('c')}"
    mine = await session(sync_node, me, register=True)
    await mine.ok(Join(channel=channel))
    ids = [(await mine.ok(say(channel, f"m{n}"))).msg_id for n in range(3)]
    reply = await mine.ok(read(channel, ids[2]))
    assert (reply.dest_type, reply.dest, reply.read) == ("channel", channel, ids[2])
    lower = await mine.ok(read(channel, ids[0]))
    assert lower.read == ids[2]  # a no-op, answered with the marker as it is


async def test_read_goes_to_the_other_sync_devices_only(sync_node, session) -> None:
    me, friend, channel = fresh_user("me"), fresh_user("fr"), f"#{fresh_user('c')}"
    laptop = await session(sync_node, me, register=True)
    phone = await session(sync_node, me, ws=True)
    legacy = await session(sync_node, me, features=())
    bystander = await session(sync_node, friend, register=True)
    for client in (laptop, bystander):
        await client.ok(Join(channel=channel))
    sent = await bystander.ok(say(channel, "read me"))
    await laptop.next_event_of(MsgEvent)
    await laptop.ok(read(channel, sent.msg_id))
    event = await phone.next_event_of(ReadEvent)
    assert (event.dest_type, event.dest, event.read) == ("channel", channel, sent.msg_id)
    assert event.id and event.timestamp > 0
    await laptop.no_event(ReadEvent, wait=0.3)  # not to the session that sent it
    await legacy.no_event(ReadEvent, wait=0.3)  # not to a 1.0 session
    await bystander.no_event(ReadEvent, wait=0.3)  # not to anyone else
    await laptop.ok(read(channel, sent.msg_id))  # no move: no event
    await phone.no_event(ReadEvent, wait=0.3)
    state = by_dest(await all_conversations(phone))[channel]
    assert (state.read, state.unread) == (sent.msg_id, 0)


async def test_read_of_a_dm_names_the_peer(sync_node, session) -> None:
    me, friend = fresh_user("me"), fresh_user("fr")
    laptop = await session(sync_node, me, register=True)
    phone = await session(sync_node, me)
    sent = await (await session(sync_node, friend, register=True)).ok(say(me, "hey"))
    reply = await laptop.ok(read(friend.upper(), sent.msg_id))
    assert (reply.dest_type, reply.dest, reply.read) == ("user", friend, sent.msg_id)
    event = await phone.next_event_of(ReadEvent)
    assert (event.dest_type, event.dest) == ("user", friend)


async def test_read_refusals_are_those_of_history(sync_node, session) -> None:
    mine = await session(sync_node, fresh_user("me"), register=True)
    not_member = await mine.error(read(f"#{fresh_user('c')}", "1"))
    assert not_member.code == "NOT_IN_CHANNEL"
    assert (await mine.error(read("nobody_at_all", "1"))).code == "NO_SUCH_USER"
    channel = f"#{fresh_user('c')}"
    await mine.ok(Join(channel=channel))
    assert (await mine.error(read(channel, "e12"))).code == "INVALID"


def test_refusals_never_log_a_traceback(sync_node) -> None:
    assert "Traceback" not in sync_node.log_text()


@pytest.mark.single_node("writes 800 channels into its own stopped node's SQLite file")
async def test_a_reply_is_trimmed_to_fit_one_frame_and_paged_on(tmp_path, session) -> None:
    # 800 channels of 32-character names cannot fit one 65519-byte plaintext. They are
    # written into the node's database while it is stopped (the store is the truth; the
    # node loads memberships at start), which no channel limit of the node gets in the way of.
    me = fresh_user("me")
    channels = [f"#{n:04d}-{'x' * 27}" for n in range(800)]
    node = RealNode(tmp_path / "big", limits={"conversations_page": 2000})
    with node:
        await (await session(node, me, register=True)).close()
    with contextlib.closing(sqlite3.connect(node.data_dir / "aronanet.sqlite3")) as db, db:
        db.executemany(
            "INSERT INTO channels (name, created) VALUES (?, 1)", [(c,) for c in channels]
        )
        db.executemany(
            "INSERT INTO memberships (channel, user_key) VALUES (?, ?)",
            [(channel, me.lower()) for channel in channels],
        )
    with node:
        mine = await session(node, me)
        first = await mine.ok(Conversations())
        assert 0 < len(first.conversations) < len(channels)
        assert isinstance(first.next, str)
        assert len(encode(first)) <= MAX_PLAINTEXT
        listed = await all_conversations(mine)
        assert [c.dest for c in listed] == channels
