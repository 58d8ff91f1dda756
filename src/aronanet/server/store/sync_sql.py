"""The SQL of ArTP/1.1 sync (§14.3-14.6), written once for SQLite and PostgreSQL.

Statements use ``:name`` parameters (SQLite's style); ``for_postgres`` turns them into
psycopg's ``%(name)s``. Only syntax both databases share is used (``ON CONFLICT``, no
``INSERT OR``, no ``GREATEST``), so one text serves both backends and they cannot drift.
The row dictionaries of the writes that go with a message are built here too, and the
§14.5 CONVERSATIONS statement, which each backend builds with its own parameter markers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aronanet.server.store.rows import (
    MESSAGE_COLUMNS,
    ConversationQuery,
    DeviceSighting,
    NewMessage,
    user_key,
)

Row = dict[str, Any]

_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)\b")


def for_postgres(sql: str) -> str:
    """``:name`` -> ``%(name)s`` (a ``::cast`` is left alone)."""
    return _PARAMETER.sub(r"%(\1)s", sql)


# ---------------------------------------------------------------- schema


def sync_migration(table_options: str = "") -> str:
    """The ``sync`` migration of both backends (``table_options``: SQLite's ``WITHOUT
    ROWID``). An upgraded database learns its DM peers from the messages it holds; messages
    stored before the upgrade count as unread but not as mentions (nothing recorded them).

    ``messages_by_conversation`` gains ``sender``, so counting a conversation's unread
    messages (not sent by the reader) reads the index alone: 4-5x faster than a table
    lookup per message, at no measurable cost per insert (appended like ``id``).
    """
    return f"""
    ALTER TABLE messages ADD COLUMN cid TEXT;
    CREATE UNIQUE INDEX messages_by_cid ON messages (sender, cid) WHERE cid IS NOT NULL;
    CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user_key);
    DROP INDEX messages_by_conversation;
    CREATE INDEX messages_by_conversation ON messages (conversation, id, sender);
    CREATE TABLE devices (
        user_key   TEXT NOT NULL REFERENCES users(name_key),
        device     TEXT NOT NULL,
        name       TEXT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen  BIGINT NOT NULL,
        address    TEXT NOT NULL,
        PRIMARY KEY (user_key, device)
    ){table_options};
    CREATE TABLE dm_peers (
        user_key     TEXT NOT NULL,
        peer_key     TEXT NOT NULL,
        peer         TEXT NOT NULL,
        conversation TEXT NOT NULL,
        PRIMARY KEY (user_key, peer_key)
    ){table_options};
    INSERT INTO dm_peers (user_key, peer_key, peer, conversation)
        SELECT lower(sender), lower(dest), dest, conversation FROM messages
        WHERE dest_type = 'user' ON CONFLICT DO NOTHING;
    INSERT INTO dm_peers (user_key, peer_key, peer, conversation)
        SELECT lower(dest), lower(sender), sender, conversation FROM messages
        WHERE dest_type = 'user' ON CONFLICT DO NOTHING;
    CREATE TABLE mentions (
        user_key     TEXT NOT NULL,
        conversation TEXT NOT NULL,
        message_id   BIGINT NOT NULL,
        PRIMARY KEY (user_key, conversation, message_id)
    ){table_options};
    CREATE TABLE read_markers (
        user_key     TEXT NOT NULL,
        conversation TEXT NOT NULL,
        message_id   BIGINT NOT NULL,
        PRIMARY KEY (user_key, conversation)
    ){table_options};
    """


class PostgresStatements:
    """Every statement of this module in psycopg's ``%(name)s`` style, converted once, on
    first use: ``PostgresStatements().MARK_READ``."""

    def __getattr__(self, name: str) -> str:
        statement = for_postgres(globals()[name])
        setattr(self, name, statement)
        return statement


# ---------------------------------------------------------------- messages (§14.4, §14.5)

SELECT_BY_CID = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender = :sender AND cid = :cid"

INSERT_MENTION = """
    INSERT INTO mentions (user_key, conversation, message_id)
    VALUES (:user, :conversation, :message_id) ON CONFLICT DO NOTHING
