"""SQLite schema as numbered migrations per component, recorded in ``schema_migrations``.

Each component (``core``, and later e.g. ``images``) owns an ordered list of SQL scripts.
A database remembers, per component, how many of them it has run, so a newer node
upgrades an older database in place and a component can add tables without touching the
others. Other modules add theirs with ``register_migrations`` before the store opens.
"""

from __future__ import annotations

import sqlite3

from aronanet.server.store.lifecycle_sql import UNREAD_SKIPS_DELETED, lifecycle_migration
from aronanet.server.store.moderation_schema import moderation_migration
from aronanet.server.store.search_sql import SQLITE_SEARCH_MIGRATIONS
from aronanet.server.store.sqlite_reservations import RESERVATIONS_MIGRATIONS
from aronanet.server.store.sync_sql import sync_migration

CORE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        name_key      TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created       INTEGER NOT NULL
    );
    CREATE TABLE channels (
        name    TEXT PRIMARY KEY,
        topic   TEXT NOT NULL DEFAULT '',
        created INTEGER NOT NULL
    );
    CREATE TABLE memberships (
        channel  TEXT NOT NULL REFERENCES channels(name),
        user_key TEXT NOT NULL REFERENCES users(name_key),
        PRIMARY KEY (channel, user_key)
    ) WITHOUT ROWID;
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL,
        sender       TEXT NOT NULL,
        dest_type    TEXT NOT NULL,
        dest         TEXT NOT NULL,
        content      TEXT NOT NULL,
        timestamp    INTEGER NOT NULL,
        attachment   TEXT
    );
    CREATE INDEX messages_by_conversation ON messages (conversation, id);
    """,
)

#: The indexes of ``Store.readable_image_attachment`` and ``uploaded_image_bytes`` (§4). The
#: image handlers used to create them on first use, hence ``IF NOT EXISTS``.
IMAGE_INDEX_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE INDEX IF NOT EXISTS messages_by_image ON messages
        (json_extract(attachment, '$.image')) WHERE attachment IS NOT NULL;
    CREATE INDEX IF NOT EXISTS messages_images_by_sender ON messages
        (sender, json_extract(attachment, '$.image')) WHERE attachment IS NOT NULL;
    """,
)

#: ArTP/1.1 sync (§14.3-14.6): client ids, devices, DM peers, mentions and read markers.
SYNC_MIGRATIONS: tuple[str, ...] = (sync_migration(" WITHOUT ROWID"),)

#: ArTP/1.1 lifecycle (§14.9-14.14): replies, edits, tombstones, reactions, change numbers.
LIFECYCLE_MIGRATIONS: tuple[str, ...] = (
    lifecycle_migration(postgres=False),
    UNREAD_SKIPS_DELETED,
)

#: ArTP/1.1 moderation (§14.16-14.21): roles, bans, mutes, modes, admins, blocks, tokens, audit.
MODERATION_MIGRATIONS: tuple[str, ...] = (moderation_migration(postgres=False),)

_REGISTRY: dict[str, tuple[str, ...]] = {
    "core": CORE_MIGRATIONS,
    "images": IMAGE_INDEX_MIGRATIONS,
    "sync": SYNC_MIGRATIONS,
    "lifecycle": LIFECYCLE_MIGRATIONS,
    # §14.15: the full-text index of messages, back-filled from the messages already stored.
    "search": SQLITE_SEARCH_MIGRATIONS,
    "moderation": MODERATION_MIGRATIONS,
    # Ids and change numbers reserved on disk ahead of use (``sqlite_reservations``).
    "reservations": RESERVATIONS_MIGRATIONS,
}


def current_versions() -> dict[str, int]:
    """Each component's version once every migration this code knows has run."""
    return {component: len(scripts) for component, scripts in _REGISTRY.items()}


def register_migrations(component: str, scripts: tuple[str, ...]) -> None:
    """Declare a component's migrations; append new scripts, never edit shipped ones."""
    _REGISTRY[component] = scripts


def migrate(conn: sqlite3.Connection) -> dict[str, int]:
    """Run every migration not yet applied, each in its own transaction; return versions."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    versions: dict[str, int] = {}
    for component, scripts in _REGISTRY.items():
        row = conn.execute(
            "SELECT version FROM schema_migrations WHERE component = ?", (component,)
        ).fetchone()
        current = row[0] if row else 0
        for number, script in enumerate(scripts[current:], start=current + 1):
            _apply(conn, component, number, script)
        versions[component] = len(scripts)
    return versions


def _apply(conn: sqlite3.Connection, component: str, number: int, script: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (component, version) VALUES (?, ?) "
            "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, number),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a script into statements, keeping a trigger's inner ``;`` inside its statement."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending)
            pending = ""
    return statements
