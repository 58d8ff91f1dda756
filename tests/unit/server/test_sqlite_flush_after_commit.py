"""The SQLite writer flushes the write-ahead log after ``COMMIT``: a message is seen (fanned
out, readable) during the flush and settled (acknowledged) only after it, and the numbers
seen early are never handed out twice, even when a power cut takes the last groups back."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aronanet.server.store import sqlite as sqlite_store
from aronanet.server.store import sqlite_reservations
from aronanet.server.store.lifecycle_sql import RevisionCounter
from aronanet.server.store.rows import HistoryQuery, MessageRow, NewMessage
from aronanet.server.store.sqlite import SqliteStore
from aronanet.server.store.sqlite_files import WalFlush


def message(content: str) -> NewMessage:
    return NewMessage("#c", "alice", "channel", "#c", content, 1700000000)


class GatedFlush(WalFlush):
    """The real flush, held until the test opens the gate (a disk that takes its time),
    or failing like a disk that reports an I/O error."""

    def __init__(self, database: Path) -> None:
        super().__init__(database)
        self.gate = threading.Event()
        self.gate.set()
        self.error: OSError | None = None
        self.flushes = 0

    def __call__(self) -> None:
        self.gate.wait(timeout=10)
        self.flushes += 1
        if self.error is not None:
            raise self.error
        super().__call__()


class Callbacks:
    """What the store told a caller, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def seen(self, row: MessageRow) -> None:
        self.events.append(("seen", row))

    def settle(self, row: MessageRow | None, error: BaseException | None) -> None:
        self.events.append(("settled", error if error is not None else row))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


async def until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the store did not call back in 5 s")


def gate_flushes(monkeypatch: pytest.MonkeyPatch) -> list[GatedFlush]:
    """The flushes of the stores opened from now on, each a ``GatedFlush``."""
    flushes: list[GatedFlush] = []

    def make(database: Path) -> GatedFlush:
        flushes.append(GatedFlush(database))
        return flushes[-1]

    monkeypatch.setattr(sqlite_store, "WalFlush", make)
    return flushes


@pytest.fixture
async def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqliteStore]:
    flushes = gate_flushes(monkeypatch)
    store = SqliteStore(tmp_path / "node.sqlite3")
    await store.open()
    store.flush = flushes[0]  # type: ignore[attr-defined]
    yield store
    flushes[0].gate.set()
    await store.close()


async def seen_while_flush_held(store: SqliteStore, content: str) -> Callbacks:
    """Hold the store's flush, send ``content``, and wait until it is seen."""
    store.flush.gate.clear()  # type: ignore[attr-defined]
    told = Callbacks()
    store.append_message_then(message(content), told.settle, told.seen)
    await until(lambda: told.events)
    return told


async def test_a_message_is_seen_during_its_flush_and_settled_after_it(gated):
    flush: GatedFlush = gated.flush
    told = await seen_while_flush_held(gated, "hello")
    await asyncio.sleep(0.05)  # time enough for a settle that did not wait for the flush
    assert told.kinds() == ["seen"]
    shown = told.events[0][1]
    # Readers see it too, from its COMMIT on.
    rows = await gated.history(HistoryQuery(conversation="#c", limit=5))
    assert [row.id for row in rows] == [shown.id]

    flush.gate.set()
    await until(lambda: len(told.events) == 2)
    assert told.events[1] == ("settled", shown)


