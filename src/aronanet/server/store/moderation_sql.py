"""The SQL of ArTP/1.1 channel moderation (§14.16-14.18), written once for SQLite and PostgreSQL.

Like ``lifecycle_sql``: every decision that reads and then writes (may this user join? who
owns the channel?) is a *script* run in ONE transaction of the store's writer, with
``:name`` parameters that ``Dialect.text`` adapts. The node-wide scripts (admins, accounts,
blocks, the audit log, tokens) are ``node_moderation_sql``'s; ``run`` and ``audit``, which
both use, are here. The tables are ``moderation_schema``'s.
"""

from __future__ import annotations

from typing import Any

from aronanet.server.store.lifecycle_sql import Dialect, Script, Statement
from aronanet.server.store.moderation_rows import AuditRecord, BanRow, ChannelModeration

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


def invite_only_channels_script(dialect: Dialect) -> Script:
    rows = yield run(dialect, "SELECT name FROM channels WHERE invite_only <> 0")
    return [str(name) for (name,) in rows]
