"""§14.15 search in the ``Store`` contract, on BOTH backends, against a brute-force oracle.

Generated messages (seeded) across conversations the user can read and ones they cannot
(a channel they left, one they never joined, other people's DMs), with diacritics, case,
punctuation and emoji; edits and deletes made by plain UPDATEs of ``messages.content`` (as
the lifecycle code does). Every query's ids must be exactly the oracle's: the messages the
user can read now whose current text ``proto.search_query.matches``. The oracle is the same
for both backends, so SQLite and PostgreSQL give the same answers on the same data.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from aronanet.proto.search_query import SearchQuery, matches, parse_query
from aronanet.server.store.base import Store
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import (
    ChannelRow,
    MessageRow,
    MessageSearch,
    NewMessage,
    UserRow,
    dm_conversation,
)
from aronanet.server.store.sqlite import SqliteStore, index_pending

from .conftest import StoreFactory

VOCABULARY = [
    "café",
    "Café",
    "CAFÉ",
    "cafe",
    "cafeteria",
    "résumé",
    "resume",
    "Resumes",
    "naïve",
    "naive",
    "über",
    "uber",
    "Uber",
    "hello",
    "help",
    "helmet",
    "HELL",
    "new",
    "york",
    "New-York",
    "zebra",
    "zéro",
    "zero",
    "straße",
    "łódź",
    "Łódź",
    "école",
    "école",
    "ecole",
    "don't",
    "it's",
    "42",
    "4th",
    "x2",
    "日本語",
    "한국어",
    "ελληνικά",
    "OR",
    "NOT",
    "NEAR",
    "AND",
]
GLUE = (" ", " ", " ", ", ", "-", "! ", "🙂", " 🙏 ", "'", "... ", ":", "/")
ME = "Me"
READABLE_CHANNELS = ("#c0", "#c1", "#c2", "#c3")
LEFT, NEVER = "#c4", "#c5"


def sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(1, 9))]
    return "".join(word + rng.choice(GLUE) for word in words).strip()


def random_query(rng: random.Random, contents: list[str]) -> str:
    terms = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        word = rng.choice(VOCABULARY)
        if kind < 0.45:
            terms.append(rng.choice([word, word.upper(), word.lower()]))
        elif kind < 0.7:
            stem = "".join(c for c in word if c.isalnum())[: rng.randint(2, 4)]
            terms.append(stem + "*" if len(stem) >= 2 else word)
        else:
            pieces = rng.choice(contents).split()
            start = rng.randrange(len(pieces))
            terms.append('"' + " ".join(pieces[start : start + 2]) + '"')
    return " ".join(terms)


async def update_content(store: Store, message_id: int, content: str) -> None:
    """An edit (or, with "", a delete) as the lifecycle code makes it: one UPDATE."""
    if isinstance(store, SqliteStore):
        await store.run(
            lambda conn: conn.execute(
                "UPDATE messages SET content = ? WHERE id = ?", (content, message_id)
            )
        )
        return
    assert isinstance(store, PostgresStore)

    async def update(conn: Any) -> None:
        await conn.execute("UPDATE messages SET content = %s WHERE id = %s", (content, message_id))

    await store._write(update)


async def fill(store: Store, rng: random.Random, count: int) -> dict[int, MessageRow]:
    """Users, channels (Me in four, one left, one never joined), DMs, and ``count``
    messages with edits and deletes; returns the rows by id as they are now."""
    for name in (ME, "Bob", "Cy"):
        await store.create_user(UserRow(name, "hash", 1))
    for channel in (*READABLE_CHANNELS, LEFT, NEVER):
        await store.join_channel(ChannelRow(channel, "", 1), "Bob")
    for channel in (*READABLE_CHANNELS, LEFT):
        await store.join_channel(ChannelRow(channel, "", 1), ME)
    places = [
        *((channel, "channel", channel) for channel in (*READABLE_CHANNELS, LEFT, NEVER)),
        (dm_conversation("Bob", ME), "user", ME),
        (dm_conversation("Cy", ME), "user", "Cy"),
        (dm_conversation("Bob", "Cy"), "user", "Cy"),
    ]
    rows: dict[int, MessageRow] = {}
    for _ in range(count):
        conversation, dest_type, dest = rng.choice(places)
        sender = "Bob" if conversation != dm_conversation("Cy", ME) else ME
        row = await store.append_message(
            NewMessage(conversation, sender, dest_type, dest, sentence(rng), 1700000000)
        )
        rows[row.id] = row
    await store.part_channel(LEFT, ME)
    for message_id in rng.sample(sorted(rows), count // 10):
        content = "" if rng.random() < 0.5 else sentence(rng)
        await update_content(store, message_id, content)
        old = rows[message_id]
        rows[message_id] = MessageRow(
            old.id, old.conversation, old.sender, old.dest_type, old.dest, content,
            old.timestamp, old.attachment, old.cid,
        )  # fmt: skip
    return rows


def readable(row: MessageRow) -> bool:
    if row.dest_type == "channel":
        return row.conversation in READABLE_CHANNELS
    return "me" in row.conversation.removeprefix("@").split("/")


def oracle(rows: dict[int, MessageRow], query: SearchQuery, before: int | None = None) -> list[int]:
    return sorted(
        (
            row.id
            for row in rows.values()
            if readable(row)
            and row.content
            and matches(query, row.content)
            and (before is None or row.id < before)
        ),
        reverse=True,
    )


async def index_is_sound(store: Store) -> None:
    """SQLite: FTS5's own check that the index holds exactly the messages' words."""
    if isinstance(store, SqliteStore):
        await store.run(index_pending)
        await store.run(
            lambda conn: conn.execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
            )
        )


async def ids(store: Store, query: SearchQuery, **fields: Any) -> list[int]:
    return [row.id for row in await store.search(MessageSearch(ME, query, **fields))]


async def test_search_finds_exactly_what_a_scan_finds(store: Store) -> None:
    rng = random.Random(1415)
    rows = await fill(store, rng, 600)
    contents = [row.content for row in rows.values() if row.content]
    checked = found = 0
    for _ in range(250):
        text = random_query(rng, contents)
        query = parse_query(text)
        expected = oracle(rows, query)
        assert await ids(store, query, limit=1000) == expected, text
        checked += 1
        found += bool(expected)
    assert found > checked // 2  # the queries are not all misses
    await index_is_sound(store)


async def test_pages_with_before_walk_the_same_results(store: Store) -> None:
    rng = random.Random(7)
    rows = await fill(store, rng, 300)
    query = parse_query("caf*")
    expected = oracle(rows, query)
    assert len(expected) > 20
    walked: list[int] = []
    before = None
    while True:
        page = await ids(store, query, limit=7, before=before)
        walked += page
        if len(page) < 7:
            break
        before = page[-1]
    assert walked == expected


async def test_one_conversation_and_every_scope_rule(store: Store) -> None:
    rng = random.Random(3)
    rows = await fill(store, rng, 300)
    query = parse_query("hello")
    in_c1 = [i for i in oracle(rows, query) if rows[i].conversation == "#c1"]
    assert in_c1
    assert await ids(store, query, limit=1000, conversation="#c1") == in_c1
    unreadable = [
        row.id for row in rows.values() if not readable(row) and matches(query, row.content)
    ]
    assert unreadable  # there was something to hide
    assert not set(unreadable) & set(await ids(store, query, limit=1000))


async def test_an_edit_is_found_by_its_new_text_only_and_a_delete_never(store: Store) -> None:
    await store.create_user(UserRow(ME, "hash", 1))
    await store.join_channel(ChannelRow("#e", "", 1), ME)
    row = await store.append_message(NewMessage("#e", ME, "channel", "#e", "old words", 1))
    kept = await store.append_message(NewMessage("#e", ME, "channel", "#e", "words stay", 1))
    await update_content(store, row.id, "brand new text")
    assert await ids(store, parse_query("old"), limit=10) == []
    assert await ids(store, parse_query("brand"), limit=10) == [row.id]
    assert await ids(store, parse_query("words"), limit=10) == [kept.id]
    await update_content(store, row.id, "")
    await update_content(store, kept.id, "")
    for word in ("brand", "words", "stay"):
        assert await ids(store, parse_query(word), limit=10) == []
    await update_content(store, kept.id, "back again")  # not a protocol path; the index copes
    assert await ids(store, parse_query("again"), limit=10) == [kept.id]
    await index_is_sound(store)


async def test_edits_and_deletes_before_indexing_and_after_it_meet_in_the_index(
    store: Store,
) -> None:
    """Messages not yet indexed (SQLite: after ``up_to``) edited or deleted, beside
    indexed ones edited: one search indexes them all, each by its text now."""
    await store.create_user(UserRow(ME, "hash", 1))
    await store.join_channel(ChannelRow("#p", "", 1), ME)
    indexed = await store.append_message(NewMessage("#p", ME, "channel", "#p", "first draft", 1))
    assert await ids(store, parse_query("draft"), limit=10) == [indexed.id]
    pending = await store.append_message(NewMessage("#p", ME, "channel", "#p", "rough draft", 1))
    gone = await store.append_message(NewMessage("#p", ME, "channel", "#p", "draft gone", 1))
    await update_content(store, pending.id, "polished text")
    await update_content(store, gone.id, "")
    await update_content(store, indexed.id, "final text")
    assert await ids(store, parse_query("draft"), limit=10) == []
    assert await ids(store, parse_query("text"), limit=10) == [pending.id, indexed.id]
    await update_content(store, pending.id, "polished again")
    assert await ids(store, parse_query("text"), limit=10) == [indexed.id]
    await index_is_sound(store)


async def test_messages_stored_before_the_index_existed_are_found(
    make_store: StoreFactory,
) -> None:
    """The migration back-fills: a database of the previous version keeps its history
    searchable (simulated by removing the search schema and its migration record)."""
    store = make_store()
    await store.open()
    await store.create_user(UserRow(ME, "hash", 1))
    await store.join_channel(ChannelRow("#old", "", 1), ME)
    row = await store.append_message(NewMessage("#old", ME, "channel", "#old", "Ancient café", 1))
    await drop_search_schema(store)
    await store.close()
    reopened = make_store()
    await reopened.open()
    try:
        assert await ids(reopened, parse_query("cafe ancient"), limit=10) == [row.id]
    finally:
        await reopened.close()


async def drop_search_schema(store: Store) -> None:
    if isinstance(store, SqliteStore):

        def drop(conn: Any) -> None:
            for statement in (
                "DROP TRIGGER IF EXISTS messages_fts_insert",  # before search migration 2
                "DROP TRIGGER messages_fts_delete",
                "DROP TRIGGER messages_fts_update",
                "DROP TABLE messages_fts",
                "DROP VIEW messages_search_source",
                "DROP TABLE search_pending",
                "DROP TABLE IF EXISTS search_indexed",
                "DELETE FROM schema_migrations WHERE component = 'search'",
            ):
                conn.execute(statement)

        await store.run(drop)
        return
    assert isinstance(store, PostgresStore)

    async def drop_pg(conn: Any) -> None:
        await conn.execute("ALTER TABLE messages DROP COLUMN search_vector")
        await conn.execute("DROP FUNCTION messages_search_stale() CASCADE")
        await conn.execute("DELETE FROM schema_migrations WHERE component = 'search'")

    await store._write(drop_pg)


@pytest.mark.parametrize("count", [1, 300])
async def test_many_readable_conversations(store: Store, count: int) -> None:
    """A user in many channels and DMs: one query covers them all."""
    await store.create_user(UserRow(ME, "hash", 1))
    expected = []
    for number in range(count):
        channel = f"#m{number}"
        await store.join_channel(ChannelRow(channel, "", 1), ME)
        row = await store.append_message(NewMessage(channel, ME, "channel", channel, "needle", 1))
        expected.append(row.id)
        await store.append_message(
            NewMessage(f"#z{number}", ME, "channel", f"#z{number}", "needle", 1)
        )
    assert await ids(store, parse_query("needle"), limit=1000) == expected[::-1]