async def test_a_slow_flush_holds_back_acknowledgements_not_the_next_commits(gated):
    """A disk that takes its time to flush one group: the groups committed meanwhile are
    seen at once, and each is settled only by a flush that began after its COMMIT."""
    flush: GatedFlush = gated.flush
    second = Callbacks()
    flushes_at_settle: list[int] = []

    def settle_second(row: MessageRow | None, error: BaseException | None) -> None:
        flushes_at_settle.append(flush.flushes)
        second.settle(row, error)

    first = await seen_while_flush_held(gated, "one")
    gated.append_message_then(message("two"), settle_second, second.seen)
    await until(lambda: second.events)  # seen while the first flush is still held
    assert first.kinds() == ["seen"] and second.kinds() == ["seen"]
    rows = await gated.history(HistoryQuery(conversation="#c", limit=5))
    assert [row.content for row in rows] == ["one", "two"]

    flush.gate.set()
    await until(lambda: len(first.events) == 2 and len(second.events) == 2)
    assert first.events[1] == ("settled", first.events[0][1])
    assert second.events[1] == ("settled", second.events[0][1])
    # The flush held when "two" committed had begun before it: "two" waited for another.
    assert flushes_at_settle == [2]


async def test_a_stop_waits_for_the_flush_of_every_group_shown(gated):
    flush: GatedFlush = gated.flush
    told = await seen_while_flush_held(gated, "last words")
    closing = asyncio.ensure_future(gated.close())
    await asyncio.sleep(0.05)
    assert not closing.done() and told.kinds() == ["seen"]
    flush.gate.set()
    await asyncio.wait_for(closing, 5)
    await until(lambda: len(told.events) == 2)
    assert told.events[1] == ("settled", told.events[0][1])


def test_a_reservation_made_durable_out_of_order_never_shrinks():
    reservations = sqlite_reservations.NumberReservations(RevisionCounter())
    reservations.flushed({"messages": 8192})
    reservations.flushed({"messages": 4096, "revisions": 4096})
    assert reservations._durable == {"messages": 8192, "revisions": 4096}


async def test_a_failed_flush_fails_the_group_and_the_writer_goes_on(gated, caplog):
    flush: GatedFlush = gated.flush
    flush.error = OSError(5, "Input/output error")
    told = Callbacks()
    with caplog.at_level(logging.INFO):
        gated.append_message_then(message("lost?"), told.settle, told.seen)
        await until(lambda: len(told.events) == 2)
    assert told.kinds() == ["seen", "settled"]
    assert isinstance(told.events[1][1], OSError)  # never acknowledged as durable
    failures = [r for r in caplog.records if "store_flush_failed" in r.getMessage()]
    assert failures and all(r.exc_info is None for r in failures)

    flush.error = None
    row = await gated.append_message(message("after"))
    assert row.content == "after" and row.id > told.events[0][1].id


async def test_a_group_past_its_reservation_is_durable_before_anyone_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sqlite_reservations, "RESERVE_AHEAD", 4)
    monkeypatch.setattr(sqlite_reservations, "RAISE_WHEN_LEFT", 2)
    flushes = gate_flushes(monkeypatch)
    store = SqliteStore(tmp_path / "node.sqlite3")
    await store.open()
    try:
        flush = flushes[0]
        flush.gate.clear()  # a flush after COMMIT would hang until the test ends
        told = [Callbacks() for _ in range(10)]
        for n, callbacks in enumerate(told):  # one loop turn: one group of ten numbers
            store.append_message_then(message(f"m{n}"), callbacks.settle, callbacks.seen)
        await until(lambda: all(len(c.events) == 2 for c in told))
        # Ten numbers overtake the durable reservation (4): the group ran again with the
        # flush inside COMMIT, so it was seen only once durable, without the gated flush.
        assert flush.flushes == 0
        assert all(c.kinds() == ["seen", "settled"] for c in told)
        ids = [c.events[1][1].id for c in told]
        assert ids == list(range(ids[0], ids[0] + 10))
        reserved = await store.read(
            lambda conn: dict(conn.execute("SELECT name, upto FROM reservations").fetchall())
        )
        assert reserved["messages"] >= ids[-1] + 4

        # The next message is under the raised reservation: seen before its flush.
        after = Callbacks()
        store.append_message_then(message("next"), after.settle, after.seen)
        await until(lambda: after.events)
        await asyncio.sleep(0.05)
        assert after.kinds() == ["seen"]
        flush.gate.set()
        await until(lambda: len(after.events) == 2)
    finally:
        flushes[0].gate.set()
        await store.close()


