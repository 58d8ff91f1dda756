"""The scale-out ``Store``: PostgreSQL through psycopg 3, shared by every node of a community.

The same promises as ``sqlite.py``, kept across several node processes:

* Group commit under one write lock for every node of the community: writes are jobs of
  the node's ONE writer task (``postgres_writer``), committed in batches, and a caller's
  future resolves only after ``COMMIT`` returns (§3 durability).
* Reads (history, logins, image checks) use a small pool of autocommit connections
  (``postgres_connections.ReaderPool``), so they never wait behind a batch of writes.

Migrations are numbered per component like SQLite's, recorded in ``schema_migrations``, and
run under a session advisory lock so that nodes starting together do not race. The tables
go to the first schema of the connection's ``search_path`` (``?options=-csearch_path=...``
in the URL selects one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import errors

from aronanet.proto.search_query import tsquery, tsvector
from aronanet.server.logs import log_event
from aronanet.server.metrics import Histogram
from aronanet.server.store import search_sql
from aronanet.server.store import sync_sql as sql
from aronanet.server.store.base import BackendUnavailableError, DuplicateUserError
from aronanet.server.store.history_sql import around_statement, centre, history_statement
from aronanet.server.store.lifecycle import ScriptFactory
from aronanet.server.store.lifecycle_sql import POSTGRES, run_async
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.postgres_connections import Connection, ReaderPool, connect, describe
from aronanet.server.store.postgres_schema import migrate
from aronanet.server.store.postgres_writer import GroupCommitWriter
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
from aronanet.server.store.search_sql import READABLE_CONVERSATIONS
from aronanet.server.store.sync_sql import conversations_parameters, conversations_statement

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: Connections for reads; writes have their own.
READERS = 2
#: Connections for shared image data (``image_postgres``): chunk by chunk uploads and
#: downloads must not hold the reads of HISTORY and logins waiting.
IMAGE_CONNECTIONS = 2
#: Messages without a search vector indexed per write job before a search (§14.15).
INDEX_BATCH = 500


#: The attachment is stored as the exact JSON text it was given (a ``jsonb`` column would
#: reformat it); queries read it through ``::jsonb``.
_READABLE_ATTACHMENT = """
    SELECT m.attachment FROM messages m
    WHERE m.attachment IS NOT NULL AND ((m.attachment::jsonb) ->> 'image') = %(image)s
      AND ((m.dest_type = 'channel' AND EXISTS (
              SELECT 1 FROM memberships ms WHERE ms.channel = m.dest AND ms.user_key = %(user)s))
           OR (m.dest_type = 'user' AND (lower(m.sender) = %(user)s OR lower(m.dest) = %(user)s)))
    LIMIT 1
"""
#: Bytes of the images a user has posted, each image once (the upload quota's "used").
UPLOADED_BYTES = """
    SELECT COALESCE(SUM(size), 0) FROM (
      SELECT MAX(((attachment::jsonb) ->> 'size')::bigint) AS size FROM messages
      WHERE attachment IS NOT NULL AND sender = %s
      GROUP BY (attachment::jsonb) ->> 'image') AS images
"""
_CHANNEL_WITH_MEMBERS = """
    SELECT c.name, c.topic, c.created, u.name FROM channels c
    LEFT JOIN memberships m ON m.channel = c.name
    LEFT JOIN users u ON u.name_key = m.user_key
    WHERE c.name = %s ORDER BY u.name_key COLLATE "C"
