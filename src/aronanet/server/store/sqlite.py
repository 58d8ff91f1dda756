"""The default ``Store``: one SQLite file in WAL mode, owned by one writer thread.

Group commit (ARCHITECTURE.md "The hot path"): every operation is a job queued to the
writer thread. The thread takes all jobs that arrived while its previous commit ran, runs
them in ONE transaction (each in a savepoint, so one failing job does not spoil the others)
and commits once with ``synchronous=FULL``. Only then are the callers' futures resolved,
so a caller that acknowledges after ``await`` acknowledges only what is on disk (§3: an
``OK`` to ``MSG`` survives SIGKILL). One fsync thus covers a whole burst of messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aronanet.server.logs import log_event
from aronanet.server.store.base import (
    ChannelMembers,
    ChannelRow,
    DuplicateUserError,
    HistoryQuery,
    MessageRow,
    NewMessage,
    Store,
    UserRow,
    history_statement,
    user_key,
)
from aronanet.server.store.schema import migrate

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]"]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]

logger = logging.getLogger(__name__)

#: Upper bound on jobs per transaction, so one commit never holds replies back for long.
MAX_BATCH = 512

#: §4 "Only a user who can read a message carrying that image": a member of its channel
#: (the same rule as HISTORY), or either party of its DM. Uses ``messages_by_image``.
_READABLE_ATTACHMENT = """
    SELECT m.attachment FROM messages m
    WHERE m.attachment IS NOT NULL AND json_extract(m.attachment, '$.image') = ?1
      AND ((m.dest_type = 'channel' AND EXISTS (
              SELECT 1 FROM memberships ms WHERE ms.channel = m.dest AND ms.user_key = ?2))
           OR (m.dest_type = 'user' AND (lower(m.sender) = ?2 OR lower(m.dest) = ?2)))
    LIMIT 1
