"""The SQL of ArTP/1.1 ``moderation`` (§14.16-14.21), written once for SQLite and PostgreSQL.

Like ``lifecycle_sql``: every decision that reads and then writes (may this user join? who
owns the channel?) is a *script* run in ONE transaction of the store's writer, with
``:name`` parameters that ``Dialect.text`` adapts. The tables:

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

from dataclasses import dataclass
from typing import Any

from aronanet.server.store.lifecycle_sql import Dialect, Script, Statement

#: Roles by strength; "member" is a member without a ``channel_roles`` row.
RANK = {"owner": 3, "operator": 2, "voiced": 1, "member": 0}


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


# ---------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class ChannelModeration:
    """One channel's moderation state, as the hot path (MSG, TOPIC) consults it."""

    invite_only: bool = False
    moderated: bool = False
    topic_locked: bool = False
    roles: dict[str, str] | None = None  # user key -> owner/operator/voiced
    mutes: dict[str, int] | None = None  # user key -> muted until (Unix seconds)

    def role_of(self, user_key: str) -> str:
        return (self.roles or {}).get(user_key, "member")

    def muted_until(self, user_key: str, now: int) -> int | None:
        until = (self.mutes or {}).get(user_key)
        return until if until is not None and until > now else None


@dataclass(frozen=True, slots=True)
class BanRow:
    user: str
    by: str
    reason: str
    at: int


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: int
    by: str
    action: str
    user: str | None
    channel: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An action to record: who did what to whom, where, why."""

    at: int
    by: str
    action: str
    user: str | None = None
    channel: str | None = None
    reason: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "by": self.by,
            "action": self.action,
            "user": self.user,
            "channel": self.channel,
            "reason": self.reason,
        }


_AUDIT = """
    INSERT INTO audit_log (at, by_name, action, user_name, channel, reason)
    VALUES (:at, :by, :action, :user, :channel, :reason)
