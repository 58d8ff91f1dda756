"""The SQL of ArTP/1.1 node moderation (§14.19-14.21), written once for SQLite and PostgreSQL.

The node-wide half of moderation: node admins, disabled accounts, blocks, the audit log
(also the node's control feed) and registration / reset tokens. Apart from the channel
scripts (``moderation_sql``, whose ``run`` and ``audit`` these use) because none of them
concerns a channel; they run the same way, in ONE transaction of the store's writer.
"""

from __future__ import annotations

from aronanet.server.store.lifecycle_sql import Dialect, Script
from aronanet.server.store.moderation_rows import AuditRecord, AuditRow
from aronanet.server.store.moderation_sql import audit, run

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
