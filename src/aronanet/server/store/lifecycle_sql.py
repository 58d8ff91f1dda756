"""The SQL of ArTP/1.1 ``lifecycle`` (§14.9-14.14), written once for SQLite and PostgreSQL.

Every change (edit, delete, reaction) is a read-check-write that must happen in ONE
transaction, so that a DELETE racing an EDIT leaves the message deleted whichever commits
last. The decisions are written once, as *scripts*: generators that yield a ``Statement``
and receive its rows, and return the outcome. Each backend drives them on its writer (the
SQLite thread, the PostgreSQL task) with ``run_sync`` / ``run_async``; only the few
statements that differ between the databases live in the two ``Dialect`` objects.

Change numbers (``rev``): one node-wide counter, bumped for every new message and every
change of one; a row keeps the number of its latest change. SQLite's one writer thread
keeps it in memory (``RevisionCounter``) and saves it in the one-row table ``revisions``
once per commit: an UPDATE per message cost a third of an insert. PostgreSQL uses the
sequence ``message_revs``, whose values commit in order because every write batch holds
the store's write lock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from aronanet.server.store.rows import (
    MESSAGE_COLUMNS,
    Change,
    ChangesQuery,
    Decorations,
    EditRequest,
    MessageRow,
    ReactionRequest,
    Refusal,
    user_key,
)
from aronanet.server.store.sync_sql import for_postgres

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Row


Script = Generator[Statement, list[tuple[Any, ...]], Any]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The statements whose text differs between the backends (``:name`` parameters)."""

    next_rev: str  # returns one row: the new change number
    image_in_use: str  # one row if any message still carries image :image
    postgres: bool

    def text(self, sql: str) -> str:
        return for_postgres(sql) if self.postgres else sql


#: The SQLite "statement" the driver answers from its ``RevisionCounter``.
NEXT_REV = "-- next rev"

SQLITE = Dialect(
    next_rev=NEXT_REV,
    image_in_use="SELECT 1 FROM messages WHERE attachment IS NOT NULL "
    "AND json_extract(attachment, '$.image') = :image LIMIT 1",
    postgres=False,
)
POSTGRES = Dialect(
    next_rev="SELECT nextval('message_revs')",
    image_in_use="SELECT 1 FROM messages WHERE attachment IS NOT NULL "
    "AND ((attachment::jsonb) ->> 'image') = :image LIMIT 1",
    postgres=True,
)


def lifecycle_migration(*, postgres: bool) -> str:
    """The ``lifecycle`` migration: columns for replies, edits, tombstones and change
    numbers (existing messages get ``rev = id``; on PostgreSQL a row inserted without one
    gets the next), reactions, kept edit texts, and an index to drop a deleted message's
    mentions."""
    if postgres:
        columns = """
        ALTER TABLE messages ADD COLUMN reply_to BIGINT, ADD COLUMN edited BIGINT,
            ADD COLUMN deleted BIGINT, ADD COLUMN rev BIGINT;
        UPDATE messages SET rev = id;
        ALTER TABLE messages ALTER COLUMN rev SET NOT NULL;
        CREATE SEQUENCE message_revs;
        SELECT setval('message_revs', COALESCE((SELECT MAX(id) FROM messages), 0) + 1, false);
        ALTER TABLE messages ALTER COLUMN rev SET DEFAULT nextval('message_revs');
        """
        without_rowid = ""
    else:
        columns = """
        ALTER TABLE messages ADD COLUMN reply_to INTEGER;
        ALTER TABLE messages ADD COLUMN edited INTEGER;
        ALTER TABLE messages ADD COLUMN deleted INTEGER;
        ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
        UPDATE messages SET rev = id;
        CREATE TABLE revisions (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);
        INSERT INTO revisions (id, rev) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
        """
        without_rowid = " WITHOUT ROWID"
    return f"""{columns}
    CREATE INDEX messages_by_rev ON messages (conversation, rev);
    CREATE TABLE reactions (
        message_id BIGINT NOT NULL,
        emoji      TEXT NOT NULL,
        user_key   TEXT NOT NULL,
        user_name  TEXT NOT NULL,
        rev        BIGINT NOT NULL,
        PRIMARY KEY (message_id, emoji, user_key)
    ){without_rowid};
    CREATE TABLE edit_history (
        message_id BIGINT NOT NULL,
        replaced   BIGINT NOT NULL,
        content    TEXT NOT NULL
    );
    CREATE INDEX edit_history_by_message ON edit_history (message_id);
    CREATE INDEX mentions_by_message ON mentions (message_id);
    """


#: Lifecycle migration 2, both backends: a deleted message is not unread (§14.5). The
#: conversation index carries ``deleted`` too, so counting unread messages still reads the
#: index alone (``conversations_statement``).
UNREAD_SKIPS_DELETED = """
    DROP INDEX messages_by_conversation;
    CREATE INDEX messages_by_conversation ON messages (conversation, id, sender, deleted);
"""


# ---------------------------------------------------------------- statements

