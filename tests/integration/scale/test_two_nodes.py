"""Two node processes, one PostgreSQL, one Redis: one community, each session on any node.

The scale-out promise (ARCHITECTURE.md "Scale-out"): users connected to different nodes
talk as if there were one node, live and in HISTORY, and a node killed with SIGKILL loses
nothing it acknowledged (§3), because the other node reads the same store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from node.driver import TestClient

from aronanet.proto.messages import (
    Error,
    History,
    Join,
    JoinEvent,
    MsgEvent,
    Ok,
    Part,
    PartEvent,
    SendMsg,
    Topic,
)

from .cluster import ClusterNode

Connect = Callable[[ClusterNode, str], "asyncio.Future[TestClient]"]


@pytest.fixture
async def login() -> AsyncIterator[Callable[..., object]]:
    """``await login(node, user)``: a session of ``user`` on ``node`` (registered if new)."""
    clients: list[TestClient] = []
    registered: set[str] = set()

    async def open_session(node: ClusterNode, user: str) -> TestClient:
        client = await TestClient.connect(node.port)
        clients.append(client)
        await client.login(user, register=user not in registered)
        registered.add(user)
        return client

    yield open_session
    for client in clients:
        await client.close()


def say(dest: str, content: str, dest_type: str = "channel") -> SendMsg:
    return SendMsg(dest_type=dest_type, dest=dest, content=content)  # type: ignore[arg-type]


async def history(client: TestClient, channel: str) -> list[tuple[str, str, str]]:
    page = await client.ok(History(dest_type="channel", dest=channel, limit=200))
    return [(m.id, m.from_, m.content) for m in page.messages]


async def test_members_on_two_nodes_exchange_channel_messages_live(cluster, login) -> None:
    a, b = cluster
    alice = await login(a, "alice")
    bob = await login(b, "bob")
    await alice.ok(Join(channel="#plaza"))
    joined = await bob.ok(Join(channel="#plaza"))
    assert joined.members == ["alice", "bob"]  # the JOIN on A is in B's member list
    seen = await alice.next_event_of(JoinEvent)
    assert (seen.from_, seen.channel) == ("bob", "#plaza")  # a JOIN event across nodes

    sent = await alice.ok(say("#plaza", "hello from A"))
    event = await bob.next_event_of(MsgEvent)
    assert (event.id, event.timestamp) == (sent.msg_id, sent.timestamp)
    assert (event.from_, event.dest, event.content) == ("alice", "#plaza", "hello from A")
    reply = await bob.ok(say("#plaza", "hello from B"))
    event = await alice.next_event_of(MsgEvent)
    assert (event.id, event.content) == (reply.msg_id, "hello from B")
    assert int(reply.msg_id) > int(sent.msg_id)


async def test_a_dm_reaches_the_recipient_and_every_other_session_on_both_nodes(
    cluster, login
) -> None:
    a, b = cluster
    sender = await login(a, "sender")
    sender_elsewhere = await login(b, "sender")
    reader_on_b = await login(b, "reader")
    reader_on_a = await login(a, "reader")

    ok = await sender.ok(say("READER", "psst", dest_type="user"))
    for session in (reader_on_b, reader_on_a, sender_elsewhere):
        event = await session.next_event_of(MsgEvent)
        assert (event.id, event.from_, event.dest_type, event.dest, event.content) == (
            ok.msg_id,
            "sender",
            "user",
            "reader",
            "psst",
        )
    await sender.no_event(MsgEvent)  # not echoed to the session that sent it
    page = await reader_on_b.ok(History(dest_type="user", dest="sender"))
    assert [m.id for m in page.messages] == [ok.msg_id]


async def test_history_is_identical_from_both_nodes_and_ids_are_ordered(cluster, login) -> None:
    a, b = cluster
    kei = await login(a, "kei")
    mika = await login(b, "mika")
    for client in (kei, mika):
        await client.ok(Join(channel="#log"))

    async def burst(client: TestClient, name: str) -> list[Ok]:
        replies = await asyncio.gather(*(client.ok(say("#log", f"{name} {n}")) for n in
                                         range(30)))  # fmt: skip
        return list(replies)

    kei_acks, mika_acks = await asyncio.gather(burst(kei, "kei"), burst(mika, "mika"))
    from_a, from_b = await history(kei, "#log"), await history(mika, "#log")
    assert from_a == from_b and len(from_a) == 60
    ids = [int(message_id) for message_id, _, _ in from_a]
    assert ids == sorted(ids) and len(set(ids)) == 60
    for acks, name in ((kei_acks, "kei"), (mika_acks, "mika")):
        acked = [int(ack.msg_id) for ack in acks]
        assert acked == sorted(acked)  # each sender's messages in the order they were sent
        ordered = [content for _, sender, content in from_a if sender == name]
        assert ordered == [f"{name} {n}" for n in range(30)]


async def test_membership_and_topic_changes_on_one_node_hold_on_the_other(cluster, login) -> None:
    a, b = cluster
    carol_a = await login(a, "carol")
    carol_b = await login(b, "carol")
    dave = await login(b, "dave")
    await dave.ok(Join(channel="#club"))

    # Joined through A, and writing through B at once: B asks the store, not its memory.
    await carol_a.ok(Join(channel="#club"))
    await carol_b.ok(say("#club", "right away"))
    assert (await dave.next_event_of(MsgEvent)).content == "right away"
    again = await login(b, "carol")
    assert (await again.request(Join(channel="#club"))).members == ["carol", "dave"]  # type: ignore[union-attr]

    await carol_a.ok(Topic(channel="#club", topic="tea at five"))
    late = await login(b, "erin")
    assert (await late.ok(Join(channel="#club"))).topic == "tea at five"

    await carol_a.ok(Part(channel="#club"))
    parted = await dave.next_event_of(PartEvent)
    assert (parted.from_, parted.channel) == ("carol", "#club")
    refused = await carol_b.request(say("#club", "still here?"))
    assert isinstance(refused, Error) and refused.code == "NOT_IN_CHANNEL"
    await dave.ok(say("#club", "after carol left"))
    await carol_b.no_event(MsgEvent)
    assert (await login(b, "carol")).conn is not None


async def test_a_user_logging_in_on_the_other_node_sees_their_channels(cluster, login) -> None:
    a, b = cluster
    first = await login(a, "yuuka")
    for channel in ("#b-side", "#a-side"):
        await first.ok(Join(channel=channel))
    second = await TestClient.connect(b.port)
    reply = await second.login("yuuka", register=False)
    assert reply.user == "yuuka" and reply.channels == ["#a-side", "#b-side"]
    await second.close()


async def test_acknowledged_messages_survive_sigkill_of_a_node(cluster, login) -> None:
    a, b = cluster
    writer = await login(a, "durable")
    reader = await login(b, "witness")
    for client in (writer, reader):
        await client.ok(Join(channel="#vault"))
    sent: dict[str, str] = {}
    futures = []
    for n in range(300):
        request_id = writer.next_id()
        futures.append(writer.expect_reply(request_id))
        sent[request_id] = f"message {n}"
        writer.conn.send(SendMsg(dest_type="channel", dest="#vault", content=sent[request_id],
                                 id=request_id))  # fmt: skip
    await writer.pipe.write(writer.conn.data_to_send())
    acked: list[Ok] = []
    for future in asyncio.as_completed(futures, timeout=30):
        acked.append(await future)
        if len(acked) == 150:
            a.kill()  # right after a burst of acks, with more still in flight
            break

    stored: dict[str, str] = {}
    after = "0"
    while page := (
        await reader.ok(History(dest_type="channel", dest="#vault", after=after, limit=200))
    ).messages:
        stored.update((m.id, m.content) for m in page)
        after = page[-1].id
    for ok in acked:
        assert stored.get(ok.msg_id) == sent[ok.re], f"acknowledged {ok.msg_id} was lost"
    await reader.ok(say("#vault", "B still serves"))
