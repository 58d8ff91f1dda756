"""PostgreSQL schema as numbered migrations per component, recorded in ``schema_migrations``.

The same components as SQLite's (``schema.py``), so a node upgraded from an older version
upgrades a shared database in place. Migrations run under a session advisory lock, so nodes
starting together do not race; each script runs in its own transaction.
"""

from __future__ import annotations

from typing import Any

import psycopg

from aronanet.server.store.lifecycle_sql import UNREAD_SKIPS_DELETED, lifecycle_migration
from aronanet.server.store.moderation_schema import moderation_migration
from aronanet.server.store.search_sql import POSTGRES_SEARCH_MIGRATIONS
from aronanet.server.store.sync_sql import sync_migration

Connection = psycopg.AsyncConnection[Any]

#: First key of the migration lock ("ARO" + 2); the second is the schema's hash, as for the
#: store's write lock: nodes of one community migrate one at a time, other schemas go on.
MIGRATION_LOCK = 0x41524F02

MIGRATIONS: dict[str, tuple[str, ...]] = {
    "core": (
        """
        CREATE TABLE users (
            name_key      TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created       BIGINT NOT NULL
        );
        CREATE TABLE channels (
            name    TEXT PRIMARY KEY,
            topic   TEXT NOT NULL DEFAULT '',
            created BIGINT NOT NULL
        );
        CREATE TABLE memberships (
            channel  TEXT NOT NULL REFERENCES channels(name),
            user_key TEXT NOT NULL REFERENCES users(name_key),
            PRIMARY KEY (channel, user_key)
        );
        CREATE INDEX memberships_by_user ON memberships (user_key);
        CREATE TABLE messages (
            id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            conversation TEXT NOT NULL,
            sender       TEXT NOT NULL,
            dest_type    TEXT NOT NULL,
            dest         TEXT NOT NULL,
            content      TEXT NOT NULL,
            timestamp    BIGINT NOT NULL,
            attachment   TEXT
        );
        CREATE INDEX messages_by_conversation ON messages (conversation, id);
        """,
    ),
    "images": (
        """
        CREATE INDEX messages_by_image ON messages (((attachment::jsonb) ->> 'image'))
            WHERE attachment IS NOT NULL;
        CREATE INDEX messages_images_by_sender ON messages (sender)
            WHERE attachment IS NOT NULL;
        """,
    ),
    # ArTP/1.1 sync (§14.3-14.6): the same script as SQLite's.
    "sync": (sync_migration(),),
    # ArTP/1.1 lifecycle (§14.9-14.14): the same tables as SQLite's, a sequence for revs.
    "lifecycle": (lifecycle_migration(postgres=True), UNREAD_SKIPS_DELETED),
    # §14.15: a tsvector per message, filled by the node (``PostgresStore.search``).
    "search": POSTGRES_SEARCH_MIGRATIONS,
    # ArTP/1.1 moderation (§14.16-14.21): the same tables as SQLite's.
    "moderation": (moderation_migration(postgres=True),),
    # Scale-out images (image_postgres): blobs in chunk rows, and the uploads in progress
    # shared by every node, so any node serves any image and resumes any upload.
    "image_blobs": (
        """
        CREATE TABLE image_blobs (
            sha256     TEXT PRIMARY KEY,
            size       BIGINT NOT NULL,
            chunk_size INTEGER NOT NULL
        );
        CREATE TABLE image_blob_chunks (
            sha256 TEXT NOT NULL,
            idx    INTEGER NOT NULL,
            data   BYTEA NOT NULL,
            PRIMARY KEY (sha256, idx)
        );
        CREATE TABLE image_uploads (
            user_key   TEXT NOT NULL,
            transfer   TEXT NOT NULL,
            header     TEXT NOT NULL,
            next_index INTEGER NOT NULL,
            state      TEXT NOT NULL,
            image      TEXT,
            msg_id     TEXT,
            timestamp  BIGINT,
            error_code TEXT,
            error_text TEXT,
            updated    TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (user_key, transfer)
        );
        CREATE INDEX image_uploads_by_age ON image_uploads (updated);
        CREATE TABLE image_upload_chunks (
            user_key TEXT NOT NULL,
            transfer TEXT NOT NULL,
            idx      INTEGER NOT NULL,
            data     BYTEA NOT NULL,
            PRIMARY KEY (user_key, transfer, idx),
            FOREIGN KEY (user_key, transfer) REFERENCES image_uploads ON DELETE CASCADE
        );
        """,
    ),
}


async def migrate(conn: Connection) -> dict[str, int]:
    """Run every migration not yet applied, each in its own transaction; return versions."""
    await conn.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (MIGRATION_LOCK,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        versions: dict[str, int] = {}
        for component, scripts in MIGRATIONS.items():
            cursor = await conn.execute(
                "SELECT version FROM schema_migrations WHERE component = %s", (component,)
            )
            row = await cursor.fetchone()
            current = row[0] if row else 0
            for number, script in enumerate(scripts[current:], start=current + 1):
                async with conn.transaction():
                    await conn.execute(script)  # several statements: allowed without parameters
                    await conn.execute(
                        "INSERT INTO schema_migrations (component, version) VALUES (%s, %s) "
                        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                        (component, number),
                    )
            versions[component] = len(scripts)
        return versions
    finally:
        await conn.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (MIGRATION_LOCK,)
        )