_BY_ID = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = :id"
_EDIT = "UPDATE messages SET content = :content, edited = :at, rev = :rev WHERE id = :id"
_KEEP_EDIT = "INSERT INTO edit_history (message_id, replaced, content) VALUES (:id, :at, :old)"
_TOMBSTONE = """
    UPDATE messages SET content = '', attachment = NULL, edited = NULL, deleted = :at,
        rev = :rev WHERE id = :id
"""
_FORGET = (
    "DELETE FROM reactions WHERE message_id = :id",
    "DELETE FROM mentions WHERE message_id = :id",
    "DELETE FROM edit_history WHERE message_id = :id",
)
_BUMP = "UPDATE messages SET rev = :rev WHERE id = :id"
_HAS_REACTION = (
    "SELECT 1 FROM reactions WHERE message_id = :id AND emoji = :emoji AND user_key = :user"
)
_EMOJI_COUNT = "SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message_id = :id"
_ADD_REACTION = """
    INSERT INTO reactions (message_id, emoji, user_key, user_name, rev)
    VALUES (:id, :emoji, :user, :name, :rev)
"""
_REMOVE_REACTION = (
    "DELETE FROM reactions WHERE message_id = :id AND emoji = :emoji AND user_key = :user"
)
_REACTORS = "SELECT COUNT(*) FROM reactions WHERE message_id = :id AND emoji = :emoji"
_CHANGES = f"""
    SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = :conversation AND rev > :since
    ORDER BY rev LIMIT :limit
"""
_KEPT_EDITS = (
    "SELECT replaced, content FROM edit_history WHERE message_id = :id ORDER BY replaced, content"
)


