"""The ``Store`` contract, run against BOTH backends: SQLite files and real PostgreSQL.

Every node behaviour rests on these promises (case-insensitive names, persistent
membership, ordered ids and HISTORY paging, group commit, the image access rule), so each
backend must keep every one of them the same way.
"""

from __future__ import annotations

import asyncio

import pytest

from aronanet.server.store.base import DuplicateUserError, Store
from aronanet.server.store.rows import (
    ChannelMembers,
    ChannelRow,
    HistoryQuery,
    NewMessage,
    UserRow,
    dm_conversation,
)

from .conftest import StoreFactory


def message(conversation: str, content: str, *, sender: str = "alice") -> NewMessage:
    return NewMessage(conversation, sender, "channel", conversation, content, 1700000000)


def image_message(dest_type: str, dest: str, sender: str, image: str, size: int) -> NewMessage:
    conversation = dest if dest_type == "channel" else dm_conversation(sender, dest)
    attachment = f'{{"type":"image","image":"{image}","name":"a.png","size":{size}}}'
    return NewMessage(conversation, sender, dest_type, dest, "", 1, attachment)


async def test_user_names_are_unique_case_insensitively(store: Store) -> None:
    await store.create_user(UserRow("Alice", "hash", 1))
    with pytest.raises(DuplicateUserError):
        await store.create_user(UserRow("ALICE", "other", 2))
    found = await store.get_user("alice")
    assert found == UserRow("Alice", "hash", 1)
    assert await store.get_user("bob") is None