"""

INSERT_DM_PEER = """
    INSERT INTO dm_peers (user_key, peer_key, peer, conversation)
    VALUES (:user, :peer_key, :peer, :conversation) ON CONFLICT DO NOTHING
"""


def cid_key(message: NewMessage) -> Row:
    return {"sender": message.sender, "cid": message.cid}


def mention_rows(message: NewMessage, message_id: int) -> list[Row]:
    """One ``mentions`` row per mentioned recipient (never the sender: not unread to them)."""
    sender = user_key(message.sender)
    return [
        {"user": user, "conversation": message.conversation, "message_id": message_id}
        for user in message.mentioned
        if user != sender
    ]


def dm_peer_rows(message: NewMessage) -> list[Row]:
    """A DM makes each party a conversation of the other (§14.5), offline or not."""
    if message.dest_type != "user":
        return []
    sender, recipient = message.sender, message.dest
    return [
        {
            "user": user_key(a),
            "peer_key": user_key(b),
            "peer": b,
            "conversation": message.conversation,
        }
        for a, b in ((sender, recipient), (recipient, sender))
    ]


#: An expired channel's history goes with what hangs on its messages (§9, §14.10-14.12).
DELETE_CHANNEL_HISTORY = (
    *(
        f"DELETE FROM {table} WHERE message_id IN (SELECT id FROM messages "
        "WHERE conversation = :channel AND dest_type = 'channel')"
        for table in ("reactions", "edit_history")
    ),
    "DELETE FROM messages WHERE conversation = :channel AND dest_type = 'channel'",
    # §14.16-14.18: a channel's roles, bans, mutes and invitations go with it.
    *(
        f"DELETE FROM {table} WHERE channel = :channel"
        for table in ("channel_roles", "channel_bans", "channel_mutes", "channel_invites")
    ),
)

# ---------------------------------------------------------------- devices (§14.3)

UPSERT_DEVICE = """
    INSERT INTO devices (user_key, device, name, first_seen, last_seen, address)
    VALUES (:user, :device, :name, :seen, :seen, :address)
    ON CONFLICT (user_key, device) DO UPDATE SET
        last_seen = excluded.last_seen,
        address = excluded.address,
        name = CASE WHEN :named THEN excluded.name ELSE devices.name END
"""

#: Keep the ``max_devices`` most recently seen (the one just seen always among them).
EVICT_DEVICES = """
    DELETE FROM devices WHERE user_key = :user AND device NOT IN (
        SELECT device FROM devices WHERE user_key = :user
        ORDER BY CASE WHEN device = :device THEN 0 ELSE 1 END, last_seen DESC, device
        LIMIT :max_devices)
"""

SIGN_IN_DEVICE = """
    UPDATE devices SET last_seen = :seen, address = :address
    WHERE user_key = :user AND device = :device
"""

IS_DEVICE = "SELECT 1 FROM devices WHERE user_key = :user AND device = :device"

SELECT_DEVICES = """
    SELECT device, name, first_seen, last_seen, address FROM devices
    WHERE user_key = :user ORDER BY last_seen DESC, device
