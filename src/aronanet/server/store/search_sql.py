"""§14.15 search in the stores: SQLite FTS5 and PostgreSQL ``tsvector`` (schema and queries).

SQLite: ``messages_fts``, an FTS5 index over the messages table (external content: it holds
no copy of the text), kept in step with ``messages`` by triggers, so any change of
``content`` (an edit, a delete's tombstone ``""``, a channel's history deleted) reaches the
index in the same transaction, whoever writes it: old words leave the index at once, and
the message's id goes to ``search_pending``. A new message costs its insert nothing more:
every message after ``search_indexed.up_to`` (ids only increase) is pending too. Pending
messages are indexed together, in one FTS5 write (``SQLITE_INDEX_PENDING``): every
few hundred messages, and always before a search, so a search sees every stored
message. Indexing one message per transaction costs FTS5 a segment each time (about 3x the
CPU of storing the message); in batches it costs a fraction of that. (An update is ONE
trigger: the order of two triggers is undefined.)
Its second column, ``scope``, holds one word per message naming its conversation (``x``
and the conversation key in hex), so "in the conversations this user can read" is part of
the FTS query: FTS5 intersects the word's and the conversations' lists of rows, newest
first, and stops at ``limit``, however many messages of other conversations match.
Tombstones are not indexed.

PostgreSQL: a ``search_vector tsvector`` column with a GIN index, built by the node from
``proto.search_query.tsvector`` (the same words as SQLite's tokenizer finds), and queried
with a ``tsquery`` built from quoted words. An UPDATE of ``content`` that does not set the
vector (another module's edit) clears it through a trigger, and ``pending`` rows (content but
no vector) are indexed before the next search: the index still follows the table.
"""

from __future__ import annotations

from typing import Final

from aronanet.proto.search_query import SQLITE_TOKENIZE
from aronanet.server.store.rows import MESSAGE_COLUMNS

#: The scope word of a conversation key, in SQL (SQLite's ``hex`` of its UTF-8 bytes).
_SCOPE_SQL = "'x' || hex({row}.conversation)"


def scope_word(conversation: str) -> str:
    """The ``scope`` word of a conversation, as ``_SCOPE_SQL`` computes it."""
    return "x" + conversation.encode().hex().upper()


def _fts_row(row: str) -> str:
    return f"{row}.id, {row}.content, {_SCOPE_SQL.format(row=row)}"


#: Take a message's words out of the index, if they are in it (not still pending).
_UNINDEX_OLD = f"""INSERT INTO messages_fts (messages_fts, rowid, content, scope)
            SELECT 'delete', {_fts_row("old")} WHERE old.content <> ''
            AND NOT EXISTS (SELECT 1 FROM search_pending WHERE id = old.id);"""


#: Since migration 2: only what was indexed is in the index (at most ``up_to``, not pending).
_UNINDEX_INDEXED = f"""INSERT INTO messages_fts (messages_fts, rowid, content, scope)
            SELECT 'delete', {_fts_row("old")} WHERE old.content <> ''
            AND old.id <= (SELECT up_to FROM search_indexed)
            AND NOT EXISTS (SELECT 1 FROM search_pending WHERE id = old.id);"""