"""


def run(dialect: Dialect, sql: str, **params: Any) -> Statement:
    return Statement(dialect.text(sql), params)


def audit(dialect: Dialect, record: AuditRecord | None) -> Script:
    """Record ``record`` (nothing for None) in the same transaction as the change."""
    if record is not None:
        yield run(dialect, _AUDIT, **record.params())


# ---------------------------------------------------------------- channel scripts


def channel_moderation_script(dialect: Dialect, channel: str) -> Script:
    modes = yield run(
        dialect,
        "SELECT invite_only, moderated, topic_locked FROM channels WHERE name = :channel",
        channel=channel,
    )
    roles = yield run(
        dialect,
        "SELECT user_key, role FROM channel_roles WHERE channel = :channel",
        channel=channel,
    )
    mutes = yield run(
        dialect,
        "SELECT user_key, until FROM channel_mutes WHERE channel = :channel",
        channel=channel,
    )
    invite_only, moderated, topic_locked = modes[0] if modes else (0, 0, 0)
    return ChannelModeration(
        invite_only=bool(invite_only),
        moderated=bool(moderated),
        topic_locked=bool(topic_locked),
        roles={key: role for key, role in roles},
        mutes={key: int(until) for key, until in mutes},
    )


def admission_script(dialect: Dialect, channel: str, user_key: str, admin: bool) -> Script:
    """§14.17 JOIN: None if ``user_key`` may join, else "banned" / "invite_only"."""
    banned = yield run(
        dialect,
        "SELECT 1 FROM channel_bans WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    if banned:
        return "banned"
    if admin:
        return None
    modes = yield run(
        dialect, "SELECT invite_only FROM channels WHERE name = :channel", channel=channel
    )
    if not modes or not modes[0][0]:
        return None
    invited = yield run(
        dialect,
        "SELECT 1 FROM channel_invites WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    return None if invited else "invite_only"


def joined_script(dialect: Dialect, channel: str, user_key: str) -> Script:
    """After a JOIN: use up the user's invitation, and make the creator of a channel made
    after the upgrade (not ``legacy``) its owner when it has none. Returns the role."""
    yield run(
        dialect,
        "DELETE FROM channel_invites WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    yield run(
        dialect,
        "INSERT INTO channel_roles (channel, user_key, role) "
        "SELECT :channel, :user, 'owner' FROM channels WHERE name = :channel AND legacy = 0 "
        "AND NOT EXISTS (SELECT 1 FROM channel_roles WHERE channel = :channel) "
        "ON CONFLICT DO NOTHING",
        channel=channel,
        user=user_key,
    )
    role = yield run(
        dialect,
        "SELECT role FROM channel_roles WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    return str(role[0][0]) if role else "member"


def set_role_script(
    dialect: Dialect, channel: str, user_key: str, role: str, record: AuditRecord
) -> Script:
    """§14.16 ROLE (checked by the node): ``member`` removes the row; a new ``owner``
    replaces the old one, who becomes an operator."""
    if role == "owner":
        yield run(
            dialect,
            "UPDATE channel_roles SET role = 'operator' "
            "WHERE channel = :channel AND role = 'owner'",
            channel=channel,
        )
    yield run(
        dialect,
        "DELETE FROM channel_roles WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    if role != "member":
        yield run(
            dialect,
            "INSERT INTO channel_roles (channel, user_key, role) VALUES (:channel, :user, :role)",
            channel=channel,
            user=user_key,
            role=role,
        )
    yield from audit(dialect, record)


def remove_member_script(
    dialect: Dialect,
    channel: str,
    user_key: str,
    ban: tuple[str, str, str, int] | None,
    record: AuditRecord,
) -> Script:
    """§14.18 KICK (``ban`` None) or BAN (``ban`` = (name, by, reason, at)): the membership
    goes; a ban also takes the role, the mute and any invitation. Returns whether the user
    was a member."""
    gone = yield run(
        dialect,
        "DELETE FROM memberships WHERE channel = :channel AND user_key = :user RETURNING 1",
        channel=channel,
        user=user_key,
    )
    if ban is not None:
        name, by, reason, at = ban
        for table in ("channel_roles", "channel_mutes", "channel_invites"):
            yield run(
                dialect,
                f"DELETE FROM {table} WHERE channel = :channel AND user_key = :user",
                channel=channel,
                user=user_key,
            )
        yield run(
            dialect,
            "INSERT INTO channel_bans (channel, user_key, user_name, by_name, reason, at) "
            "VALUES (:channel, :user, :name, :by, :reason, :at) "
            "ON CONFLICT (channel, user_key) DO UPDATE SET by_name = excluded.by_name, "
            "reason = excluded.reason, at = excluded.at",
            channel=channel,
            user=user_key,
            name=name,
            by=by,
            reason=reason,
            at=at,
        )
    yield from audit(dialect, record)
    return bool(gone)


def unban_script(dialect: Dialect, channel: str, user_key: str, record: AuditRecord) -> Script:
    gone = yield run(
        dialect,
        "DELETE FROM channel_bans WHERE channel = :channel AND user_key = :user RETURNING 1",
        channel=channel,
        user=user_key,
    )
    if gone:
        yield from audit(dialect, record)
    return bool(gone)


def mute_script(
    dialect: Dialect, channel: str, user_key: str, until: int | None, record: AuditRecord
) -> Script:
    """§14.18 MUTE: ``until`` None lifts it."""
    yield run(
        dialect,
        "DELETE FROM channel_mutes WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    if until is not None:
        yield run(
            dialect,
            "INSERT INTO channel_mutes (channel, user_key, until) VALUES (:channel, :user, :until)",
            channel=channel,
            user=user_key,
            until=until,
        )
    yield from audit(dialect, record)


def mode_script(
    dialect: Dialect, channel: str, modes: dict[str, bool], record: AuditRecord
) -> Script:
    for name, value in modes.items():
        assert name in ("invite_only", "moderated", "topic_locked")
        yield run(
            dialect,
            f"UPDATE channels SET {name} = :value WHERE name = :channel",
            channel=channel,
            value=int(value),
        )
    yield from audit(dialect, record)


def invite_script(
    dialect: Dialect, channel: str, user_key: str, by: str, at: int, record: AuditRecord
) -> Script:
    yield run(
        dialect,
        "INSERT INTO channel_invites (channel, user_key, by_name, at) "
        "VALUES (:channel, :user, :by, :at) ON CONFLICT (channel, user_key) DO NOTHING",
        channel=channel,
        user=user_key,
        by=by,
        at=at,
    )
    yield from audit(dialect, record)


def is_banned_script(dialect: Dialect, channel: str, user_key: str) -> Script:
    rows = yield run(
        dialect,
        "SELECT 1 FROM channel_bans WHERE channel = :channel AND user_key = :user",
        channel=channel,
        user=user_key,
    )
    return bool(rows)


def bans_script(dialect: Dialect, channel: str) -> Script:
    rows = yield run(
        dialect,
        "SELECT user_name, by_name, reason, at FROM channel_bans WHERE channel = :channel "
        "ORDER BY at, user_key",
        channel=channel,
    )
    return [BanRow(str(user), str(by), str(reason), int(at)) for user, by, reason, at in rows]


# ---------------------------------------------------------------- node scripts


def is_admin_script(dialect: Dialect, user_key: str) -> Script:
    rows = yield run(dialect, "SELECT 1 FROM node_admins WHERE user_key = :user", user=user_key)
    return bool(rows)


def set_admin_script(
    dialect: Dialect, user_key: str, name: str, admin: bool, record: AuditRecord
) -> Script:
    if admin:
        yield run(
            dialect,
            "INSERT INTO node_admins (user_key, user_name, by_name, at) "
            "VALUES (:user, :name, :by, :at) ON CONFLICT (user_key) DO NOTHING",
            user=user_key,
            name=name,
            by=record.by,
            at=record.at,
        )
    else:
        yield run(dialect, "DELETE FROM node_admins WHERE user_key = :user", user=user_key)
    yield from audit(dialect, record)


def set_disabled_script(
    dialect: Dialect, user_key: str, at: int | None, record: AuditRecord
) -> Script:
    """§14.20 ACCOUNT: ``at`` None enables the account again. Returns whether it exists."""
    changed = yield run(
        dialect,
        "UPDATE users SET disabled = :at WHERE name_key = :user RETURNING 1",
        user=user_key,
        at=at,
    )
    if changed:
        yield from audit(dialect, record)
    return bool(changed)


def is_disabled_script(dialect: Dialect, user_key: str) -> Script:
    rows = yield run(dialect, "SELECT disabled FROM users WHERE name_key = :user", user=user_key)
    return bool(rows) and rows[0][0] is not None


def set_block_script(
    dialect: Dialect, user_key: str, blocked_key: str, name: str, blocked: bool, at: int
) -> Script:
    if blocked:
        yield run(
            dialect,
            "INSERT INTO blocks (user_key, blocked_key, blocked_name, at) "
            "VALUES (:user, :blocked, :name, :at) ON CONFLICT (user_key, blocked_key) DO NOTHING",
            user=user_key,
            blocked=blocked_key,
            name=name,
            at=at,
        )
    else:
        yield run(
            dialect,
            "DELETE FROM blocks WHERE user_key = :user AND blocked_key = :blocked",
            user=user_key,
            blocked=blocked_key,
        )


def blocks_script(dialect: Dialect, user_key: str) -> Script:
    rows = yield run(
        dialect,
        "SELECT blocked_name FROM blocks WHERE user_key = :user ORDER BY blocked_key",
        user=user_key,
    )
    return [str(name) for (name,) in rows]


def audit_script(dialect: Dialect, before: int | None, limit: int) -> Script:
    rows = yield run(
        dialect,
        "SELECT id, at, by_name, action, user_name, channel, reason FROM audit_log "
        "WHERE id < :before ORDER BY id DESC LIMIT :limit",
        before=before if before is not None else 2**63 - 1,
        limit=limit,
    )
    return [AuditRow(int(row[0]), int(row[1]), *row[2:]) for row in rows]


def record_script(dialect: Dialect, record: AuditRecord) -> Script:
    yield from audit(dialect, record)


# ---------------------------------------------------------------- tokens (§14.21)


def add_token_script(
    dialect: Dialect,
    token_hash: str,
    kind: str,
    user_key: str | None,
    uses: int,
    expires: int | None,
    record: AuditRecord,
) -> Script:
    yield run(
        dialect,
        "INSERT INTO tokens (token_hash, kind, user_key, uses_left, expires, created, by_name) "
        "VALUES (:hash, :kind, :user, :uses, :expires, :at, :by)",
        hash=token_hash,
        kind=kind,
        user=user_key,
        uses=uses,
        expires=expires,
        at=record.at,
        by=record.by,
    )
    yield from audit(dialect, record)


def use_token_script(dialect: Dialect, token_hash: str, kind: str, now: int) -> Script:
    """Spend one use of a live token of ``kind``; returns its user key ("" for an
    invitation), or None if there is no such live token."""
    rows = yield run(
        dialect,
        "UPDATE tokens SET uses_left = uses_left - 1 WHERE token_hash = :hash AND kind = :kind "
        "AND uses_left > 0 AND (expires IS NULL OR expires > :now) RETURNING user_key",
        hash=token_hash,
        kind=kind,
        now=now,
    )
    return None if not rows else str(rows[0][0] or "")


def refund_token_script(dialect: Dialect, token_hash: str) -> Script:
    """Give a use back (the registration it was spent on failed: the name was taken)."""
    yield run(
        dialect,
        "UPDATE tokens SET uses_left = uses_left + 1 WHERE token_hash = :hash",
        hash=token_hash,
    )


def latest_audit_script(dialect: Dialect) -> Script:
    rows = yield run(dialect, "SELECT COALESCE(MAX(id), 0) FROM audit_log")
    return int(rows[0][0])


def audit_after_script(dialect: Dialect, after: int) -> Script:
    rows = yield run(
        dialect,
        "SELECT id, at, by_name, action, user_name, channel, reason FROM audit_log "
        "WHERE id > :after ORDER BY id LIMIT 500",
        after=after,
    )
    return [AuditRow(int(row[0]), int(row[1]), *row[2:]) for row in rows]


def invite_only_channels_script(dialect: Dialect) -> Script:
    rows = yield run(dialect, "SELECT name FROM channels WHERE invite_only <> 0")
    return [str(name) for (name,) in rows]
