"""ArTP/1.1 ``lifecycle`` §14.9-14.12 against a real node process: replies, HISTORY around,
edits, deletes and reactions, their permissions and limits, and what a 1.0 client sees."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from aronanet.proto.lifecycle import DeleteEvent, EditEvent, ReactionEvent, TypingEvent
from aronanet.proto.messages import Conversations, Join, MsgEvent, Ok, Part, SendMsg

from .lifecycle_support import (
    MAX_REACTIONS,
    Room,
    delete,
    edit,
    lifecycle_node,
    open_room,
    react,
)
from .sync_support import Serve, Served, fresh_user, store_rows

LIFECYCLE_EVENTS = (EditEvent, DeleteEvent, ReactionEvent, TypingEvent)


@pytest.fixture(scope="module")
def node(serve: Serve) -> Iterator[Served]:
    yield from lifecycle_node(serve, "lifecycle")


@pytest.fixture
async def room(node: Served, session) -> Room:  # type: ignore[no-untyped-def]
    return await open_room(node, session)


# ------------------------------------------------------------------ replies (§14.9)


async def test_a_reply_carries_the_quote_live_and_in_history(room: Room) -> None:
    original = await room.post("the original question, " + "x" * 200)
    reply = await room.theirs.ok(
        SendMsg(dest_type="channel", dest=room.channel, content="an answer", reply_to=original)
    )
    for client in (room.mine, room.old):  # 1.0 clients get the fields too
        event = await client.next_event_of(MsgEvent)
        assert (event.reply_to, event.reply.id, event.reply.from_) == (
            original,
            original,
            room.author,
        )
        assert event.reply.content == ("the original question, " + "x" * 200)[:140]
    [stored] = [m for m in await room.history() if m.id == reply.msg_id]
    assert stored.reply_to == original and stored.reply.deleted is not True


async def test_a_reply_quotes_the_current_text_and_shows_a_deletion(room: Room) -> None:
    original = await room.post("first words")
    await room.theirs.ok(
        SendMsg(dest_type="channel", dest=room.channel, content="re", reply_to=original)
    )
    await room.mine.ok(edit(original, "better words"))
    [_, answer] = await room.history(limit=2)
    assert answer.reply.content == "better words"
    await room.mine.ok(delete(original))
    [_, answer] = await room.history(limit=2)
    assert (answer.reply.content, answer.reply.deleted, answer.reply_to) == ("", True, original)


async def test_a_reply_to_elsewhere_deleted_or_missing_is_not_found(
    room: Room, node, session
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = await open_room(node, session)
    foreign = await elsewhere.post("in another channel")
    gone = await room.post("soon deleted")
    await room.mine.ok(delete(gone))
    for target in (foreign, gone, "999999999"):
        error = await room.mine.error(
            SendMsg(dest_type="channel", dest=room.channel, content="re", reply_to=target)
        )
        assert error.code == "NOT_FOUND", target
    malformed = await room.mine.error(
        SendMsg(dest_type="channel", dest=room.channel, content="re", reply_to="12abc")
    )
    assert malformed.code == "INVALID" and "reply_to" in malformed.message


async def test_history_around_centres_on_a_message(room: Room) -> None:
    ids = [await room.post(f"m{i}") for i in range(9)]
    around = await room.history(around=ids[4], limit=5)
    assert [m.id for m in around] == ids[2:7]
    at_the_end = await room.history(around=ids[8], limit=4)
    assert [m.id for m in at_the_end] == ids[5:9]
    raw = '{"type":"HISTORY","dest_type":"channel","dest":"%s","around":"%s","before":"%s",'
    future = room.theirs.expect_reply("h1")
    await room.theirs.send_plaintext((raw % (room.channel, ids[0], ids[1]) + '"id":"h1"}').encode())
    both = await asyncio.wait_for(future, 10)
    assert (both.code, "around" in both.message) == ("INVALID", True)


# ------------------------------------------------------------------ edits (§14.10)


async def test_an_edit_reaches_lifecycle_sessions_and_history(room: Room) -> None:
    msg_id = await room.post("teh typo")
    reply = await room.mine.ok(edit(msg_id, "the typo"))
    assert reply.msg_id == msg_id and isinstance(reply.edited, int)
    for client in (room.theirs, room.my_other):
        event = await client.next_event_of(EditEvent)
        assert (event.msg_id, event.content, event.from_, event.dest) == (
            msg_id,
            "the typo",
            room.author,
            room.channel,
        )
        assert event.edited == reply.edited
    stored = await room.find(msg_id, room.old)  # a 1.0 client reads the new text
    assert (stored.content, stored.edited) == ("the typo", reply.edited)


async def test_only_the_author_edits_and_only_what_they_can_read(room: Room, node, session) -> None:  # type: ignore[no-untyped-def]
    msg_id = await room.post("mine")
    assert (await room.theirs.error(edit(msg_id, "hijacked"))).code == "NOT_AUTHOR"
    outsider = await session(node, fresh_user("out"), register=True, features=("lifecycle",))
    assert (await outsider.error(edit(msg_id, "x"))).code == "NOT_FOUND"
    assert (await outsider.error(delete(msg_id))).code == "NOT_FOUND"
    assert (await outsider.error(react(msg_id, "👍"))).code == "NOT_FOUND"
    assert (await room.mine.error(edit("999999999", "x"))).code == "NOT_FOUND"
    assert (await room.mine.error(edit("not-an-id", "x"))).code == "INVALID"
    await room.mine.ok(Part(channel=room.channel))  # no longer readable, even one's own
    assert (await room.mine.error(edit(msg_id, "x"))).code == "NOT_FOUND"
    assert (await room.find(msg_id)).content == "mine"


async def test_an_empty_or_too_long_edit_is_refused(room: Room) -> None:
    msg_id = await room.post("text")
    raw = b'{"type":"EDIT","msg_id":"%s","content":"","id":"e1"}' % msg_id.encode()
    future = room.mine.expect_reply("e1")
    await room.mine.send_plaintext(raw)
    refused = await asyncio.wait_for(future, 10)
    assert (refused.code, "content" in refused.message) == ("INVALID", True)
    too_long = await room.mine.error(edit(msg_id, "y" * 4001))
    assert too_long.code == "TOO_LARGE"
    assert (await room.find(msg_id)).content == "text"


async def test_kept_edit_history_is_stored_for_the_operator_and_goes_with_a_delete(
    room: Room, node: Served
) -> None:
    msg_id = await room.post("v1")
    await room.mine.ok(edit(msg_id, "v2"))
    await room.mine.ok(edit(msg_id, "v2"))  # the same text again is still an edit

    def kept() -> list[str]:
        query = "SELECT content FROM edit_history WHERE message_id = ? ORDER BY replaced, content"
        return [content for (content,) in store_rows(node, query, int(msg_id))]

    assert kept() == ["v1", "v2"]
    await room.mine.ok(delete(msg_id))
    assert kept() == []


# ------------------------------------------------------------------ deletes (§14.11)


async def test_a_delete_leaves_a_tombstone_in_history(room: Room) -> None:
    msg_id = await room.post("regrettable", cid="cid-1")
    await room.theirs.ok(react(msg_id, "👍"))
    reply = await room.mine.ok(delete(msg_id))
    assert reply.msg_id == msg_id
    for client in (room.theirs, room.my_other):
        event = await client.next_event_of(DeleteEvent)
        assert (event.msg_id, event.from_, event.dest) == (msg_id, room.author, room.channel)
    tomb = await room.find(msg_id, room.old)
    assert (tomb.content, tomb.cid, tomb.from_) == ("", "cid-1", room.author)
    assert isinstance(tomb.deleted, int) and not isinstance(tomb.reactions, list)
    assert (await room.mine.error(delete(msg_id))).code == "NOT_FOUND"
    assert (await room.mine.error(edit(msg_id, "back"))).code == "NOT_FOUND"
    assert (await room.theirs.error(react(msg_id, "👍"))).code == "NOT_FOUND"
    assert (await room.theirs.error(delete(await room.post("not theirs")))).code == "NOT_AUTHOR"


async def test_a_delete_racing_an_edit_stays_deleted(room: Room) -> None:
    for attempt in range(6):
        msg_id = await room.post(f"race {attempt}")
        edited, deleted = await asyncio.gather(
            room.mine.request(edit(msg_id, "edited")), room.my_other.request(delete(msg_id))
        )
        assert isinstance(deleted, Ok)
        assert isinstance(edited, Ok) or edited.code == "NOT_FOUND"
        final = await room.find(msg_id)
        assert (final.content, isinstance(final.deleted, int)) == ("", True)
        assert not isinstance(final.edited, int)


async def test_history_paging_keeps_its_order_through_edits_and_deletes(room: Room) -> None:
    ids = [await room.post(f"page {i}") for i in range(10)]
    changes_between_pages = [
        [delete(ids[9]), edit(ids[5], "edited while paging")],  # one seen, one not yet
        [edit(ids[8], "seen, edited"), delete(ids[2])],
    ]
    seen: list[MsgEvent] = []
    page = await room.history(limit=3)
    while page:
        seen = page + seen
        for request in changes_between_pages.pop(0) if changes_between_pages else []:
            await room.mine.ok(request)
        page = await room.history(limit=3, before=seen[0].id)
    assert [m.id for m in seen] == ids  # nothing moved, nothing skipped or repeated
    by_id = {m.id: m for m in seen}
    assert by_id[ids[5]].content == "edited while paging" and by_id[ids[2]].content == ""
    final = {m.id: m for m in await room.history(limit=10)}
    assert (final[ids[9]].content, final[ids[8]].content) == ("", "seen, edited")


# ------------------------------------------------------------------ reactions (§14.12)


async def test_reactions_are_one_per_user_whatever_the_devices(room: Room) -> None:
    msg_id = await room.post("react")
    first = await room.mine.ok(react(msg_id, "👍"))
    second = await room.my_other.ok(react(msg_id, "👍"))  # the same user, another device
    assert (first.count, second.count, first.emoji) == (1, 1, "👍")
    event = await room.theirs.next_event_of(ReactionEvent)
    assert (event.msg_id, event.from_, event.emoji, event.added, event.count) == (
        msg_id,
        room.author,
        "👍",
        True,
        1,
    )
    assert (await room.my_other.next_event_of(ReactionEvent)).msg_id == msg_id
    await room.theirs.ok(react(msg_id, "👍"))
    [stored] = [m for m in await room.history(room.old) if m.id == msg_id]
    [summary] = stored.reactions
    assert (summary.emoji, summary.count, sorted(summary.users)) == (
        "👍",
        2,
        sorted([room.author, room.reader]),
    )
    gone = await room.mine.ok(react(msg_id, "👍", add=False))
    assert gone.count == 1
    removal = [e for e in [await room.theirs.next_event_of(ReactionEvent)] if not e.added]
    assert removal and removal[0].count == 1


async def test_max_reactions_is_enforced_at_its_edge(room: Room, node) -> None:  # type: ignore[no-untyped-def]
    msg_id = await room.post("popular")
    emoji = ["😀", "🎉", "🇯🇵", "1️⃣"]
    for glyph in emoji[:MAX_REACTIONS]:
        await room.theirs.ok(react(msg_id, glyph))
    over = await room.theirs.error(react(msg_id, emoji[MAX_REACTIONS]))
    assert over.code == "TOO_LARGE" and f"{MAX_REACTIONS} different reactions" in over.message
    assert (await room.mine.ok(react(msg_id, emoji[0]))).count == 2  # not a new emoji
    hello = room.mine.hello
    assert hello is not None and hello.limits.max_reactions == MAX_REACTIONS


@pytest.mark.parametrize("text", ["ok", ":smile:", "👍👍", "👍 ", "🇯", "1"])
async def test_a_reaction_that_is_not_one_emoji_is_invalid(room: Room, text: str) -> None:
    msg_id = await room.post("react")
    refused = await room.theirs.error(react(msg_id, text))
    assert (refused.code, refused.message) == ("INVALID", "invalid emoji: a reaction is one emoji")


# ------------------------------------------------------------------ a 1.0 client


async def test_a_1_0_client_gets_no_lifecycle_event_only_the_new_state(room: Room) -> None:
    msg_id = await room.post("to be changed")
    await room.mine.ok(edit(msg_id, "changed"))
    await room.theirs.ok(react(msg_id, "🎉"))
    await room.mine.ok(room.typing())
    other = await room.post("another")
    await room.mine.ok(delete(other))
    await room.mine.ok(SendMsg(dest_type="channel", dest=room.channel, content="the sentinel"))
    # Everything above was sent before the sentinel: the 1.0 client's next event is it.
    sentinel = await room.old.next_event()
    assert isinstance(sentinel, MsgEvent) and sentinel.content == "the sentinel"
    await room.old.no_event(LIFECYCLE_EVENTS)  # type: ignore[arg-type]
    stored = {m.id: m for m in await room.history(room.old)}
    assert stored[msg_id].content == "changed" and stored[msg_id].reactions[0].emoji == "🎉"
    assert stored[other].content == "" and isinstance(stored[other].deleted, int)


async def test_lifecycle_works_over_websocket(node: Served, session) -> None:  # type: ignore[no-untyped-def]
    author, reader, channel = fresh_user("ws"), fresh_user("wr"), f"#{fresh_user('w')}"
    mine = await session(node, author, register=True, ws=True, features=("lifecycle",))
    theirs = await session(node, reader, register=True, ws=True, features=("lifecycle",))
    for client in (mine, theirs):
        await client.ok(Join(channel=channel))
    sent = await mine.ok(SendMsg(dest_type="channel", dest=channel, content="over ws"))
    assert isinstance(sent.msg_id, str)
    await mine.ok(edit(sent.msg_id, "edited over ws"))
    assert (await theirs.next_event_of(EditEvent)).content == "edited over ws"
    assert (await theirs.ok(react(sent.msg_id, "👍"))).count == 1
    assert (await mine.next_event_of(ReactionEvent)).emoji == "👍"


async def test_a_deleted_mention_no_longer_counts_and_an_edit_adds_none(room: Room) -> None:
    async def mentions() -> int:
        listed = await room.theirs.ok(Conversations())
        [entry] = [c for c in listed.conversations if c.dest == room.channel]
        return entry.mentions

    quiet = await room.post("no names here")
    await room.mine.ok(edit(quiet, f"@{room.reader} now named"))  # counted at send time only
    assert await mentions() == 0
    loud = await room.post(f"@{room.reader} look")
    assert await mentions() == 1
    await room.mine.ok(delete(loud))
    assert await mentions() == 0