async def test_a_clean_restart_goes_on_without_a_gap(tmp_path: Path):
    path = tmp_path / "node.sqlite3"
    store = SqliteStore(path)
    await store.open()
    first = [await store.append_message(message(f"m{n}")) for n in range(3)]
    await store.close()
    disk = sqlite3.connect(path)
    # Nothing reserved past what was used, the counter of a table never written included.
    assert dict(disk.execute("SELECT name, upto FROM reservations").fetchall()) == {
        "messages": first[-1].id,
        "revisions": first[-1].rev,
        "audit_log": 0,
    }
    disk.close()
    store = SqliteStore(path)
    await store.open()
    try:
        after = await store.append_message(message("after"))
    finally:
        await store.close()
    assert after.id == first[-1].id + 1
    assert after.rev == first[-1].rev + 1


#: A node's store in a process of its own, killed after it stored three messages.
_STORE_THEN_DIE = """
import asyncio, os, signal, sys
from pathlib import Path
from aronanet.server.store.rows import NewMessage
from aronanet.server.store.sqlite import SqliteStore

async def main():
    store = SqliteStore(Path(sys.argv[1]))
    await store.open()
    for n in range(3):
        row = await store.append_message(
            NewMessage("#c", "alice", "channel", "#c", f"m{n}", 1700000000))
        print(row.id, row.rev, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_numbers_seen_before_a_power_cut_are_never_handed_out_again(tmp_path: Path):
    path = tmp_path / "node.sqlite3"
    killed = subprocess.run(
        [sys.executable, "-c", _STORE_THEN_DIE, str(path)], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    pairs = [(int(a), int(b)) for a, b in (line.split() for line in killed.stdout.splitlines())]
    assert len(pairs) == 3
    # What a power cut during the last flushes leaves on disk: the last two messages, and
    # the counters' advance with them, never reached it (their readers had seen them).
    disk = sqlite3.connect(path, isolation_level=None)
    disk.execute("DELETE FROM messages WHERE id > ?", (pairs[0][0],))
    disk.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'messages'", (pairs[0][0],))
    disk.execute("UPDATE revisions SET rev = ?", (pairs[0][1],))
    disk.close()

    store = SqliteStore(path)
    await store.open()
    try:
        fresh = await store.append_message(message("after the power cut"))
    finally:
        await store.close()
    assert fresh.id > max(message_id for message_id, _ in pairs)
    assert fresh.rev > max(rev for _, rev in pairs)


def test_the_wal_flush_follows_the_file_sqlite_writes(tmp_path: Path):
    database = tmp_path / "node.sqlite3"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    flush = WalFlush(database)
    flush()
    conn.close()  # the last connection deletes the log; the next one makes a new file
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("INSERT INTO t VALUES (1)")
    flush()  # follows the new file instead of flushing the deleted one
    assert flush._fd is not None and os.fstat(flush._fd).st_nlink == 1
    flush.close()
    conn.close()


async def test_a_clean_stop_that_cannot_write_its_reservations_still_stops(tmp_path: Path, caplog):
    path = tmp_path / "node.sqlite3"
    store = SqliteStore(path)
    await store.open()
    last = await store.append_message(message("before the stop"))
    await store.run(lambda conn: conn.execute("PRAGMA busy_timeout=50"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock at the stop
    try:
        with caplog.at_level(logging.INFO):
            await store.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    failures = [r for r in caplog.records if "store_release_failed" in r.getMessage()]
    assert failures and all(r.exc_info is None for r in failures)

    store = SqliteStore(path)  # the reservations stayed ahead: a gap, never a repeat
    await store.open()
    try:
        after = await store.append_message(message("after"))
    finally:
        await store.close()
    assert after.id > last.id + 1
