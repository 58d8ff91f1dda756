"""HISTORY is answered while the store's writer is stuck behind a write lock held elsewhere:
reads run on connections of their own (SQLite WAL readers, PostgreSQL's read pool), not in
the writer's queue, so a slow commit never holds every reader of the node back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from aronanet.server.store.base import HistoryQuery, NewMessage, Store
from aronanet.server.store.postgres import WRITE_LOCK, PostgresStore
from aronanet.server.store.sqlite import SqliteStore

#: A generous bound: the read must not wait for the writer at all; this only turns a
#: regression into a clear failure instead of a hang.
READ_BOUND = 30.0


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
        other.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        try:
            yield
        finally:
            other.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))


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
