"""The SQLite database's files: connections with the node's settings, the write-ahead
log's checkpoints (on a thread of their own) and its flush to disk (after ``COMMIT``).

WAL checkpoints copy the log into the database, with flushes of their own; they run on a
thread and connection of their own (``Checkpointer``), never inside a group's commit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

from aronanet.server.logs import log_event

logger = logging.getLogger(__name__)

#: How long a write waits for another process's write lock (``aronanet admin``) to go.
BUSY_TIMEOUT_MS = 5000


class WalFlush:
    """``fdatasync`` of a database's write-ahead log: what ``synchronous=FULL`` does inside
    ``COMMIT``, done after it. The log is reopened if SQLite ever replaced the file."""

    def __init__(self, database: Path) -> None:
        self._path = Path(f"{database}-wal")
        self._fd: int | None = None
        self._inode = -1

    def __call__(self) -> None:
        inode = os.stat(self._path).st_ino
        if self._fd is None or inode != self._inode:
            self.close()
            self._fd, self._inode = os.open(self._path, os.O_RDONLY), inode
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """Open the database with the durability settings the node's promises rest on."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


class Checkpointer:
    """A thread with a connection of its own that checkpoints the WAL when nudged.

    ``PASSIVE`` checkpoints never wait for the writer nor block it: they copy what they can
    and leave the rest for the next nudge. The writer's connection has automatic
    checkpoints turned off, so no group commit ever pays for one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="aronanet-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        conn = connect(self._path)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next nudge tries again
                    log_event(logger, "store_checkpoint_failed", logging.WARNING, error=exc)
        finally:
            conn.close()
