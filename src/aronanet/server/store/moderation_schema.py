"""The ``moderation`` migration (§14.16-14.21) of both backends, one text for the two.

Apart from the scripts (``moderation_sql``, ``node_moderation_sql``) because the schemas
(``schema``, ``postgres_schema``) need only the migration, and the scripts only the
tables it makes:

* ``channels`` gains its modes and ``legacy`` (channels that existed before this migration:
  they have no owner until a node admin names one, §14.16);
* ``channel_roles`` (owner, operator, voiced; "member" is the absence of a row), at most one
  owner per channel (a partial unique index);
* ``channel_bans``, ``channel_mutes``, ``channel_invites`` per (channel, user);
* ``node_admins`` (granted in the store; the configuration's ``admins`` are added by the
  node), ``users.disabled``, ``blocks``;
* ``tokens``: registration invitations and password resets, only their SHA-256 kept;
* ``audit_log``: every moderation and admin action. The node also reads it as its control
  feed: ``aronanet admin`` writes here, and a running node polls for new entries (§14.21).
"""

from __future__ import annotations


def moderation_migration(*, postgres: bool) -> str:
    """The ``moderation`` migration of both backends."""
    audit_id = (
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        if postgres
        else "INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    return f"""
    ALTER TABLE channels ADD COLUMN invite_only INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN moderated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN topic_locked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0;
    UPDATE channels SET legacy = 1;
    ALTER TABLE users ADD COLUMN disabled BIGINT;
    CREATE TABLE channel_roles (
        channel  TEXT NOT NULL,
        user_key TEXT NOT NULL,
        role     TEXT NOT NULL,
        PRIMARY KEY (channel, user_key)
    );
    CREATE UNIQUE INDEX channel_roles_one_owner ON channel_roles (channel) WHERE role = 'owner';
    CREATE TABLE channel_bans (
        channel   TEXT NOT NULL,
        user_key  TEXT NOT NULL,
        user_name TEXT NOT NULL,
        by_name   TEXT NOT NULL,
        reason    TEXT NOT NULL,
        at        BIGINT NOT NULL,
        PRIMARY KEY (channel, user_key)
    );
    CREATE TABLE channel_mutes (
        channel  TEXT NOT NULL,
        user_key TEXT NOT NULL,
        until    BIGINT NOT NULL,
        PRIMARY KEY (channel, user_key)
    );
    CREATE TABLE channel_invites (
        channel  TEXT NOT NULL,
        user_key TEXT NOT NULL,
        by_name  TEXT NOT NULL,
        at       BIGINT NOT NULL,
        PRIMARY KEY (channel, user_key)
    );
    CREATE TABLE node_admins (
        user_key  TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        by_name   TEXT NOT NULL,
        at        BIGINT NOT NULL
    );
    CREATE TABLE blocks (
        user_key     TEXT NOT NULL,
        blocked_key  TEXT NOT NULL,
        blocked_name TEXT NOT NULL,
        at           BIGINT NOT NULL,
        PRIMARY KEY (user_key, blocked_key)
    );
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        user_key   TEXT,
        uses_left  INTEGER NOT NULL,
        expires    BIGINT,
        created    BIGINT NOT NULL,
        by_name    TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id        {audit_id},
        at        BIGINT NOT NULL,
        by_name   TEXT NOT NULL,
        action    TEXT NOT NULL,
        user_name TEXT,
        channel   TEXT,
        reason    TEXT
    );
    """
