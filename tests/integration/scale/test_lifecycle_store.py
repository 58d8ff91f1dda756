"""The ``lifecycle`` part of the ``Store`` contract (§14.9-14.14) on BOTH backends: edits,
tombstones, reactions, change numbers, HISTORY ``around``; and the upgrade of a database
written before it (old messages get a rev, new changes number after them)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest

from aronanet.server.store import postgres_schema, schema
from aronanet.server.store.lifecycle import LifecycleStore
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import (
    ChangesQuery,
    ChannelRow,
    ConversationQuery,
    EditRequest,
    HistoryQuery,
    NewMessage,
    ReactionRequest,
    Refusal,
    UserRow,
)
from aronanet.server.store.sqlite import SqliteStore

from .services import fresh_schema

CHANNEL = "#life"


def said(sender: str, content: str, **extra: object) -> NewMessage:
    return NewMessage(CHANNEL, sender, "channel", CHANNEL, content, 1700000000, **extra)  # type: ignore[arg-type]


def reaction(
    message_id: int, user: str, emoji: str, *, add: bool = True, most: int = 20
) -> ReactionRequest:
    return ReactionRequest(message_id, user, emoji, add, most)


@pytest.fixture
async def lifecycle_store(store: LifecycleStore) -> LifecycleStore:
    for name in ("Ann", "Bob", "Cy"):
        await store.create_user(UserRow(name, "hash", 1))
    return store


async def test_an_edit_replaces_the_text_and_bumps_the_rev(lifecycle_store: LifecycleStore) -> None:
    store = lifecycle_store
    first = await store.append_message(said("Ann", "helo"))
    second = await store.append_message(said("Ann", "second"))
    assert first.rev < second.rev
    change = await store.edit_message(EditRequest(first.id, "ann", "hello", 1700000100))
    assert change.refusal is None and change.row is not None
    assert (change.row.content, change.row.edited) == ("hello", 1700000100)
    assert change.row.rev > second.rev
    [stored] = [row for row in await store.history(HistoryQuery(CHANNEL, 10)) if row.id == first.id]
    assert (stored.content, stored.edited, stored.rev) == ("hello", 1700000100, change.row.rev)
    assert await store.kept_edits(first.id) == []  # not kept unless asked


async def test_only_the_author_edits_a_live_message(lifecycle_store: LifecycleStore) -> None:
    store = lifecycle_store
    row = await store.append_message(said("Ann", "mine"))
    assert (
        await store.edit_message(EditRequest(row.id, "Bob", "x", 1))
    ).refusal is Refusal.NOT_AUTHOR
    assert (
        await store.edit_message(EditRequest(row.id + 99, "Ann", "x", 1))
    ).refusal is Refusal.MISSING
    await store.delete_message(row.id, "Ann", 2)
    assert (await store.edit_message(EditRequest(row.id, "Ann", "x", 3))).refusal is Refusal.MISSING
    assert (await store.delete_message(row.id, "Ann", 3)).refusal is Refusal.MISSING


async def test_kept_edit_history_goes_with_the_delete(lifecycle_store: LifecycleStore) -> None:
    store = lifecycle_store
    row = await store.append_message(said("Ann", "v1"))
    await store.edit_message(EditRequest(row.id, "Ann", "v2", 10, keep_history=True))
    await store.edit_message(EditRequest(row.id, "Ann", "v3", 20, keep_history=True))
    assert await store.kept_edits(row.id) == [(10, "v1"), (20, "v2")]
    await store.delete_message(row.id, "Ann", 30)
    assert await store.kept_edits(row.id) == []


async def test_a_delete_leaves_a_tombstone_and_drops_what_hung_on_it(
    lifecycle_store: LifecycleStore,
) -> None:
    store = lifecycle_store
    image = "a" * 64
    attachment = json.dumps(
        {
            "type": "image",
            "image": image,
            "name": "x.png",
            "mime": "image/png",
            "size": 1,
            "width": 1,
            "height": 1,
        }
    )
    shared = await store.append_message(said("Ann", "pic", attachment=attachment, cid="c1"))
    again = await store.append_message(said("Bob", "same pic", attachment=attachment))
    await store.react(reaction(shared.id, "Bob", "👍"))
    reply = await store.append_message(said("Bob", "nice", reply_to=shared.id))
    change = await store.delete_message(shared.id, "Ann", 50)
    assert change.row is not None and change.orphaned_image is None  # Bob's still has it
    tomb = change.row
    assert (tomb.content, tomb.attachment, tomb.deleted, tomb.cid) == ("", None, 50, "c1")
    decorations = await store.decorations([tomb, reply])
    assert decorations.reactions == {}
    assert decorations.quoted[shared.id].deleted == 50
    last = await store.delete_message(again.id, "Bob", 51)
    assert last.orphaned_image == image  # no message carries it now: the file may go
    assert await store.readable_image_attachment("bob", image) is None


async def test_a_deleted_message_is_neither_unread_nor_a_mention(
    lifecycle_store: LifecycleStore,
) -> None:
    store = lifecycle_store
    await store.join_channel(ChannelRow(CHANNEL, "", 1), "Ann")

    async def counts() -> tuple[int, int]:
        (state,) = await store.conversations(ConversationQuery("Ann", limit=10))
        return state.unread, state.mentions

    plain = await store.append_message(said("Bob", "hello"))
    mention = await store.append_message(said("Bob", "hi @Ann", mentioned=("ann",)))
    await store.append_message(said("Cy", "me too"))
    assert await counts() == (3, 1)
    await store.delete_message(mention.id, "Bob", 60)
    assert await counts() == (2, 0)
    await store.delete_message(plain.id, "Bob", 61)
    assert await counts() == (1, 0)


async def test_reactions_are_per_user_and_bounded_per_message(
    lifecycle_store: LifecycleStore,
) -> None:
    store = lifecycle_store
    row = await store.append_message(said("Ann", "react to me"))
    first = await store.react(reaction(row.id, "Bob", "👍"))
    twice = await store.react(reaction(row.id, "Bob", "👍"))  # another device of Bob's
    assert (first.count, first.changed, twice.count, twice.changed) == (1, True, 1, False)
    assert twice.row is not None and first.row is not None and twice.row.rev == first.row.rev
    await store.react(reaction(row.id, "Cy", "👍", most=2))
    await store.react(reaction(row.id, "Cy", "🎉", most=2))
    over = await store.react(reaction(row.id, "Ann", "😀", most=2))
    assert over.refusal is Refusal.TOO_MANY
    same_emoji = await store.react(reaction(row.id, "Ann", "🎉", most=2))  # not a new emoji
    assert same_emoji.refusal is None and same_emoji.count == 2
    decorations = await store.decorations([row])
    assert decorations.reactions[row.id] == {"👍": ["Bob", "Cy"], "🎉": ["Cy", "Ann"]}
    gone = await store.react(reaction(row.id, "Bob", "👍", add=False))
    assert (gone.count, gone.changed) == (1, True)
    again = await store.react(reaction(row.id, "Bob", "👍", add=False))
    assert (again.count, again.changed) == (1, False)


async def test_changes_returns_what_changed_after_a_rev_in_rev_order(
    lifecycle_store: LifecycleStore,
) -> None:
    store = lifecycle_store
    rows = [await store.append_message(said("Ann", f"m{i}")) for i in range(4)]
    since = rows[-1].rev
    await store.edit_message(EditRequest(rows[1].id, "Ann", "m1 edited", 5))
    await store.react(reaction(rows[0].id, "Bob", "👍"))
    await store.delete_message(rows[2].id, "Ann", 6)
    changed = await store.changes(ChangesQuery(CHANNEL, since, 10))
    assert [row.id for row in changed] == [rows[1].id, rows[0].id, rows[2].id]
    assert [row.rev for row in changed] == sorted(row.rev for row in changed)
    assert await store.changes(ChangesQuery(CHANNEL, changed[-1].rev, 10)) == []
    assert len(await store.changes(ChangesQuery(CHANNEL, 0, 2))) == 2


async def test_history_around_centres_on_the_anchor(lifecycle_store: LifecycleStore) -> None:
    store = lifecycle_store
    ids = [(await store.append_message(said("Ann", f"m{i}"))).id for i in range(10)]
    around = await store.history(HistoryQuery(CHANNEL, 4, around=ids[5]))
    assert [row.id for row in around] == ids[3:7]
    near_end = await store.history(HistoryQuery(CHANNEL, 4, around=ids[9]))
    assert [row.id for row in near_end] == ids[6:10]
    near_start = await store.history(HistoryQuery(CHANNEL, 5, around=ids[0]))
    assert [row.id for row in near_start] == ids[0:5]


async def test_a_delete_racing_an_edit_stays_deleted(lifecycle_store: LifecycleStore) -> None:
    store = lifecycle_store
    for _ in range(5):
        row = await store.append_message(said("Ann", "race"))
        edit, delete = await asyncio.gather(
            store.edit_message(EditRequest(row.id, "Ann", "edited", 2)),
            store.delete_message(row.id, "Ann", 3),
        )
        assert delete.refusal is None
        [final] = await store.history(HistoryQuery(CHANNEL, 1, around=row.id))
        assert (final.content, final.deleted, final.edited) == ("", 3, None)
        assert edit.refusal in (None, Refusal.MISSING)


# ------------------------------------------------------------------ upgrading a database


#: A message as the version before lifecycle stored it, in its own columns.
OLD_MESSAGE = (
    "INSERT INTO messages (conversation, sender, dest_type, dest, content, timestamp) "
    f"VALUES ('{CHANNEL}', 'Ann', 'channel', '{CHANNEL}', 'old', 5)"
)


def _before_lifecycle(registry: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {
        name: scripts
        for name, scripts in registry.items()
        if name not in ("lifecycle", "search", "moderation")  # and what came after it
    }


async def _check_upgraded(upgraded: LifecycleStore) -> None:
    await upgraded.open()
    try:
        [old] = await upgraded.history(HistoryQuery(CHANNEL, 10))
        assert (old.content, old.rev, old.reply_to, old.edited, old.deleted) == (
            "old",
            old.id,  # an old message's rev is its id
            None,
            None,
            None,
        )
        new = await upgraded.append_message(said("Ann", "new", reply_to=old.id))
        assert new.rev > old.rev and new.reply_to == old.id
        edited = await upgraded.edit_message(EditRequest(old.id, "Ann", "old, edited", 9))
        assert edited.row is not None and edited.row.rev > new.rev
    finally:
        await upgraded.close()


async def test_an_sqlite_database_before_lifecycle_upgrades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as old_version:
        old_version.setattr(schema, "_REGISTRY", _before_lifecycle(schema._REGISTRY))
        conn = sqlite3.connect(path, isolation_level=None)
        schema.migrate(conn)
        conn.execute(OLD_MESSAGE)
        conn.close()
    await _check_upgraded(SqliteStore(path))


async def test_a_postgres_database_before_lifecycle_upgrades(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fresh_schema() as url:
        with monkeypatch.context() as old_version:
            old_version.setattr(
                postgres_schema, "MIGRATIONS", _before_lifecycle(postgres_schema.MIGRATIONS)
            )
            old = PostgresStore(url)
            await old.open()
            await old.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_MESSAGE)
        await _check_upgraded(PostgresStore(url))


async def test_revs_keep_increasing_across_a_reopen(make_store) -> None:  # type: ignore[no-untyped-def]
    first = make_store()
    await first.open()
    row = await first.append_message(said("Ann", "before"))
    edited = await first.edit_message(EditRequest(row.id, "Ann", "edited", 2))
    await first.close()
    again = make_store()
    await again.open()
    try:
        later = await again.append_message(said("Ann", "after"))
        assert edited.row is not None and later.rev > edited.row.rev > row.rev
    finally:
        await again.close()
