"""HISTORY is answered while the store's writer is stuck behind a write lock held elsewhere:
reads run on connections of their own (SQLite WAL readers, PostgreSQL's read pool), not in
the writer's queue, so a slow commit never holds every reader of the node back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from aronanet.server.store.base import Store
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.postgres_writer import WRITE_LOCK
from aronanet.server.store.rows import HistoryQuery, NewMessage
from aronanet.server.store.sqlite import SqliteStore

from .services import fresh_schema

#: A generous bound: the read must not wait for the writer at all; this only turns a
#: regression into a clear failure instead of a hang.
READ_BOUND = 30.0
#: How the store's writers take their lock: its class, and the hash of the connection's schema.
SCHEMA_WRITE_LOCK = "SELECT pg_advisory_{}(%s, hashtext(current_schema()))"


def message(content: str) -> NewMessage:
    return NewMessage("#busy", "sensei", "channel", "#busy", content, 1)


@contextmanager
def write_lock_held_elsewhere(store: Store) -> Iterator[None]:
    """Another process's write transaction (SQLite) or the writers' advisory lock
    (PostgreSQL), held until the block ends: the store's writer blocks on it."""
    if isinstance(store, SqliteStore):
        other = sqlite3.connect(store.path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    assert isinstance(store, PostgresStore)
    with psycopg.connect(store.dsn, autocommit=True) as other:
        other.execute(SCHEMA_WRITE_LOCK.format("lock"), (WRITE_LOCK,))
        try:
            yield
        finally:
            other.execute(SCHEMA_WRITE_LOCK.format("unlock"), (WRITE_LOCK,))


async def test_history_is_answered_while_the_writer_waits_for_a_lock(store: Store) -> None:
    first = await store.append_message(message("before"))
    with write_lock_held_elsewhere(store):
        stuck = asyncio.ensure_future(store.append_message(message("stuck")))
        await asyncio.sleep(0.2)  # let the writer take the job and block on the lock
        rows = await asyncio.wait_for(
            store.history(HistoryQuery(conversation="#busy", limit=10)), READ_BOUND
        )
        assert [row.id for row in rows] == [first.id]
        assert not stuck.done()  # the writer really was blocked while HISTORY was answered
    stored = await stuck  # and it commits once the lock is released
    rows = await store.history(HistoryQuery(conversation="#busy", limit=10))
    assert [row.content for row in rows] == ["before", stored.content]


async def test_a_community_in_another_schema_writes_while_this_one_is_locked(
    postgres_url: str,
) -> None:
    """The write lock is per schema: two communities in one database never wait for each
    other, while the nodes of one community (one schema) still commit one after another."""
    locked = PostgresStore(postgres_url)
    await locked.open()
    try:
        with fresh_schema() as other_url:
            other = PostgresStore(other_url)
            await other.open()
            with write_lock_held_elsewhere(locked):
                stuck = asyncio.ensure_future(locked.append_message(message("stuck")))
                written = await asyncio.wait_for(other.append_message(message("free")), READ_BOUND)
                assert written.content == "free"
                assert not stuck.done()  # this schema's writer is still waiting for its lock
            await stuck
            await other.close()
    finally:
        await locked.close()
