"""ArTP/1.1 ``lifecycle`` §14.13-14.14 against a real node process: TYPING is relayed to the
other participants, throttled, and never stored; CHANGES returns what changed after a rev."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aronanet.proto.lifecycle import Typing, TypingEvent
from aronanet.proto.messages import Conversations, MsgEvent, Ok

from .lifecycle_support import (
    LIFECYCLE,
    TYPING_BURST,
    Room,
    delete,
    edit,
    lifecycle_node,
    open_room,
    react,
    rev_of,
)
from .sync_support import Serve, Served, fresh_user, is_community, say


@pytest.fixture(scope="module")
def node(serve: Serve) -> Iterator[Served]:
    yield from lifecycle_node(serve, "lifecycle-typing")


@pytest.fixture
async def room(node: Served, session) -> Room:  # type: ignore[no-untyped-def]
    return await open_room(node, session)


# ------------------------------------------------------------------ typing (§14.13)


async def test_typing_reaches_the_others_once_per_interval(room: Room) -> None:
    for _ in range(4):  # a burst: the first is relayed, the rest answered OK and dropped
        await room.mine.ok(room.typing(True))
    event = await room.theirs.next_event_of(TypingEvent)
    assert (event.from_, event.dest_type, event.dest, event.typing, event.expires_ms) == (
        room.author,
        "channel",
        room.channel,
        True,
        6000,
    )
    await room.mine.ok(room.typing(False))  # a true was relayed just now: false goes too
    stopped = await room.theirs.next_event_of(TypingEvent)
    assert stopped.typing is False
    await room.mine.ok(room.typing(False))  # nothing to stop any more: dropped
    await room.mine.ok(say(room.channel, "sent"))
    after = await room.theirs.next_event()
    assert isinstance(after, MsgEvent) and after.content == "sent"  # no third TYPING before
    for own_or_old in (room.my_other, room.old):  # not the typist's own, not 1.0 sessions
        await own_or_old.no_event(TypingEvent)


async def test_typing_in_a_dm_names_the_recipient_as_dest(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    typist, peer = fresh_user("ty"), fresh_user("pe")
    mine = await session(node, typist, register=True, features=LIFECYCLE)
    theirs = await session(node, peer, register=True, features=LIFECYCLE)
    await mine.ok(Typing(dest_type="user", dest=peer.upper(), typing=True))
    event = await theirs.next_event_of(TypingEvent)
    assert (event.from_, event.dest_type, event.dest) == (typist, "user", peer)
    nobody = await mine.error(Typing(dest_type="user", dest=fresh_user("no"), typing=True))
    assert nobody.code == "NO_SUCH_USER"
    outside = await mine.error(Typing(dest_type="channel", dest="#nowhere-at-all", typing=True))
    assert outside.code == "NOT_IN_CHANNEL"


async def test_typing_is_never_stored(room: Room) -> None:
    await room.mine.ok(room.typing(True))
    assert await room.history() == []
    assert (await room.theirs.ok(room.changes("0"))).messages == []
    listed = await room.theirs.ok(Conversations())
    [entry] = [c for c in listed.conversations if c.dest == room.channel]
    assert not isinstance(entry.last_id, str)


async def test_typing_has_its_own_budget_tested_at_its_edge(room: Room, node: Served) -> None:
    for _ in range(TYPING_BURST):
        await room.mine.ok(room.typing(True))
    refused = await room.mine.error(room.typing(True))
    assert refused.code == "RATE_LIMITED" and refused.retry_after_ms > 0
    other_device = await room.my_other.request(room.typing(True))
    if is_community(node):  # scale-out: also the account's, all nodes together (§14.13)
        assert other_device.code == "RATE_LIMITED"
    else:
        assert isinstance(other_device, Ok)  # per session
    await room.theirs.ok(room.typing(True))  # another account's budget is untouched
    await room.mine.ok(say(room.channel, "MSG tokens untouched"))


# ------------------------------------------------------------------ changes (§14.14)


async def test_changes_since_a_rev_returns_current_state_in_rev_order(room: Room) -> None:
    first = await room.post("one")
    second = await room.post("two")
    third = await room.post("three")
    [*_, newest] = await room.history()
    since = newest.rev
    assert isinstance(since, str)
    edited = await room.mine.ok(edit(first, "one, edited"))
    reacted = await room.theirs.ok(react(third, "🎉"))
    gone = await room.mine.ok(delete(second))
    assert int(rev_of(edited)) < int(rev_of(reacted)) < int(rev_of(gone))
    reply = await room.theirs.ok(room.changes(since))
    assert [m.id for m in reply.messages] == [first, third, second]
    assert [m.rev for m in reply.messages] == [rev_of(edited), rev_of(reacted), rev_of(gone)]
    assert reply.messages[0].content == "one, edited" and reply.messages[2].content == ""
    assert reply.messages[1].reactions[0].emoji == "🎉"
    assert reply.rev == rev_of(gone) and not isinstance(reply.next, bool)
    caught_up = await room.theirs.ok(room.changes(reply.rev))
    assert (caught_up.messages, caught_up.rev) == ([], reply.rev)
    listed = await room.theirs.ok(Conversations())
    [entry] = [c for c in listed.conversations if c.dest == room.channel]
    assert entry.rev == rev_of(gone)


async def test_changes_pages_with_next(room: Room) -> None:
    ids = [await room.post(f"m{i}") for i in range(5)]
    first = await room.theirs.ok(room.changes("0", limit=3))
    assert [m.id for m in first.messages] == ids[:3] and first.next is True
    rest = await room.theirs.ok(room.changes(first.rev, limit=3))
    assert [m.id for m in rest.messages] == ids[3:] and not isinstance(rest.next, bool)


async def test_changes_needs_a_readable_conversation_and_a_rev(room: Room, node, session) -> None:  # type: ignore[no-untyped-def]
    outsider = await session(node, fresh_user("out"), register=True)
    assert (await outsider.error(room.changes("0"))).code == "NOT_IN_CHANNEL"
    future = room.theirs.expect_reply("c1")
    raw = '{"type":"CHANGES","dest_type":"channel","dest":"%s","since":"x1","id":"c1"}'
    await room.theirs.send_plaintext((raw % room.channel).encode())
    refused = await future
    assert (refused.code, "since" in refused.message) == ("INVALID", True)