def _in_list(name: str, values: Sequence[int]) -> tuple[str, Row]:
    """``(:name0, :name1, ...)`` and its parameters, for ``IN`` on both backends."""
    params = {f"{name}_{_letters(index)}": value for index, value in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


def _letters(index: int) -> str:
    """``index`` in letters (a, b, ..., ba): parameter names are letters and _ only."""
    text = ""
    while True:
        index, digit = divmod(index, 26)
        text = chr(ord("a") + digit) + text
        if index == 0:
            return text


# ---------------------------------------------------------------- scripts


def message_script(dialect: Dialect, message_id: int) -> Script:
    rows = yield Statement(dialect.text(_BY_ID), {"id": message_id})
    return MessageRow(*rows[0]) if rows else None


def _changeable(dialect: Dialect, message_id: int, author: str, any_author: bool = False) -> Script:
    """The message if ``author`` may change it (``any_author``: a moderator, §14.18, may
    change anyone's): ``Refusal`` otherwise."""
    rows = yield Statement(dialect.text(_BY_ID), {"id": message_id})
    if not rows:
        return Refusal.MISSING
    row = MessageRow(*rows[0])
    if row.deleted is not None:
        return Refusal.MISSING
    if not any_author and user_key(row.sender) != user_key(author):
        return Refusal.NOT_AUTHOR
    return row


def _next_rev(dialect: Dialect) -> Script:
    rows = yield Statement(dialect.next_rev, {})
    return int(rows[0][0])


def edit_script(dialect: Dialect, edit: EditRequest) -> Script:
    """§14.10: only the author, only a live message; the old text kept if asked."""
    found = yield from _changeable(dialect, edit.message_id, edit.author)
    if isinstance(found, Refusal):
        return Change(None, found)
    rev = yield from _next_rev(dialect)
    params = {"id": found.id, "content": edit.content, "at": edit.at, "rev": rev}
    if edit.keep_history:
        yield Statement(dialect.text(_KEEP_EDIT), {**params, "old": found.content})
    yield Statement(dialect.text(_EDIT), params)
    return Change(_with(found, content=edit.content, edited=edit.at, rev=rev))


def delete_script(
    dialect: Dialect, message_id: int, author: str, at: int, any_author: bool = False
) -> Script:
    """§14.11: the row becomes a tombstone; what hung on it goes, in the same transaction.
    ``orphaned_image``: the attachment's image, if no message carries it any more.
    ``any_author``: a channel operator or node admin deletes (§14.18)."""
    found = yield from _changeable(dialect, message_id, author, any_author)
    if isinstance(found, Refusal):
        return Change(None, found)
    rev = yield from _next_rev(dialect)
    params = {"id": found.id, "at": at, "rev": rev}
    yield Statement(dialect.text(_TOMBSTONE), params)
    for statement in _FORGET:
        yield Statement(dialect.text(statement), {"id": found.id})
    orphaned = None
    image = _image_of(found.attachment)
    if image is not None:
        in_use = yield Statement(dialect.text(dialect.image_in_use), {"image": image})
        orphaned = None if in_use else image
    tombstone = _with(found, content="", attachment=None, edited=None, deleted=at, rev=rev)
    return Change(tombstone, orphaned_image=orphaned)


def react_script(dialect: Dialect, request: ReactionRequest) -> Script:
    """§14.12: one reaction per (user, emoji), at most ``max_reactions`` emoji a message."""
    rows = yield Statement(dialect.text(_BY_ID), {"id": request.message_id})
    if not rows or MessageRow(*rows[0]).deleted is not None:
        return Change(None, Refusal.MISSING)
    row = MessageRow(*rows[0])
    key = {"id": row.id, "emoji": request.emoji, "user": user_key(request.user)}
    present = bool((yield Statement(dialect.text(_HAS_REACTION), key)))
    changed = present != request.add
    if changed and request.add:
        emoji = yield Statement(dialect.text(_EMOJI_COUNT), {"id": row.id})
        existing = yield Statement(dialect.text(_REACTORS), key)
        if int(existing[0][0]) == 0 and int(emoji[0][0]) >= request.max_reactions:
            return Change(None, Refusal.TOO_MANY)
    if changed:
        rev = yield from _next_rev(dialect)
        if request.add:
            yield Statement(dialect.text(_ADD_REACTION), {**key, "name": request.user, "rev": rev})
        else:
            yield Statement(dialect.text(_REMOVE_REACTION), key)
        yield Statement(dialect.text(_BUMP), {"id": row.id, "rev": rev})
        row = _with(row, rev=rev)
    count = yield Statement(dialect.text(_REACTORS), key)
    return Change(row, count=int(count[0][0]), changed=changed)


def changes_script(dialect: Dialect, query: ChangesQuery) -> Script:
    rows = yield Statement(
        dialect.text(_CHANGES),
        {"conversation": query.conversation, "since": query.since, "limit": query.limit},
    )
    return [MessageRow(*row) for row in rows]


def decorations_script(dialect: Dialect, rows: Sequence[MessageRow]) -> Script:
    """The reactions of ``rows`` (by first reaction) and the messages they reply to."""
    decorations = Decorations()
    if not rows:
        return decorations
    ids, params = _in_list("m", [row.id for row in rows])
    reactions = yield Statement(
        dialect.text(
            f"SELECT message_id, emoji, user_name FROM reactions WHERE message_id IN {ids} "
            "ORDER BY message_id, rev"
        ),
        params,
    )
    for message_id, emoji, user in reactions:
        decorations.add_reaction(int(message_id), emoji, user)
    replied = sorted({row.reply_to for row in rows if row.reply_to is not None})
    if replied:
        ids, params = _in_list("r", replied)
        quoted = yield Statement(
            dialect.text(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN {ids}"), params
        )
        decorations.quoted.update({int(row[0]): MessageRow(*row) for row in quoted})
    return decorations


def kept_edits_script(dialect: Dialect, message_id: int) -> Script:
    rows = yield Statement(dialect.text(_KEPT_EDITS), {"id": message_id})
    return [(int(replaced), str(content)) for replaced, content in rows]


# ---------------------------------------------------------------- drivers


class RevisionCounter:
    """SQLite's change numbers, owned by the writer thread: allocated in memory, saved in
    ``revisions`` by ``save`` just before each commit (only when some were allocated).

    A batch that rolls back leaves a gap, never a repeat: numbers only need to increase.
    """

    def __init__(self) -> None:
        self._last: int | None = None
        self._saved: int | None = None

    def allocate(self, conn: Any) -> int:
        self._last = self.current(conn) + 1
        return self._last

    def current(self, conn: Any) -> int:
        """The last number handed out (read from ``revisions`` the first time)."""
        if self._last is None:
            self._last = self._saved = int(conn.execute("SELECT rev FROM revisions").fetchone()[0])
        return self._last

    def save(self, conn: Any) -> None:
        if self._last is not None and self._last != self._saved:
            conn.execute("UPDATE revisions SET rev = MAX(rev, ?)", (self._last,))
            self._saved = self._last


def run_sync(conn: Any, script: Script, revisions: RevisionCounter | None = None) -> Any:
    """Drive ``script`` on a DB-API connection (SQLite); ``revisions`` answers
    ``NEXT_REV`` on the writer thread."""
    try:
        statement = next(script)
        while True:
            if statement.sql == NEXT_REV:
                assert revisions is not None, "a write script run as a read"
                rows: list[tuple[Any, ...]] = [(revisions.allocate(conn),)]
            else:
                rows = conn.execute(statement.sql, statement.params).fetchall()
            statement = script.send(rows)
    except StopIteration as stop:
        return stop.value


async def run_async(conn: Any, script: Script) -> Any:
    """Drive ``script`` on a psycopg async connection (PostgreSQL's writer or a reader)."""
    try:
        statement = next(script)
        while True:
            cursor = await conn.execute(statement.sql, statement.params)
            rows = await cursor.fetchall() if cursor.description is not None else []
            statement = script.send(rows)
    except StopIteration as stop:
        return stop.value


def _image_of(attachment: str | None) -> str | None:
    if not attachment:
        return None
    try:
        image = msgspec.json.decode(attachment).get("image")
    except (msgspec.DecodeError, AttributeError):
        return None
    return image if isinstance(image, str) else None


def _with(row: MessageRow, **changes: Any) -> MessageRow:
    return dataclasses.replace(row, **changes)
