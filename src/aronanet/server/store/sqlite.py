"""The default ``Store``: one SQLite file in WAL mode, owned by one writer thread.

Every write is a job of the group-commit writer thread (``sqlite_writer``): a message is
fanned out once its group is committed, and acknowledged once the group's write-ahead log
is flushed to disk. A burst of messages is inserted with one ``executemany``
(``MessageInsert``).

Long or frequent reads (HISTORY, CONVERSATIONS) do not queue behind the writer: they run on
``READERS`` read connections of their own, which WAL lets read beside a write transaction,
and see everything committed, so everything acknowledged or fanned out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aronanet.proto.search_query import fts5_any, fts5_expression
from aronanet.server.logs import log_event
from aronanet.server.metrics import Histogram
from aronanet.server.store import sync_sql as sql
from aronanet.server.store.base import DuplicateUserError
from aronanet.server.store.history_sql import around_statement, centre, history_statement
from aronanet.server.store.lifecycle import ScriptFactory
from aronanet.server.store.lifecycle_sql import SQLITE, RevisionCounter, run_sync
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.rows import (
    ChannelMembers,
    ChannelRow,
    ConversationQuery,
    ConversationRow,
    DeviceRow,
    DeviceSighting,
    HistoryQuery,
    MessageRow,
    MessageSearch,
    NewMessage,
    UserRow,
    user_key,
)
from aronanet.server.store.schema import migrate
from aronanet.server.store.search_sql import (
    READABLE_CONVERSATIONS,
    SQLITE_ANY_PENDING,
    SQLITE_INDEX_PENDING,
    SQLITE_SEARCH,
    scope_word,
)
from aronanet.server.store.sqlite_files import Checkpointer, WalFlush, connect
from aronanet.server.store.sqlite_messages import MessageInsert
from aronanet.server.store.sqlite_reservations import NumberReservations
from aronanet.server.store.sqlite_writer import (
    FlushAfterCommit,
    GroupCommitWriter,
    Seen,
    Settle,
    settle_future,
)
from aronanet.server.store.sync_sql import conversations_parameters, conversations_statement

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Read connections beside the writer's: a slow CONVERSATIONS does not hold HISTORY back.
READERS = 2
#: §14.15: stored messages are put in the search index together, this many at a time (and
#: before every search): one FTS5 write per message would cost several times the insert.
INDEX_EVERY = 256

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


class SqliteStore(ModerationStore):
    """``Store`` on a SQLite file; see the module docstring for the commit discipline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: GroupCommitWriter | None = None
        #: The idle read connections (each used by one worker thread at a time).
        self._readers: queue.SimpleQueue[sqlite3.Connection] | None = None
        self.commit_latency = Histogram()
        #: §14.14: change numbers, allocated on the writer thread, saved at each commit.
        self.revisions = RevisionCounter()
        self._appended = 0  # messages stored since the last indexing job was queued

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(self._connect_and_migrate)
        self._readers = queue.SimpleQueue()
        for _ in range(READERS):
            self._readers.put(await asyncio.to_thread(connect, self.path))
        self._writer = GroupCommitWriter(
            conn,
            asyncio.get_running_loop(),
            self.commit_latency,
            before_commit=self.revisions.save,
            checkpointer=Checkpointer(self.path),
            flush_after=FlushAfterCommit(WalFlush(self.path), NumberReservations(self.revisions)),
        )
        self._writer.start()

    def _connect_and_migrate(self) -> sqlite3.Connection:
        conn = connect(self.path)
        versions = migrate(conn)
        log_event(logger, "store_opened", path=self.path, **versions)
        return conn

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.hand_over()
            await asyncio.to_thread(writer.stop)
        if self._readers is not None:
            readers, self._readers = self._readers, None
            await asyncio.to_thread(_close_readers, readers)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``fn(conn)`` on a read connection, off the writer.

        WAL lets it read beside the writer's transactions, so a heavy query (a user's every
        conversation with its counts) never holds other users' messages back from their
        group commit, and a HISTORY is answered while the writer is busy (a slow batch, or
        a write lock held by another process). It sees everything already committed, so
        everything acknowledged.
        """
        readers = self._readers
        if readers is None:
            raise RuntimeError("the store is not open")

        def on_a_reader() -> T:
            conn = readers.get()  # waits (in this worker thread) while every reader is busy
            try:
                return fn(conn)
            finally:
                readers.put(conn)

        return await asyncio.to_thread(on_a_reader)

    @property
    def commits(self) -> int:
        """Transactions committed so far (a batch of many jobs counts once)."""
        return self._writer.commits if self._writer else 0

    async def ping(self) -> None:
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``fn(conn)`` on the writer thread inside the next group commit.

        The extension point for components with their own tables (see
        ``schema.register_migrations``); ``fn`` must not commit or begin transactions, and
        must have no effect but on the database: when another job of its group fails, the
        group is rolled back and ``fn`` runs a second time.
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
            for statement in sql.DELETE_CHANNEL_HISTORY:
                conn.execute(statement, {"channel": channel})
            return True

        return await self.run(delete)

    async def set_topic(self, channel: str, topic: str) -> None:
        await self.run(
            lambda conn: conn.execute(
                "UPDATE channels SET topic = ? WHERE name = ?", (topic, channel)
            )
        )

    async def append_message(self, message: NewMessage) -> MessageRow:
        future: asyncio.Future[MessageRow] = asyncio.get_running_loop().create_future()
        self.append_message_then(message, functools.partial(settle_future, future))
        return await future

    def append_message_then(
        self, message: NewMessage, settle: Settle, seen: Seen | None = None
    ) -> None:
        # One writer thread runs jobs one after another, so "look up the cid, else insert"
        # cannot race: two sessions sending the same cid at once get one message (§14.4).
        if self._writer is None:
            raise RuntimeError("the store is not open")
        self._appended += 1
        if self._appended >= INDEX_EVERY:
            self._appended = 0
            settle = functools.partial(self._settle_then_index, settle)
        self._writer.submit_then(MessageInsert(message, self.revisions), settle, seen)

    def _settle_then_index(self, settle: Settle, result: Any, error: BaseException | None) -> None:
        """Answer a message, then index the pending ones in a group of their own: queued
        with the message, the FTS5 write (a millisecond or more for ``INDEX_EVERY``) would
        be in its group and hold its acknowledgement and fan-out back."""
        settle(result, error)
        if self._writer is not None:  # closing: a search indexes whatever is pending first
            self.run(index_pending).add_done_callback(_log_index_failure)

    async def history(self, query: HistoryQuery) -> list[MessageRow]:
        return await self.read(lambda conn: select_history(conn, query))

    # ------------------------------------------------------------ ArTP/1.1 sync (§14)

    async def set_password_hash(self, user: str, password_hash: str) -> None:
        row = sql.device_key(user, None, password_hash=password_hash)
        await self.run(lambda conn: conn.execute(sql.SET_PASSWORD_HASH, row))

    async def record_device(self, sighting: DeviceSighting, max_devices: int) -> None:
        row = sql.sighting_row(sighting, max_devices)

        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(sql.UPSERT_DEVICE, row)
            conn.execute(sql.EVICT_DEVICES, row)

        await self.run(upsert)

    async def device_signed_in(self, user: str, device: str, seen: int, address: str) -> bool:
        row = sql.device_key(user, device, seen=seen, address=address)
        return await self._changed(sql.SIGN_IN_DEVICE, row)

    async def is_device(self, user: str, device: str) -> bool:
        row = sql.device_key(user, device)
        return await self.run(lambda conn: conn.execute(sql.IS_DEVICE, row).fetchone() is not None)

    async def devices_of(self, user: str) -> list[DeviceRow]:
        row = sql.device_key(user, None)
        rows = await self.run(lambda conn: conn.execute(sql.SELECT_DEVICES, row).fetchall())
        return [DeviceRow(*fields) for fields in rows]

    async def rename_device(self, user: str, device: str, name: str) -> bool:
        return await self._changed(sql.RENAME_DEVICE, sql.device_key(user, device, name=name))

    async def revoke_device(self, user: str, device: str) -> bool:
        return await self._changed(sql.REVOKE_DEVICE, sql.device_key(user, device))

    async def revoke_devices_except(self, user: str, device: str | None) -> None:
        await self._changed(sql.REVOKE_OTHER_DEVICES, sql.device_key(user, device))

    async def conversations(self, query: ConversationQuery) -> list[ConversationRow]:
        parameters = conversations_parameters(query)
        rows = await self.read(lambda conn: conn.execute(_CONVERSATIONS, parameters).fetchall())
        return [ConversationRow(*fields) for fields in rows]

    async def mark_read(self, user: str, conversation: str, up_to: int) -> tuple[int, bool]:
        row = sql.marker_key(user, conversation, up_to)

        def upsert(conn: sqlite3.Connection) -> tuple[int, bool]:
            moved = conn.execute(sql.MARK_READ, row).rowcount > 0
            return int(conn.execute(sql.SELECT_READ_MARKER, row).fetchone()[0]), moved

        return await self.run(upsert)

    async def _changed(self, statement: str, row: dict[str, Any]) -> bool:
        """Run one write; whether it changed a row."""
        return await self.run(lambda conn: conn.execute(statement, row).rowcount > 0)

    # ------------------------------------------------------------ lifecycle (§14.9-14.14)

    async def write_script(self, build: ScriptFactory) -> Any:
        return await self.run(lambda conn: run_sync(conn, build(SQLITE), self.revisions))

    async def read_script(self, build: ScriptFactory) -> Any:
        return await self.read(lambda conn: run_sync(conn, build(SQLITE)))

    async def readable_image_attachment(self, user: str, image: str) -> str | None:
        def select(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(_READABLE_ATTACHMENT, (image, user_key(user))).fetchone()
            return row[0] if row else None

        return await self.run(select)

    async def uploaded_image_bytes(self, sender: str) -> int:
        row = await self.run(lambda conn: conn.execute(_UPLOADED_BYTES, (sender,)).fetchone())
        return int(row[0])

    async def search(self, search: MessageSearch) -> list[MessageRow]:
        if await self.read(lambda conn: conn.execute(SQLITE_ANY_PENDING).fetchone()):
            await self.run(index_pending)
        return await self.read(lambda conn: select_search(conn, search))


_CONVERSATIONS = conversations_statement(lambda name: f":{name}")
_READABLE = READABLE_CONVERSATIONS.format(user="?1")
_MAX_ROWID = 2**63 - 1


def _close_readers(readers: queue.SimpleQueue[sqlite3.Connection]) -> None:
    """Close every read connection, each once its read (if any) has returned it."""
    for _ in range(READERS):
        readers.get().close()


def index_pending(conn: sqlite3.Connection) -> None:
    """Put every pending message in the search index (one FTS5 write); on the writer."""
    for statement in SQLITE_INDEX_PENDING:
        conn.execute(statement)


def _log_index_failure(future: asyncio.Future[None]) -> None:
    """An indexing job that failed is retried by the next one; it only needs a log line."""
    if not future.cancelled() and future.exception() is not None:
        log_event(logger, "search_index_failed", logging.ERROR, error=future.exception())


def select_search(conn: sqlite3.Connection, search: MessageSearch) -> list[MessageRow]:
    """§14.15 on SQLite: one FTS5 query for the words AND the readable conversations."""
    if search.conversation is not None:
        conversations = [search.conversation]
    else:
        rows = conn.execute(_READABLE, (user_key(search.user),))
        conversations = [conversation for (conversation,) in rows]
    if not conversations:
        return []
    expression = (
        fts5_expression(search.query, "content")
        + " AND "
        + fts5_any([scope_word(conversation) for conversation in conversations], "scope")
    )
    before = _MAX_ROWID if search.before is None else search.before
    rows = conn.execute(SQLITE_SEARCH, (expression, before, search.limit))
    return [MessageRow(*row) for row in rows]


def select_history(conn: sqlite3.Connection, query: HistoryQuery) -> list[MessageRow]:
    """§3 HISTORY: latest ``limit``; or right after/before an id; always oldest first."""
    sql, args, newest_first = history_statement(query, "?")
    rows = [MessageRow(*row) for row in conn.execute(sql, args)]
    if query.around is not None:
        older_sql, older_args = around_statement(query, "?")
        older = [MessageRow(*row) for row in conn.execute(older_sql, older_args)]
        return centre(older, rows, query.limit)
    if newest_first:
        rows.reverse()
    return rows
