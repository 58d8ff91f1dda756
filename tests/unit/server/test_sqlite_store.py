"""The SQLite store on real files: schema, users, membership, history paging, group commit."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from aronanet.server.store.base import DuplicateUserError
from aronanet.server.store.rows import (
    ChannelRow,
    ConversationQuery,
    HistoryQuery,
    NewMessage,
    UserRow,
    dm_conversation,
)
from aronanet.server.store.schema import migrate, register_migrations
from aronanet.server.store.sqlite import INDEX_EVERY, READERS, SqliteStore


def message(conversation: str, content: str) -> NewMessage:
    return NewMessage(conversation, "alice", "channel", conversation, content, 1700000000)


async def test_user_names_are_unique_case_insensitively(store):
    await store.create_user(UserRow("Alice", "hash", 1))
    with pytest.raises(DuplicateUserError):
        await store.create_user(UserRow("ALICE", "other", 2))
    found = await store.get_user("alice")
    assert found is not None and found.name == "Alice"
    assert await store.get_user("bob") is None


async def test_membership_persists_across_reopening(tmp_path):
    path = tmp_path / "m.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.create_user(UserRow("bob", "h", 1))
    await store.join_channel(ChannelRow("#a", "", 5), "Bob")
    await store.set_topic("#a", "news")
    await store.close()
    store = SqliteStore(path)
    await store.open()
    assert await store.load_channels() == [ChannelRow("#a", "news", 5)]
    assert await store.load_memberships() == [("#a", "bob")]
    await store.part_channel("#a", "BOB")
    assert await store.load_memberships() == []
    await store.close()


async def test_message_ids_increase_and_history_pages_oldest_first(store):
    ids = [(await store.append_message(message("#c", f"m{n}"))).id for n in range(6)]
    await store.append_message(message("#other", "elsewhere"))
    assert ids == sorted(ids)

    async def contents(**query):
        rows = await store.history(HistoryQuery(conversation="#c", **query))
        return [row.content for row in rows]

    assert await contents(limit=2) == ["m4", "m5"]
    assert await contents(limit=2, before=ids[3]) == ["m1", "m2"]
    assert await contents(limit=2, after=ids[3]) == ["m4", "m5"]
    assert await contents(limit=50, after=ids[5]) == []
    assert await contents(limit=50, before=ids[0]) == []


async def test_attachment_column_round_trips(store):
    stored = await store.append_message(
        NewMessage("#i", "a", "channel", "#i", "", 1, attachment='{"type":"image"}')
    )
    [row] = await store.history(HistoryQuery(conversation="#i", limit=1))
    assert row.attachment == '{"type":"image"}' and row.id == stored.id


async def test_concurrent_writes_share_commits(store):
    before = store.commits
    await asyncio.gather(*(store.append_message(message("#g", f"m{n}")) for n in range(200)))
    assert store.commits - before < 200  # group commit: many messages per transaction
    rows = await store.history(HistoryQuery(conversation="#g", limit=200))
    assert len(rows) == 200


async def test_the_search_index_is_written_after_the_message_that_fills_it(store):
    """Every INDEX_EVERY messages the pending ones are indexed, in a group of their own
    once the last of them is committed: in its group, the FTS5 write would hold its
    acknowledgement back (a millisecond or more)."""
    before = store.commits
    acknowledged = await asyncio.gather(
        *(store.append_message(message("#g", f"word{n} tail")) for n in range(INDEX_EVERY))
    )

    def indexed_up_to(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT up_to FROM search_indexed").fetchone()[0])

    for _ in range(200):
        if await store.read(indexed_up_to) == acknowledged[-1].id:
            break
        await asyncio.sleep(0.01)
    assert await store.read(indexed_up_to) == acknowledged[-1].id
    # One loop turn of messages, one group; the index in a group of its own after it.
    assert store.commits - before == 2


async def test_one_failing_job_does_not_spoil_its_batch(store):
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


async def test_a_job_failing_after_its_writes_leaves_none_of_them(store):
    """A group runs without savepoints until a job fails; then that job's own writes are
    undone and its neighbours' kept, as if each had had a savepoint all along."""

    def write_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO channels (name, topic, created) VALUES ('#half', '', 1)",
        )
        raise RuntimeError("failed after writing")

    results = await asyncio.gather(
        store.append_message(message("#w", "kept")),
        store.run(write_then_fail),
        store.append_message(message("#w", "kept too")),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    rows = await store.history(HistoryQuery(conversation="#w", limit=5))
    assert [row.content for row in rows] == ["kept", "kept too"]
    assert await store.load_channel("#half") is None


async def test_a_write_lock_held_elsewhere_fails_one_group_not_the_writer(store):
    # Another process (a sqlite3 shell) holds the write lock past the busy timeout: that
    # group fails with the lock error, and the writer goes on with the next one.
    await store.run(lambda conn: conn.execute("PRAGMA busy_timeout=50"))
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await store.create_user(UserRow("locked", "h", 1))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await store.create_user(UserRow("after", "h", 1))
    assert await store.get_user("after") is not None


def test_dm_conversation_is_the_same_from_both_sides():
    assert dm_conversation("Alice", "bob") == dm_conversation("BOB", "alice")
    assert dm_conversation("a", "b") != dm_conversation("a", "c")


def test_migrations_run_once_and_components_can_add_tables(tmp_path):
    conn = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    register_migrations("testcomponent", ("CREATE TABLE extra (x INTEGER);",))
    try:
        assert migrate(conn)["testcomponent"] == 1
        assert migrate(conn)["core"] == 1  # second run: nothing to do, nothing fails
        conn.execute("INSERT INTO extra VALUES (1)")
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
        assert "attachment" in columns
    finally:
        from aronanet.server.store import schema

        schema._REGISTRY.pop("testcomponent")
        conn.close()


async def test_a_long_conversations_read_never_holds_back_a_commit(store):
    # §14.5 CONVERSATIONS may count thousands of unread messages per conversation; it reads
    # on a connection of its own, so messages keep committing meanwhile.
    await store.create_user(UserRow("ann", "h", 1))
    await store.join_channel(ChannelRow("#a", "", 1), "ann")
    busy = [store._readers.get() for _ in range(READERS)]  # every reader in a long read
    listing = asyncio.ensure_future(store.conversations(ConversationQuery("ann", 10)))
    stored = await asyncio.wait_for(store.append_message(message("#a", "still")), 5)
    assert not listing.done()  # CONVERSATIONS waits for a reader, the commit did not
    for conn in busy:
        store._readers.put(conn)
    [conversation] = await listing
    assert conversation.last_id == stored.id
