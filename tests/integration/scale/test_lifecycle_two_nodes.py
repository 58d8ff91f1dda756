"""ArTP/1.1 ``lifecycle`` in scale-out: two node processes on one PostgreSQL and one Redis.
EDIT, DELETE, REACTION and TYPING events cross nodes through the broker (to ``lifecycle``
sessions only), and changes made through one node are what the other reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from node.driver import PASSWORD, TestClient
from node.sync_support import auth, fresh_user, say

from aronanet.proto.lifecycle import (
    Changes,
    Delete,
    DeleteEvent,
    Edit,
    EditEvent,
    React,
    ReactionEvent,
    Typing,
    TypingEvent,
)
from aronanet.proto.messages import History, Join, MsgEvent

from .cluster import ClusterNode


@pytest.fixture
async def member() -> AsyncIterator[object]:
    """``await member(node, user, channel, features=...)``: a session that joined."""
    clients: list[TestClient] = []

    async def open_member(
        node: ClusterNode, user: str, channel: str, features: tuple[str, ...] = ("lifecycle",)
    ) -> TestClient:
        client = await TestClient.connect(node.port, features=features)
        clients.append(client)
        await client.ok(auth(user, PASSWORD, register=True))
        await client.ok(Join(channel=channel))
        return client

    yield open_member
    for client in clients:
        await client.close()


async def test_lifecycle_events_cross_nodes_and_skip_1_0_sessions(cluster, member) -> None:  # type: ignore[no-untyped-def]
    a, b = cluster
    channel = f"#{fresh_user('x')}"
    author = await member(a, fresh_user("au"), channel)
    reader = await member(b, fresh_user("re"), channel)
    old = await member(b, fresh_user("old"), channel, features=())
    sent = await author.ok(say(channel, "across nodes"))
    assert isinstance(sent.msg_id, str)
    for client in (reader, old):
        await client.next_event_of(MsgEvent)
    await author.ok(Edit(msg_id=sent.msg_id, content="edited across"))
    assert (await reader.next_event_of(EditEvent)).content == "edited across"
    await reader.ok(React(msg_id=sent.msg_id, emoji="👍"))
    assert (await author.next_event_of(ReactionEvent)).count == 1
    await author.ok(Typing(dest_type="channel", dest=channel, typing=True))
    assert (await reader.next_event_of(TypingEvent)).typing is True
    await author.ok(Delete(msg_id=sent.msg_id))
    assert (await reader.next_event_of(DeleteEvent)).msg_id == sent.msg_id
    await author.ok(say(channel, "sentinel"))
    sentinel = await old.next_event()  # nothing of the above reached the 1.0 session
    assert isinstance(sentinel, MsgEvent) and sentinel.content == "sentinel"
    history = await old.ok(History(dest_type="channel", dest=channel))
    assert [(m.content, isinstance(m.deleted, int)) for m in history.messages] == [
        ("", True),
        ("sentinel", False),
    ]
    changes = await reader.ok(Changes(dest_type="channel", dest=channel, since="0"))
    assert [m.content for m in changes.messages] == ["", "sentinel"]  # rev order


async def test_a_delete_on_one_node_racing_an_edit_on_the_other_stays_deleted(
    cluster,  # type: ignore[no-untyped-def]
    member,
) -> None:
    a, b = cluster
    channel, user = f"#{fresh_user('r')}", fresh_user("au")
    here = await member(a, user, channel)
    there = await TestClient.connect(b.port, features=("lifecycle",))
    try:
        await there.ok(auth(user, PASSWORD))
        for attempt in range(4):
            sent = await here.ok(say(channel, f"race {attempt}"))
            assert isinstance(sent.msg_id, str)
            await asyncio.gather(
                here.request(Edit(msg_id=sent.msg_id, content="edited")),
                there.request(Delete(msg_id=sent.msg_id)),
            )
            history = await there.ok(
                History(dest_type="channel", dest=channel, around=sent.msg_id, limit=1)
            )
            [final] = history.messages
            assert (final.content, isinstance(final.deleted, int)) == ("", True)
    finally:
        await there.close()