SQLITE_SEARCH_MIGRATIONS: Final[tuple[str, ...]] = (
    f"""
    CREATE TABLE search_pending (id INTEGER PRIMARY KEY);
    CREATE VIEW messages_search_source AS
        SELECT id, content, {_SCOPE_SQL.format(row="messages")} AS scope
        FROM messages WHERE content <> '';
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, scope,
        content = 'messages_search_source', content_rowid = 'id',
        tokenize = {SQLITE_TOKENIZE}, prefix = '2 3'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.content <> '' BEGIN
        INSERT OR IGNORE INTO search_pending (id) VALUES (new.id);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        {_UNINDEX_OLD}
        DELETE FROM search_pending WHERE id = old.id;
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, conversation ON messages
    BEGIN
        {_UNINDEX_OLD}
        INSERT OR IGNORE INTO search_pending (id) SELECT new.id WHERE new.content <> '';
    END;
    INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    """,
    # 2: no trigger per new message (a b-tree insert and a trigger program each, about a
    # fifth of a message's insert): the messages after ``up_to`` are the new pending ones.
    f"""
    DROP TRIGGER messages_fts_insert;
    CREATE TABLE IF NOT EXISTS search_indexed (
        id INTEGER PRIMARY KEY CHECK (id = 1), up_to INTEGER NOT NULL);
    INSERT OR REPLACE INTO search_indexed (id, up_to)
        SELECT 1, COALESCE(MAX(id), 0) FROM messages;
    DROP TRIGGER messages_fts_delete;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        {_UNINDEX_INDEXED}
        DELETE FROM search_pending WHERE id = old.id;
    END;
    DROP TRIGGER messages_fts_update;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, conversation ON messages
    BEGIN
        {_UNINDEX_INDEXED}
        INSERT OR IGNORE INTO search_pending (id) SELECT new.id WHERE new.content <> ''
            AND new.id <= (SELECT up_to FROM search_indexed);
    END;
    """,
)

#: Index every pending message (its current text) in one FTS5 write, then forget them: the
#: messages after ``up_to`` (a range of the rowid) and those changed since indexed.
SQLITE_INDEX_PENDING = (
    """
    INSERT INTO messages_fts (rowid, content, scope)
        SELECT id, content, scope FROM messages_search_source
        WHERE id > (SELECT up_to FROM search_indexed)
        UNION ALL
        SELECT id, content, scope FROM messages_search_source
        WHERE id IN (SELECT id FROM search_pending)
          AND id <= (SELECT up_to FROM search_indexed)
    """,
    """
    UPDATE search_indexed SET up_to = MAX(up_to, (SELECT COALESCE(MAX(id), 0) FROM messages))
    """,
    "DELETE FROM search_pending",
)
SQLITE_ANY_PENDING = """
    SELECT 1 WHERE EXISTS (SELECT 1 FROM search_pending)
        OR (SELECT COALESCE(MAX(id), 0) FROM messages) > (SELECT up_to FROM search_indexed)
"""

#: The newest matches first; the FTS5 index reads its row lists backwards and stops early.
SQLITE_SEARCH = f"""
    SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN (
        SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid < ?
        ORDER BY rowid DESC LIMIT ?)
    ORDER BY id DESC
"""

POSTGRES_SEARCH_MIGRATIONS: Final[tuple[str, ...]] = (
    """
    ALTER TABLE messages ADD COLUMN search_vector tsvector;
    CREATE INDEX messages_search ON messages USING gin (search_vector);
    CREATE INDEX messages_search_pending ON messages (id)
        WHERE search_vector IS NULL AND content <> '';
    CREATE FUNCTION messages_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector THEN
            NEW.search_vector := NULL;
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER messages_search_stale BEFORE UPDATE OF content ON messages
        FOR EACH ROW WHEN (NEW.content IS DISTINCT FROM OLD.content)
        EXECUTE FUNCTION messages_search_stale();
    """,
)

#: Rows whose vector is missing (stored before the migration, or edited without one).
POSTGRES_PENDING = """
    SELECT id, content FROM messages
    WHERE search_vector IS NULL AND content <> '' ORDER BY id LIMIT %s
"""
POSTGRES_SET_VECTOR = """
    UPDATE messages SET search_vector = %s::tsvector
    WHERE id = %s AND content = %s
"""

#: §14.15: the conversations a user can read now, as one sub-query (parameter ``user``).
READABLE_CONVERSATIONS = """
    SELECT channel FROM memberships WHERE user_key = {user}
    UNION ALL SELECT conversation FROM dm_peers WHERE user_key = {user}
"""


POSTGRES_SEARCH = f"""
    SELECT {MESSAGE_COLUMNS} FROM messages
    WHERE search_vector @@ %(query)s::tsquery AND id < %(before)s AND content <> ''
      AND conversation IN ({{conversations}})
    ORDER BY id DESC LIMIT %(limit)s
"""