async def test_membership_persists_across_reopening(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    await store.create_user(UserRow("Bob", "h", 1))
    assert await store.join_channel(ChannelRow("#a", "", 5), "bob") is True
    assert await store.join_channel(ChannelRow("#a", "", 9), "BOB") is False  # already in
    await store.set_topic("#a", "news")
    await store.close()

    store = make_store()
    await store.open()
    assert await store.load_channels() == [ChannelRow("#a", "news", 5)]
    assert await store.load_memberships() == [("#a", "Bob")]
    assert await store.load_channel("#a") == ChannelMembers(ChannelRow("#a", "news", 5), ("Bob",))
    assert await store.channels_of("bOb") == ["#a"]
    await store.part_channel("#a", "BOB")
    assert await store.load_memberships() == []
    assert await store.load_channel("#a") == ChannelMembers(ChannelRow("#a", "news", 5), ())
    assert await store.channels_of("bob") == []
    await store.close()


async def test_a_channel_that_was_never_joined_is_not_found(store: Store) -> None:
    assert await store.load_channel("#nowhere") is None


async def test_channels_of_a_user_are_sorted_and_only_theirs(store: Store) -> None:
    for name in ("carol", "dave"):
        await store.create_user(UserRow(name, "h", 1))
    for channel in ("#zeta", "#alpha", "#mid-dle", "#mid_dle"):
        await store.join_channel(ChannelRow(channel, "", 1), "carol")
    await store.join_channel(ChannelRow("#other", "", 1), "dave")
    assert await store.channels_of("carol") == ["#alpha", "#mid-dle", "#mid_dle", "#zeta"]
    assert [row.name for row in await store.load_channels()] == [
        "#alpha",
        "#mid-dle",
        "#mid_dle",
        "#other",
        "#zeta",
    ]


async def test_message_ids_increase_and_history_pages_oldest_first(store: Store) -> None:
    ids = [(await store.append_message(message("#c", f"m{n}"))).id for n in range(6)]
    await store.append_message(message("#other", "elsewhere"))
    assert ids == sorted(ids) and len(set(ids)) == 6

    async def contents(**query: int) -> list[str]:
        rows = await store.history(HistoryQuery(conversation="#c", **query))
        return [row.content for row in rows]

    assert await contents(limit=2) == ["m4", "m5"]
    assert await contents(limit=2, before=ids[3]) == ["m1", "m2"]
    assert await contents(limit=2, after=ids[3]) == ["m4", "m5"]
    assert await contents(limit=50, after=ids[5]) == []
    assert await contents(limit=50, before=ids[0]) == []
    assert await contents(limit=50, after=2**63 - 1) == []


async def test_attachment_json_round_trips_exactly(store: Store) -> None:
    text = '{"type":"image",  "image":"ab"}'  # odd spacing: stored as given, not re-encoded
    stored = await store.append_message(NewMessage("#i", "a", "channel", "#i", "", 1, text))
    [row] = await store.history(HistoryQuery(conversation="#i", limit=1))
    assert row == stored and row.attachment == text


async def test_concurrent_writes_share_commits(store: Store) -> None:
    before = store.commits  # type: ignore[attr-defined]
    await asyncio.gather(*(store.append_message(message("#g", f"m{n}")) for n in range(200)))
    assert store.commits - before < 200  # type: ignore[attr-defined]  # group commit
    rows = await store.history(HistoryQuery(conversation="#g", limit=200))
    assert [row.content for row in rows] == [f"m{n}" for n in range(200)]


async def test_one_failing_job_does_not_spoil_its_batch(store: Store) -> None:
    await store.create_user(UserRow("taken", "h", 1))
    results = await asyncio.gather(
        store.append_message(message("#b", "kept")),
        store.create_user(UserRow("TAKEN", "h", 2)),
        store.append_message(message("#b", "kept too")),
        return_exceptions=True,
    )
    assert isinstance(results[1], DuplicateUserError)
    rows = await store.history(HistoryQuery(conversation="#b", limit=5))
    assert [row.content for row in rows] == ["kept", "kept too"]


async def test_an_image_in_a_channel_is_readable_by_its_members_only(store: Store) -> None:
    for name in ("Poster", "Member", "Outsider"):
        await store.create_user(UserRow(name, "h", 1))
    for name in ("Poster", "Member"):
        await store.join_channel(ChannelRow("#pics", "", 1), name)
    await store.append_message(image_message("channel", "#pics", "Poster", "aa11", 100))

    readable = await store.readable_image_attachment("member", "aa11")
    assert readable is not None and '"image":"aa11"' in readable
    assert await store.readable_image_attachment("outsider", "aa11") is None
    assert await store.readable_image_attachment("member", "ffff") is None
    await store.part_channel("#pics", "Member")
    assert await store.readable_image_attachment("Member", "aa11") is None


async def test_an_image_in_a_dm_is_readable_by_both_parties_only(store: Store) -> None:
    await store.append_message(image_message("user", "Reader", "Writer", "bb22", 50))
    for party in ("writer", "READER"):
        assert await store.readable_image_attachment(party, "bb22") is not None
    assert await store.readable_image_attachment("third", "bb22") is None


async def test_uploaded_bytes_count_each_distinct_image_once(store: Store) -> None:
    await store.append_message(image_message("channel", "#q", "Up", "cc01", 1000))
    await store.append_message(image_message("channel", "#q", "Up", "cc01", 1000))  # again
    await store.append_message(image_message("user", "friend", "Up", "cc02", 234))
    await store.append_message(image_message("channel", "#q", "Else", "cc03", 5000))
    await store.append_message(message("#q", "text only", sender="Up"))
    assert await store.uploaded_image_bytes("Up") == 1234
    assert await store.uploaded_image_bytes("Nobody") == 0


async def test_only_an_empty_channel_is_deleted_and_its_history_with_it(store: Store) -> None:
    for name in ("alice", "bob"):
        await store.create_user(UserRow(name, "hash", 1))
    await store.join_channel(ChannelRow("#gone", "", 1), "alice")
    await store.join_channel(ChannelRow("#kept", "", 1), "bob")
    await store.append_message(message("#gone", "said before leaving"))
    await store.append_message(
        NewMessage(dm_conversation("alice", "bob"), "alice", "user", "bob", "dm", 1)
    )
    assert not await store.delete_empty_channel("#gone")  # alice is still in it
    await store.part_channel("#gone", "alice")
    assert await store.delete_empty_channel("#gone")
    assert not await store.delete_empty_channel("#gone")  # nothing left to delete
    assert await store.load_channel("#gone") is None
    assert await store.history(HistoryQuery("#gone", 10)) == []
    assert len(await store.history(HistoryQuery(dm_conversation("alice", "bob"), 10))) == 1
    assert await store.load_channel("#kept") is not None
