"""The Python client library's ``lifecycle`` (§14.9-14.14) against a real node: the
``ArtpClient`` requests, and a ``SyncSession`` whose views follow EDIT/DELETE/REACTION and
TYPING live, and catch up with ``CHANGES`` what changed while it was offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from client_support import PASSWORD, NodeProcess, unique_name
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from test_sync_session import SETTLE, eventually, peer, session_for

from aronanet.client.connection import ArtpClient
from aronanet.client.conversation_view import conversation_key
from aronanet.errors import ClientError
from aronanet.proto.lifecycle import EditEvent, ReactionEvent


async def test_the_client_requests_and_events(node: NodeProcess) -> None:
    author, reader = unique_name("au"), unique_name("re")
    channel = f"#{unique_name('c')}"
    mine, theirs = await peer(node, author), await peer(node, reader)
    try:
        assert mine.lifecycle and theirs.lifecycle
        for client in (mine, theirs):
            await client.join(channel)
        sent = await mine.send_message("channel", channel, "hello wrold")
        assert isinstance(sent.msg_id, str)
        answer = await theirs.send_message("channel", channel, "hi", reply_to=sent.msg_id)
        edited = await mine.edit(sent.msg_id, "hello world")
        assert isinstance(edited.edited, int)
        events = theirs.events()
        async for event in events:
            if isinstance(event, EditEvent):
                assert event.content == "hello world"
                break
        assert (await theirs.react(sent.msg_id, "👍")).count == 1
        assert (await theirs.react(sent.msg_id, "👍", add=False)).count == 0
        await mine.typing("channel", channel)
        around = await theirs.history("channel", channel, around=answer.msg_id, limit=2)
        assert [m.id for m in around] == [sent.msg_id, answer.msg_id]
        assert around[1].reply is not None and around[1].reply.content == "hello world"
        page, rev, more = await theirs.changes("channel", channel, "0")
        assert [m.id for m in page] == [answer.msg_id, sent.msg_id] and not more
        assert (await theirs.changes("channel", channel, rev))[0] == []
        with pytest.raises(ClientError) as refused:
            await theirs.delete(sent.msg_id)
        assert refused.value.code == "NOT_AUTHOR"
        await mine.delete(sent.msg_id)
    finally:
        await mine.close()
        await theirs.close()


async def test_a_sync_session_follows_changes_live_and_after_a_gap(
    node: NodeProcess, tmp_path: Path
) -> None:
    me, friend = unique_name("me"), unique_name("fr")
    channel = f"#{unique_name('c')}"
    other = await peer(node, friend)
    await other.join(channel)  # the friend creates (owns) the channel: we may not delete theirs
    joiner = await peer(node, me)
    await joiner.join(channel)
    await joiner.close()
    first = await other.send_message("channel", channel, "first")
    second = await other.send_message("channel", channel, "second")
    assert isinstance(first.msg_id, str) and isinstance(second.msg_id, str)
    session = session_for(node, me, tmp_path / "device")
    try:
        await session.settle(SETTLE)
        view = session.view("channel", channel)
        assert view.ids == [first.msg_id, second.msg_id]
        # Live: an edit and a reaction change the held message.
        await other.edit(first.msg_id, "first, edited")
        await other.react(first.msg_id, "🎉")
        await eventually(lambda: session.view("channel", channel).messages[first.msg_id].reactions)
        held = session.view("channel", channel).messages[first.msg_id]
        assert held.content == "first, edited" and held.reactions[0].emoji == "🎉"
        await other.typing("channel", channel)
        key = conversation_key("channel", channel)
        await eventually(lambda: session.typing.who(key) == [friend])
        # Our own reply, then our own edit and delete through the session.
        session.send("channel", channel, "a reply", reply_to=second.msg_id)
        await session.settle(SETTLE)
        [mine_id] = [
            i
            for i in session.view("channel", channel).ids
            if i not in (first.msg_id, second.msg_id)
        ]
        assert session.view("channel", channel).messages[mine_id].reply.id == second.msg_id
        await session.edit("channel", channel, mine_id, "a better reply")
        assert session.view("channel", channel).messages[mine_id].content == "a better reply"
        await session.react("channel", channel, first.msg_id, "👍")
        [party, thumbs] = session.view("channel", channel).messages[first.msg_id].reactions
        assert (party.emoji, thumbs.emoji, thumbs.count, thumbs.users) == ("🎉", "👍", 1, [me])
        doomed = await other.send_message("channel", channel, "doomed")
        await eventually(lambda: doomed.msg_id in session.view("channel", channel).messages)
        with pytest.raises(ClientError):
            await session.delete("channel", channel, str(doomed.msg_id))  # not ours
        # A gap: changes while offline arrive with the next catch-up (CHANGES).
        await session.close()
        await other.delete(second.msg_id)
        await other.edit(first.msg_id, "edited while you were away")
        again = session_for(node, me, tmp_path / "device", password=False)
        try:
            await again.settle(SETTLE)
            held = again.view("channel", channel).messages
            assert held[second.msg_id].content == "" and isinstance(
                held[second.msg_id].deleted, int
            )
            assert held[mine_id].reply.deleted is True
            assert held[first.msg_id].content == "edited while you were away"
        finally:
            await again.close()
    finally:
        await session.close()
        await other.close()


async def test_reactions_from_two_devices_count_once(node: NodeProcess) -> None:
    user, watcher = unique_name("two"), unique_name("wa")
    phone = await peer(node, user)
    tablet = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
    await tablet.auth(user, PASSWORD)
    other = await peer(node, watcher)
    try:
        sent = await other.send_message("user", user, "react to this")
        assert isinstance(sent.msg_id, str)
        assert (await phone.react(sent.msg_id, "❤️")).count == 1
        assert (await tablet.react(sent.msg_id, "❤️")).count == 1
        async for event in other.events():
            if isinstance(event, ReactionEvent):
                assert (event.count, event.from_) == (1, user)
                break
    finally:
        for client in (phone, tablet, other):
            await client.close()