"""

RENAME_DEVICE = "UPDATE devices SET name = :name WHERE user_key = :user AND device = :device"
REVOKE_DEVICE = "DELETE FROM devices WHERE user_key = :user AND device = :device"
REVOKE_OTHER_DEVICES = "DELETE FROM devices WHERE user_key = :user AND device <> :device"
SET_PASSWORD_HASH = "UPDATE users SET password_hash = :password_hash WHERE name_key = :user"


def sighting_row(sighting: DeviceSighting, max_devices: int) -> Row:
    return {
        "user": user_key(sighting.user),
        "device": sighting.device,
        "name": sighting.name,
        "named": sighting.named,
        "seen": sighting.seen,
        "address": sighting.address,
        "max_devices": max_devices,
    }


def device_key(user: str, device: str | None, **extra: Any) -> Row:
    """Parameters naming one device of one account (``device`` None names none)."""
    return {"user": user_key(user), "device": "" if device is None else device, **extra}


# ---------------------------------------------------------------- conversations (§14.5)

#: §14.5: unread and mention counts stop here.
UNREAD_CAP = 9999


def conversations_statement(param: Callable[[str], str], collate: str = "") -> str:
    """§14.5 CONVERSATIONS as ONE statement for both backends; ``param(name)`` is a named
    parameter marker (``:name``, ``%(name)s``), ``collate`` makes names compare bytewise
    (PostgreSQL: ``COLLATE "C"``; SQLite does by default), the same order on both backends.
    Parameters: ``conversations_parameters``.

    Every count is a range of an index (``messages_by_conversation``, the ``mentions``
    primary key) capped at ``UNREAD_CAP`` rows, so a huge backlog costs no more than that.
    A deleted message (a tombstone) is not unread.
    """
    user, name = param("user"), param("name")
    after_type, after_key, limit = param("after_type"), param("after_key"), param("limit")
    unread_since = "m.id > COALESCE(r.message_id, 0) AND m.deleted IS NULL"
    return f"""
    WITH convs AS (
        SELECT 'channel' AS dest_type, channel AS dest, channel AS sort_key,
               channel AS conversation
          FROM memberships WHERE user_key = {user}
        UNION ALL
        SELECT 'user', peer, peer_key, conversation FROM dm_peers WHERE user_key = {user}
    ), page AS (
        SELECT * FROM convs
         WHERE dest_type > {after_type}
            OR (dest_type = {after_type} AND sort_key{collate} > {after_key})
         ORDER BY dest_type, sort_key{collate} LIMIT {limit}
    ), latest AS (
        SELECT page.*, (SELECT MAX(id) FROM messages m
                         WHERE m.conversation = page.conversation) AS last_id
          FROM page
    )
    SELECT c.dest_type, c.dest, c.sort_key, c.last_id,
           (SELECT timestamp FROM messages m WHERE m.id = c.last_id) AS last_timestamp,
           r.message_id,
           (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
              WHERE m.conversation = c.conversation AND {unread_since} AND m.sender <> {name}
              LIMIT {UNREAD_CAP}) AS capped),
           (SELECT COUNT(*) FROM (SELECT 1 FROM mentions m
              WHERE m.user_key = {user} AND m.conversation = c.conversation
                AND m.message_id > COALESCE(r.message_id, 0)
              LIMIT {UNREAD_CAP}) AS capped),
           (SELECT MAX(rev) FROM messages m WHERE m.conversation = c.conversation)
      FROM latest c
      LEFT JOIN read_markers r ON r.user_key = {user} AND r.conversation = c.conversation
     ORDER BY c.dest_type, c.sort_key{collate}
    """


def conversations_parameters(query: ConversationQuery) -> dict[str, str | int]:
    """The named parameters of ``conversations_statement``; ("", "") sorts before all."""
    after_type, after_key = query.after or ("", "")
    return {
        "user": user_key(query.user),
        "name": query.user,
        "after_type": after_type,
        "after_key": after_key,
        "limit": query.limit,
    }


# ---------------------------------------------------------------- read markers (§14.6)

#: Markers never move backwards: a lower ``up_to`` changes nothing.
MARK_READ = """
    INSERT INTO read_markers (user_key, conversation, message_id)
    VALUES (:user, :conversation, :up_to)
    ON CONFLICT (user_key, conversation) DO UPDATE SET message_id = excluded.message_id
    WHERE excluded.message_id > read_markers.message_id
"""

SELECT_READ_MARKER = """
    SELECT message_id FROM read_markers WHERE user_key = :user AND conversation = :conversation
"""


def marker_key(user: str, conversation: str, up_to: int = 0) -> Row:
    return {"user": user_key(user), "conversation": conversation, "up_to": up_to}
