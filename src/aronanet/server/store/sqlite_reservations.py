"""Numbers that readers may see before they are on disk are never handed out twice.

The SQLite writer shows a group to readers (and fans its messages out) as soon as its
``COMMIT`` is in the operating system's hands, and only then waits for the disk's flush
(``sqlite_writer``): a SIGKILL loses nothing, but a power cut during that flush loses the
group. SQLite would then give its numbers out again (``AUTOINCREMENT`` ids from
``sqlite_sequence``, change numbers from ``revisions``), and a message id or change number
that a client already holds as a reply target or a sync cursor would name something else.

So numbers are *reserved* ahead, on disk, the way PostgreSQL logs its sequences ahead: a
group may be shown before its flush only when every number it used is under a reservation
that an earlier group's flush already made durable. The group that comes near the end of
its reservation raises it in its own transaction, so its flush makes room for the next
ones; a group that overtakes the durable reservation (thousands of numbers at once) is run
again with a flush inside its ``COMMIT``. A node that stops cleanly hands back what it did
not use; one that did not resumes past everything it may have shown.
"""

from __future__ import annotations

import sqlite3
import threading

from aronanet.server.store.lifecycle_sql import RevisionCounter

#: Numbers reserved past the last one used, per counter. A raise costs one row update in a
#: group's transaction; an unclean stop skips at most this many.
RESERVE_AHEAD = 4096
#: A reservation is raised when fewer than this many numbers are left under it.
RAISE_WHEN_LEFT = RESERVE_AHEAD // 2
#: The name ``revisions`` (change numbers, §14.14) has in ``reservations``.
REVISIONS = "revisions"

RESERVATIONS_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reservations (name TEXT PRIMARY KEY, upto INTEGER NOT NULL) WITHOUT ROWID;
    """,
)

_SAVE = (
    "INSERT INTO reservations (name, upto) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET upto = excluded.upto"
)


#: Reservations raised by one group's transaction: durable once a flush after its
#: ``COMMIT`` returns (``NumberReservations.flushed``).
Raised = dict[str, int]


class NumberReservations:
    """The reservations of every ``AUTOINCREMENT`` table and of the change numbers; used
    by the writer thread (``resume`` and ``release`` before and after it runs), except
    ``flushed``, which the thread flushing the log calls while the writer goes on."""

    def __init__(self, revisions: RevisionCounter) -> None:
        self._revisions = revisions
        #: Reservations whose transaction is flushed: numbers up to these may be shown early.
        self._durable: dict[str, int] = {}
        self._durable_lock = threading.Lock()
        #: Raised in the current group's transaction (``take_raised`` once it commits).
        self._raised: Raised = {}

    def resume(self, conn: sqlite3.Connection) -> None:
        """At open, in a transaction of its own with a flush in ``COMMIT``: counters resume
        past every reserved number (some may have been shown, then lost), and fresh
        reservations are taken from there."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            reserved = dict(conn.execute("SELECT name, upto FROM reservations").fetchall())
            for name, upto in reserved.items():
                _resume_counter(conn, name, upto)
            used = dict.fromkeys(_counted_tables(conn), 0) | self._used(conn)
            raised = {name: count + RESERVE_AHEAD for name, count in used.items()}
            conn.executemany(_SAVE, raised.items())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._durable = raised

    def cover(self, conn: sqlite3.Connection) -> bool:
        """In a group's transaction, before its ``COMMIT``: whether every number it used is
        under a durable reservation (then it may be shown before its flush). Raises, in this
        transaction, each reservation that is running out."""
        used = self._used(conn)
        with self._durable_lock:
            durable = dict(self._durable)
        raised = {
            name: count + RESERVE_AHEAD
            for name, count in used.items()
            if count + RAISE_WHEN_LEFT > durable.get(name, 0)
        }
        if raised:
            conn.executemany(_SAVE, raised.items())
            self._raised = raised
        return all(count <= durable.get(name, 0) for name, count in used.items())

    def take_raised(self) -> Raised:
        """What the group just committed raised (to pass to ``flushed`` after its flush)."""
        raised, self._raised = self._raised, {}
        return raised

    def flushed(self, raised: Raised) -> None:
        """A flush that began after the ``COMMIT`` of the group that raised ``raised``
        returned: those reservations are durable. Flushes may return for groups out of
        order with later ones' reservations already durable, so a reservation only grows."""
        if not raised:
            return
        with self._durable_lock:
            durable = self._durable
            for name, upto in raised.items():
                durable[name] = max(upto, durable.get(name, 0))

    def rolled_back(self) -> None:
        """The group's transaction was rolled back: what it raised never was."""
        self._raised = {}

    def release(self, conn: sqlite3.Connection) -> None:
        """At a clean stop (every group flushed): reserve only what was used, so the next
        start goes on without a gap. Commits with the connection's own flush setting."""
        conn.execute("BEGIN IMMEDIATE")
        used = dict.fromkeys(_counted_tables(conn), 0) | self._used(conn)
        conn.executemany(_SAVE, used.items())
        conn.execute("COMMIT")

    def _used(self, conn: sqlite3.Connection) -> dict[str, int]:
        """The largest number handed out so far, per counter (this transaction's included)."""
        used: dict[str, int] = dict(conn.execute("SELECT name, seq FROM sqlite_sequence"))
        used[REVISIONS] = self._revisions.current(conn)
        return used


def _counted_tables(conn: sqlite3.Connection) -> list[str]:
    """The ``AUTOINCREMENT`` tables: ``sqlite_sequence`` has a row only for those written."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
        )
    ]


def _resume_counter(conn: sqlite3.Connection, name: str, upto: int) -> None:
    """Move counter ``name`` up to ``upto`` (never down)."""
    if name == REVISIONS:
        conn.execute("UPDATE revisions SET rev = MAX(rev, ?)", (upto,))
        return
    updated = conn.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (upto, name)
    ).rowcount
    if not updated and upto:  # every row was lost, so SQLite forgot its counter too
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, upto))