"""
#: Bytes of the distinct images a user has posted: what the upload quota counts.
_UPLOADED_BYTES = """
    SELECT COALESCE(SUM(size), 0) FROM (
      SELECT MAX(json_extract(attachment, '$.size')) AS size FROM messages
      WHERE attachment IS NOT NULL AND sender = ?1
      GROUP BY json_extract(attachment, '$.image'))
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the database with the durability settings the node's promises rest on."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class GroupCommitWriter:
    """A thread that owns one SQLite connection and commits queued jobs in batches."""

    def __init__(self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="aronanet-sqlite", daemon=True)
        self.commits = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue ``fn(conn)``; the future resolves after the batch holding it commits."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put((fn, future))
        return future

    def stop(self) -> None:
        """Finish every queued job, commit, and close the connection (blocking)."""
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            last = False
            while not last:
                jobs, last = self._next_batch()
                if jobs:
                    self._settle(self._run_batch(jobs))
        finally:
            self._conn.close()

    def _next_batch(self) -> tuple[list[Job], bool]:
        """Block for one job, then take every job already waiting (the group).

        Returns the jobs and whether the stop sentinel was among them.
        """
        first = self._jobs.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _run_batch(self, jobs: list[Job]) -> list[Outcome]:
        conn = self._conn
        outcomes: list[Outcome] = []
        conn.execute("BEGIN IMMEDIATE")
        for fn, future in jobs:
            conn.execute("SAVEPOINT job")
            try:
                result = fn(conn)
            except Exception as exc:  # one job's failure is that caller's, not the batch's
                conn.execute("ROLLBACK TO job")
                outcomes.append((future, None, exc))
            else:
                outcomes.append((future, result, None))
            conn.execute("RELEASE job")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log_event(logger, "store_commit_failed", logging.ERROR, jobs=len(jobs), error=exc)
            conn.execute("ROLLBACK")
            return [(future, None, exc) for future, _, _ in outcomes]
        self.commits += 1
        return outcomes

    def _settle(self, outcomes: list[Outcome]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
            self._loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class SqliteStore(Store):
    """``Store`` on a SQLite file; see the module docstring for the commit discipline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: GroupCommitWriter | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(self._connect_and_migrate)
        self._writer = GroupCommitWriter(conn, asyncio.get_running_loop())
        self._writer.start()

    def _connect_and_migrate(self) -> sqlite3.Connection:
        conn = connect(self.path)
        versions = migrate(conn)
        log_event(logger, "store_opened", path=self.path, **versions)
        return conn

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await asyncio.to_thread(writer.stop)

    @property
    def commits(self) -> int:
        """Transactions committed so far (a batch of many jobs counts once)."""
        return self._writer.commits if self._writer else 0

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``fn(conn)`` on the writer thread inside the next group commit.

        The extension point for components with their own tables (see
        ``schema.register_migrations``); ``fn`` must not commit or begin transactions.
        """
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer.submit(fn)

    async def create_user(self, user: UserRow) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (name_key, name, password_hash, created) VALUES (?,?,?,?)",
                    (user_key(user.name), user.name, user.password_hash, user.created),
                )
            except sqlite3.IntegrityError as exc:
                raise DuplicateUserError(user.name) from exc

        await self.run(insert)

    async def get_user(self, name: str) -> UserRow | None:
        def select(conn: sqlite3.Connection) -> UserRow | None:
            row = conn.execute(
                "SELECT name, password_hash, created FROM users WHERE name_key = ?",
                (user_key(name),),
            ).fetchone()
            return UserRow(*row) if row else None

        return await self.run(select)

    async def load_channels(self) -> list[ChannelRow]:
        def select(conn: sqlite3.Connection) -> list[ChannelRow]:
            rows = conn.execute("SELECT name, topic, created FROM channels ORDER BY name")
            return [ChannelRow(*row) for row in rows]

        return await self.run(select)

    async def load_memberships(self) -> list[tuple[str, str]]:
        def select(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT m.channel, u.name FROM memberships m "
                "JOIN users u ON u.name_key = m.user_key ORDER BY m.channel, u.name_key"
            )
            return [(channel, name) for channel, name in rows]

        return await self.run(select)

    async def load_channel(self, name: str) -> ChannelMembers | None:
        def select(conn: sqlite3.Connection) -> ChannelMembers | None:
            row = conn.execute(
                "SELECT name, topic, created FROM channels WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return None
            members = conn.execute(
                "SELECT u.name FROM memberships m JOIN users u ON u.name_key = m.user_key "
                "WHERE m.channel = ? ORDER BY u.name_key",
                (name,),
            )
            return ChannelMembers(ChannelRow(*row), tuple(member for (member,) in members))

        return await self.run(select)

    async def channels_of(self, user: str) -> list[str]:
        def select(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT channel FROM memberships WHERE user_key = ? ORDER BY channel",
                (user_key(user),),
            )
            return [channel for (channel,) in rows]

        return await self.run(select)

    async def join_channel(self, channel: ChannelRow, user: str) -> bool:
        def insert(conn: sqlite3.Connection) -> bool:
            conn.execute(
                "INSERT OR IGNORE INTO channels (name, topic, created) VALUES (?,?,?)",
                (channel.name, channel.topic, channel.created),
            )
            cursor = conn.execute(
                "INSERT OR IGNORE INTO memberships (channel, user_key) VALUES (?,?)",
                (channel.name, user_key(user)),
            )
            return cursor.rowcount == 1

        return await self.run(insert)

    async def part_channel(self, channel: str, user: str) -> None:
        await self.run(
            lambda conn: conn.execute(
                "DELETE FROM memberships WHERE channel = ? AND user_key = ?",
                (channel, user_key(user)),
            )
        )

    async def delete_empty_channel(self, channel: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM channels WHERE name = ? "
                "AND NOT EXISTS (SELECT 1 FROM memberships WHERE channel = ?)",
                (channel, channel),
            )
            if cursor.rowcount != 1:
                return False
            conn.execute(
                "DELETE FROM messages WHERE conversation = ? AND dest_type = 'channel'",
                (channel,),
            )
            return True

        return await self.run(delete)

    async def set_topic(self, channel: str, topic: str) -> None:
        await self.run(
            lambda conn: conn.execute(
                "UPDATE channels SET topic = ? WHERE name = ?", (topic, channel)
            )
        )

    async def append_message(self, message: NewMessage) -> MessageRow:
        def insert(conn: sqlite3.Connection) -> MessageRow:
            cursor = conn.execute(
                f"INSERT INTO messages ({NewMessage.COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                message.values(),
            )
            assert cursor.lastrowid is not None
            return message.stored_as(cursor.lastrowid)

        return await self.run(insert)

    async def history(self, query: HistoryQuery) -> list[MessageRow]:
        return await self.run(lambda conn: select_history(conn, query))

    async def readable_image_attachment(self, user: str, image: str) -> str | None:
        def select(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(_READABLE_ATTACHMENT, (image, user_key(user))).fetchone()
            return row[0] if row else None

        return await self.run(select)

    async def uploaded_image_bytes(self, sender: str) -> int:
        row = await self.run(lambda conn: conn.execute(_UPLOADED_BYTES, (sender,)).fetchone())
        return int(row[0])


def select_history(conn: sqlite3.Connection, query: HistoryQuery) -> list[MessageRow]:
    """§3 HISTORY: latest ``limit``; or right after/before an id; always oldest first."""
    sql, args, newest_first = history_statement(query, "?")
    rows = [MessageRow(*row) for row in conn.execute(sql, args)]
    if newest_first:
        rows.reverse()
    return rows
