"""The ArTP/1.1 sync part of the ``Store`` contract (§14.3-14.6), on BOTH backends, and the
upgrade of a database written by the previous version (it must open, and keep its DMs)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from aronanet.server.store import postgres_schema, schema
from aronanet.server.store.base import Store
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import (
    ChannelRow,
    ConversationQuery,
    DeviceSighting,
    NewMessage,
    UserRow,
    dm_conversation,
)
from aronanet.server.store.sqlite import SqliteStore
from aronanet.server.store.sync_sql import UNREAD_CAP

from .services import fresh_schema


def dm(sender: str, recipient: str, content: str, **extra: object) -> NewMessage:
    conversation = dm_conversation(sender, recipient)
    return NewMessage(conversation, sender, "user", recipient, content, 1700000000, **extra)  # type: ignore[arg-type]


def said(channel: str, sender: str, content: str, **extra: object) -> NewMessage:
    return NewMessage(channel, sender, "channel", channel, content, 1700000000, **extra)  # type: ignore[arg-type]


async def users(store: Store, *names: str) -> None:
    for name in names:
        await store.create_user(UserRow(name, "hash", 1))


async def test_a_known_cid_returns_the_first_message_marked_duplicate(store: Store) -> None:
    first = await store.append_message(said("#c", "Ann", "ok", cid="c1"))
    again = await store.append_message(said("#c", "Ann", "ok, changed", cid="c1"))
    assert (again.id, again.content, again.cid, again.duplicate) == (first.id, "ok", "c1", True)
    other_sender = await store.append_message(said("#c", "Bob", "ok", cid="c1"))
    assert other_sender.id != first.id and not other_sender.duplicate


async def test_concurrent_appends_of_one_cid_store_one_message(store: Store) -> None:
    rows = await asyncio.gather(
        *(store.append_message(said("#r", "Ann", "x", cid="same")) for _ in range(20))
    )
    assert len({row.id for row in rows}) == 1
    assert sum(not row.duplicate for row in rows) == 1


async def test_conversations_list_channels_and_dm_peers_with_counts(store: Store) -> None:
    await users(store, "Ann", "Bob", "Cy")
    await store.join_channel(ChannelRow("#b", "", 1), "Ann")
    await store.join_channel(ChannelRow("#a", "", 1), "Ann")
    m1 = await store.append_message(said("#a", "Bob", "hi @ann", mentioned=("ann",)))
    await store.append_message(said("#a", "Ann", "me"))
    await store.append_message(dm("Cy", "Ann", "psst"))
    await store.append_message(dm("Ann", "Bob", "yo"))
    rows = await store.conversations(ConversationQuery("Ann", limit=10))
    assert [(r.dest_type, r.dest) for r in rows] == [
        ("channel", "#a"),
        ("channel", "#b"),
        ("user", "Bob"),
        ("user", "Cy"),
    ]
    a = rows[0]
    assert (a.unread, a.mentions, a.read, a.last_timestamp) == (1, 1, None, 1700000000)
    assert rows[1].last_id is None and rows[1].unread == 0
    assert (rows[2].unread, rows[3].unread) == (0, 1)
    marker, moved = await store.mark_read("Ann", "#a", m1.id)
    assert (marker, moved) == (m1.id, True)
    assert await store.mark_read("Ann", "#a", m1.id - 1) == (m1.id, False)
    a = (await store.conversations(ConversationQuery("Ann", limit=1)))[0]
    assert (a.unread, a.mentions, a.read) == (0, 0, m1.id)
    after = await store.conversations(ConversationQuery("Ann", limit=2, after=("channel", "#b")))
    assert [r.dest for r in after] == ["Bob", "Cy"]
    # Bob sees Ann as a DM peer too, from the same messages.
    bob = await store.conversations(ConversationQuery("Bob", limit=10))
    assert [(r.dest_type, r.dest) for r in bob] == [("user", "Ann")]


async def test_unread_counts_stop_at_the_cap(make_store) -> None:
    opened = make_store()
    await opened.open()
    try:
        await users(opened, "Ann", "Bob")
        await opened.append_message(dm("Bob", "Ann", "first", mentioned=("ann",)))
        _bulk_insert_mentioning_dms(opened, UNREAD_CAP + 1)  # one by one takes a minute
        [state] = await opened.conversations(ConversationQuery("Ann", limit=10))
        assert (state.unread, state.mentions) == (UNREAD_CAP, UNREAD_CAP)
    finally:
        await opened.close()


async def test_devices_are_recorded_signed_in_renamed_and_revoked(store: Store) -> None:
    await users(store, "Ann")
    for device, seen in (("SHA256:one", 10), ("SHA256:two", 20), ("SHA256:three", 30)):
        await store.record_device(DeviceSighting("Ann", device, device, False, seen, "::1"), 2)
    listed = await store.devices_of("ann")
    assert [(d.device, d.last_seen) for d in listed] == [("SHA256:three", 30), ("SHA256:two", 20)]
    assert await store.device_signed_in("Ann", "SHA256:two", 40, "10.0.0.2")
    assert not await store.device_signed_in("Ann", "SHA256:one", 40, "10.0.0.2")
    # A password login without a name keeps the name; with one, renames.
    await store.record_device(DeviceSighting("Ann", "SHA256:two", "other", False, 50, "x"), 2)
    assert (await store.devices_of("Ann"))[0].name == "SHA256:two"
    assert await store.rename_device("Ann", "SHA256:two", "phone")
    assert not await store.rename_device("Ann", "SHA256:gone", "phone")
    await store.revoke_devices_except("Ann", "SHA256:two")
    assert [d.device for d in await store.devices_of("Ann")] == ["SHA256:two"]
    assert await store.revoke_device("Ann", "SHA256:two")
    assert not await store.revoke_device("Ann", "SHA256:two")
    await store.set_password_hash("Ann", "new hash")
    user = await store.get_user("ann")
    assert user is not None and user.password_hash == "new hash"


def _bulk_insert_mentioning_dms(opened: Store, count: int) -> None:
    """``count`` more DMs Bob -> Ann that mention Ann, in one transaction, straight in SQL."""
    conversation = dm_conversation("Ann", "Bob")
    messages = [(conversation, f"m{n}") for n in range(count)]
    insert = (
        "INSERT INTO messages (conversation, sender, dest_type, dest, content, timestamp) "
        "VALUES (?, 'Bob', 'user', 'Ann', ?, 1)"
    )
    mention = (
        "INSERT INTO mentions (user_key, conversation, message_id) "
        "SELECT 'ann', conversation, id FROM messages WHERE conversation = ? "
        "ON CONFLICT DO NOTHING"
    )
    if isinstance(opened, PostgresStore):
        with psycopg.connect(opened.dsn) as conn, conn.cursor() as cursor:
            cursor.executemany(insert.replace("?", "%s"), messages)
            cursor.execute(mention.replace("?", "%s"), (conversation,))
        return
    assert isinstance(opened, SqliteStore)
    with contextlib.closing(sqlite3.connect(opened.path)) as conn, conn:
        conn.executemany(insert, messages)
        conn.execute(mention, (conversation,))


# ------------------------------------------------------------------ upgrading a database


async def test_an_sqlite_database_of_the_previous_version_opens_and_keeps_its_dms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as old_version:
        old_version.setattr(schema, "_REGISTRY", _without(schema._REGISTRY, "sync"))
        conn = sqlite3.connect(path, isolation_level=None)
        schema.migrate(conn)
        _write_old_rows(conn.execute)
        conn.close()
    await _check_upgraded(SqliteStore(path))


async def test_a_postgres_database_of_the_previous_version_opens_and_keeps_its_dms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fresh_schema() as url:
        with monkeypatch.context() as old_version:
            old_version.setattr(
                postgres_schema, "MIGRATIONS", _without(postgres_schema.MIGRATIONS, "sync")
            )
            old = PostgresStore(url)
            await old.open()
            await old.close()
        with psycopg.connect(url, autocommit=True) as conn:
            _write_old_rows(lambda sql, args=(): conn.execute(sql.replace("?", "%s"), args))
        await _check_upgraded(PostgresStore(url))


#: Components that came after ``sync``: a database of the version before it has none.
LATER_COMPONENTS = ("lifecycle", "search", "moderation")


def _without(registry: dict[str, tuple[str, ...]], component: str) -> dict[str, tuple[str, ...]]:
    """The migrations of the version before ``component`` (and everything after it)."""
    return {
        name: scripts
        for name, scripts in registry.items()
        if name != component and name not in LATER_COMPONENTS
    }


def _write_old_rows(execute) -> None:  # type: ignore[no-untyped-def]
    """What the previous version stored: users and a DM, in its own columns."""
    for name in ("Ann", "Bob"):
        execute("INSERT INTO users VALUES (?, ?, 'h', 1)", (name.lower(), name))
    execute(
        "INSERT INTO messages (conversation, sender, dest_type, dest, content, timestamp) "
        "VALUES (?, 'Bob', 'user', 'Ann', 'old dm', 5)",
        (dm_conversation("Ann", "Bob"),),
    )


async def _check_upgraded(upgraded: Store) -> None:
    await upgraded.open()
    try:
        [state] = await upgraded.conversations(ConversationQuery("Ann", limit=10))
        assert (state.dest_type, state.dest, state.unread, state.mentions) == ("user", "Bob", 1, 0)
        again = await upgraded.append_message(dm("Ann", "Bob", "new", cid="k"))
        assert not again.duplicate
        assert (await upgraded.append_message(dm("Ann", "Bob", "new", cid="k"))).duplicate
    finally:
        await upgraded.close()