"""


class PostgresStore(ModerationStore):
    """``Store`` on PostgreSQL; ``postgres_writer`` holds its commit discipline."""

    def __init__(self, dsn: str, *, readers: int = READERS) -> None:
        self.dsn = dsn
        self._readers = ReaderPool(dsn, readers)
        #: Autocommit connections for the image blobs and shared uploads (``image_postgres``).
        self.image_connections = ReaderPool(dsn, IMAGE_CONNECTIONS)
        self._writer: GroupCommitWriter | None = None
        self.commit_latency = Histogram()

    async def open(self) -> None:
        conn = await connect(self.dsn)
        try:
            versions = await migrate(conn)
        except psycopg.Error as exc:
            await conn.close()
            raise BackendUnavailableError(
                f"cannot prepare the schema in PostgreSQL at {describe(self.dsn)}: {exc}"
            ) from None
        await self._readers.open()
        await self.image_connections.open()
        self._writer = GroupCommitWriter(self.dsn, conn, self.commit_latency)
        self._writer.start()
        log_event(logger, "store_opened", database=describe(self.dsn), **versions)

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.stop()
            await self._readers.close()
            await self.image_connections.close()

    @property
    def commits(self) -> int:
        """Transactions committed so far by this node (a batch of many jobs counts once)."""
        return self._writer.commits if self._writer else 0

    async def ping(self) -> None:
        async def select(conn: Connection) -> None:
            await conn.execute("SELECT 1")

        await self._write(select)

    def _write(self, fn: Callable[[Connection], Awaitable[T]]) -> asyncio.Future[T]:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer.submit(fn)

    async def create_user(self, user: UserRow) -> None:
        async def insert(conn: Connection) -> None:
            try:
                await conn.execute(
                    "INSERT INTO users (name_key, name, password_hash, created) "
                    "VALUES (%s, %s, %s, %s)",
                    (user_key(user.name), user.name, user.password_hash, user.created),
                )
            except errors.UniqueViolation as exc:
                raise DuplicateUserError(user.name) from exc

        await self._write(insert)

    async def get_user(self, name: str) -> UserRow | None:
        row = await self._readers.fetchone(
            "SELECT name, password_hash, created FROM users WHERE name_key = %s",
            (user_key(name),),
        )
        return UserRow(*row) if row else None

    async def load_channels(self) -> list[ChannelRow]:
        rows = await self._readers.fetchall(
            'SELECT name, topic, created FROM channels ORDER BY name COLLATE "C"'
        )
        return [ChannelRow(*row) for row in rows]

    async def load_memberships(self) -> list[tuple[str, str]]:
        rows = await self._readers.fetchall(
            "SELECT m.channel, u.name FROM memberships m "
            'JOIN users u ON u.name_key = m.user_key ORDER BY m.channel COLLATE "C", '
            'u.name_key COLLATE "C"'
        )
        return [(channel, name) for channel, name in rows]

    async def load_channel(self, name: str) -> ChannelMembers | None:
        # One statement, so the row and its members come from one snapshot.
        rows = await self._readers.fetchall(_CHANNEL_WITH_MEMBERS, (name,))
        if not rows:
            return None
        channel = ChannelRow(*rows[0][:3])
        return ChannelMembers(channel, tuple(row[3] for row in rows if row[3] is not None))

    async def channels_of(self, user: str) -> list[str]:
        rows = await self._readers.fetchall(
            'SELECT channel FROM memberships WHERE user_key = %s ORDER BY channel COLLATE "C"',
            (user_key(user),),
        )
        return [channel for (channel,) in rows]

    async def join_channel(self, channel: ChannelRow, user: str) -> bool:
        async def insert(conn: Connection) -> bool:
            await conn.execute(
                "INSERT INTO channels (name, topic, created) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (channel.name, channel.topic, channel.created),
            )
            cursor = await conn.execute(
                "INSERT INTO memberships (channel, user_key) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (channel.name, user_key(user)),
            )
            return cursor.rowcount == 1

        return await self._write(insert)

    async def part_channel(self, channel: str, user: str) -> None:
        async def delete(conn: Connection) -> None:
            await conn.execute(
                "DELETE FROM memberships WHERE channel = %s AND user_key = %s",
                (channel, user_key(user)),
            )

        await self._write(delete)

    async def delete_empty_channel(self, channel: str) -> bool:
        async def delete(conn: Connection) -> bool:
            cursor = await conn.execute(
                "DELETE FROM channels WHERE name = %s "
                "AND NOT EXISTS (SELECT 1 FROM memberships WHERE channel = %s)",
                (channel, channel),
            )
            if cursor.rowcount != 1:
                return False
            for statement in sql.DELETE_CHANNEL_HISTORY:
                await conn.execute(sql.for_postgres(statement), {"channel": channel})
            return True

        return await self._write(delete)

    async def set_topic(self, channel: str, topic: str) -> None:
        async def update(conn: Connection) -> None:
            await conn.execute("UPDATE channels SET topic = %s WHERE name = %s", (topic, channel))

        await self._write(update)

    async def append_message(self, message: NewMessage) -> MessageRow:
        # One message per (sender, cid) (§14.4), even between nodes: the unique index turns
        # a resend into no row, and the one stored first (committed, or earlier in the same
        # group) is then read under the WRITE_LOCK every node's write batches hold
        # (``postgres_writer``). The search vector is built here, before the job is
        # queued, not while that lock is held.
        vector = tsvector(message.content)
        return await self._write(lambda conn: insert_message(conn, message, vector))

    async def history(self, query: HistoryQuery) -> list[MessageRow]:
        sql, args, newest_first = history_statement(query, "%s")
        rows = [MessageRow(*row) for row in await self._readers.fetchall(sql, args)]
        if query.around is not None:
            older_sql, older_args = around_statement(query, "%s")
            older = [
                MessageRow(*row) for row in await self._readers.fetchall(older_sql, older_args)
            ]
            return centre(older, rows, query.limit)
        if newest_first:
            rows.reverse()
        return rows

    # ------------------------------------------------------------ ArTP/1.1 sync (§14)

    async def set_password_hash(self, user: str, password_hash: str) -> None:
        row = sql.device_key(user, None, password_hash=password_hash)
        await self._changed(_pg.SET_PASSWORD_HASH, row)

    async def record_device(self, sighting: DeviceSighting, max_devices: int) -> None:
        row = sql.sighting_row(sighting, max_devices)

        async def upsert(conn: Connection) -> None:
            await conn.execute(_pg.UPSERT_DEVICE, row)
            await conn.execute(_pg.EVICT_DEVICES, row)

        await self._write(upsert)

    async def device_signed_in(self, user: str, device: str, seen: int, address: str) -> bool:
        row = sql.device_key(user, device, seen=seen, address=address)
        return await self._changed(_pg.SIGN_IN_DEVICE, row)

    async def is_device(self, user: str, device: str) -> bool:
        row = await self._readers.fetchone(_pg.IS_DEVICE, sql.device_key(user, device))
        return row is not None

    async def devices_of(self, user: str) -> list[DeviceRow]:
        rows = await self._readers.fetchall(_pg.SELECT_DEVICES, sql.device_key(user, None))
        return [DeviceRow(*fields) for fields in rows]

    async def rename_device(self, user: str, device: str, name: str) -> bool:
        return await self._changed(_pg.RENAME_DEVICE, sql.device_key(user, device, name=name))

    async def revoke_device(self, user: str, device: str) -> bool:
        return await self._changed(_pg.REVOKE_DEVICE, sql.device_key(user, device))

    async def revoke_devices_except(self, user: str, device: str | None) -> None:
        await self._changed(_pg.REVOKE_OTHER_DEVICES, sql.device_key(user, device))

    async def conversations(self, query: ConversationQuery) -> list[ConversationRow]:
        rows = await self._readers.fetchall(_CONVERSATIONS, conversations_parameters(query))
        return [ConversationRow(*fields) for fields in rows]

    async def mark_read(self, user: str, conversation: str, up_to: int) -> tuple[int, bool]:
        row = sql.marker_key(user, conversation, up_to)

        async def upsert(conn: Connection) -> tuple[int, bool]:
            moved = (await conn.execute(_pg.MARK_READ, row)).rowcount > 0
            cursor = await conn.execute(_pg.SELECT_READ_MARKER, row)
            marker = await cursor.fetchone()
            assert marker is not None
            return int(marker[0]), moved

        return await self._write(upsert)

    async def _changed(self, statement: str, row: dict[str, Any]) -> bool:
        """Run one write in the next group commit; whether it changed a row."""

        async def execute(conn: Connection) -> bool:
            return (await conn.execute(statement, row)).rowcount > 0

        return await self._write(execute)

    async def write_script(self, build: ScriptFactory) -> Any:
        return await self._write(lambda conn: run_async(conn, build(POSTGRES)))

    async def read_script(self, build: ScriptFactory) -> Any:
        async with self._readers.connection() as conn:
            return await run_async(conn, build(POSTGRES))

    async def readable_image_attachment(self, user: str, image: str) -> str | None:
        row = await self._readers.fetchone(
            _READABLE_ATTACHMENT, {"image": image, "user": user_key(user)}
        )
        return row[0] if row else None

    async def uploaded_image_bytes(self, sender: str) -> int:
        row = await self._readers.fetchone(UPLOADED_BYTES, (sender,))
        return int(row[0]) if row else 0

    async def search(self, search: MessageSearch) -> list[MessageRow]:
        """§14.15 on PostgreSQL. Messages whose vector is missing (stored before the search
        migration, or edited by a statement that did not set it) are indexed first."""
        while await self._readers.fetchone(search_sql.POSTGRES_PENDING, (1,)) is not None:
            await self._write(_index_pending)
        if search.conversation is not None:
            sql, conversations = _SEARCH_ONE, {"conversation": search.conversation}
        else:
            sql, conversations = _SEARCH_READABLE, {"user": user_key(search.user)}
        rows = await self._readers.fetchall(
            sql,
            {
                "query": tsquery(search.query),
                "before": _MAX_ID if search.before is None else search.before,
                "limit": search.limit,
                **conversations,
            },
        )
        return [MessageRow(*row) for row in rows]


_CONVERSATIONS = conversations_statement(lambda name: f"%({name})s", ' COLLATE "C"')
_SEARCH_ONE = search_sql.POSTGRES_SEARCH.format(conversations="%(conversation)s")
_SEARCH_READABLE = search_sql.POSTGRES_SEARCH.format(
    conversations=READABLE_CONVERSATIONS.format(user="%(user)s")
)
_MAX_ID = 2**63 - 1


async def _index_pending(conn: Connection) -> None:
    """Give up to ``INDEX_BATCH`` messages without a vector theirs (on the writer)."""
    cursor = await conn.execute(search_sql.POSTGRES_PENDING, (INDEX_BATCH,))
    rows = await cursor.fetchall()
    async with conn.cursor() as update:
        await update.executemany(
            search_sql.POSTGRES_SET_VECTOR,
            [(tsvector(content), message_id, content) for message_id, content in rows],
        )


_pg = sql.PostgresStatements()


#: One message row; a (sender, cid) already stored (§14.4) inserts nothing and returns no row.
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({NewMessage.COLUMNS}, rev, search_vector) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, nextval('message_revs'), %s::tsvector) "
    "ON CONFLICT (sender, cid) WHERE cid IS NOT NULL DO NOTHING "
    "RETURNING id, rev"
)


async def insert_message(conn: Connection, message: NewMessage, vector: str) -> MessageRow:
    """Store a message (``vector``: its content's ``tsvector``) with its mentions and DM
    peers, unless its (sender, cid) is known: then the message stored first, marked
    ``duplicate`` (§14.4). Runs on the writer, one round trip for a new message: the
    unique index on (sender, cid) finds a resend, not a lookup before every insert."""
    row = await (await conn.execute(_INSERT_MESSAGE, (*message.values(), vector))).fetchone()
    if row is None:
        known = await (await conn.execute(_pg.SELECT_BY_CID, sql.cid_key(message))).fetchone()
        assert known is not None  # the conflict was with this row, under the write lock
        return dataclasses.replace(MessageRow(*known), duplicate=True)
    async with conn.cursor() as extra:
        for statement, rows in (
            (_pg.INSERT_MENTION, sql.mention_rows(message, row[0])),
            (_pg.INSERT_DM_PEER, sql.dm_peer_rows(message)),
        ):
            if rows:
                await extra.executemany(statement, rows)
    return message.stored_as(row[0], row[1])
