"""Node administration (§14.20): what only a node's admins may ask (``ACCOUNT``, ``AUDIT``),
and how a node acts on what ``aronanet admin`` did while it runs (the control feed).

Apart from channel moderation (``moderation``) because it is about accounts and the node,
not about one channel: no standing in a channel is involved, only ``is_admin``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import msgspec
from msgspec import UNSET

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto.messages import Ok
from aronanet.proto.moderation import AccountRequest, Audit, AuditEntry
from aronanet.server.broker.base import CloseSessions, Delivery
from aronanet.server.logs import log_event
from aronanet.server.moderation import record, target_user
from aronanet.server.router import Router
from aronanet.server.store.moderation import ModerationStore
from aronanet.server.store.moderation_rows import AuditRow
from aronanet.server.store.rows import user_key

if TYPE_CHECKING:
    from aronanet.server.handlers import HandlerTable, RequestContext

#: The logger of the module these came from: the lines operators see keep their name.
logger = logging.getLogger("aronanet.server.moderation")
#: How often a node reads the audit log for what ``aronanet admin`` did (§14.20).
CONTROL_POLL_SECONDS = 1.0


async def require_admin(ctx: RequestContext) -> None:
    if not await ctx.services.moderation.is_admin(ctx.user):
        raise RequestError(ErrorCode.NOT_ADMIN, "only the node's admins may do that")


async def handle_account(ctx: RequestContext, request: AccountRequest) -> Ok:
    """§14.20 ACCOUNT (admins): a disabled account cannot log in, and its sessions close
    at once on every node."""
    await require_admin(ctx)
    target = await target_user(ctx, request.user)
    action = "disable" if request.disabled else "enable"
    await ctx.services.store.set_disabled(
        user_key(target),
        ctx.services.now() if request.disabled else None,
        record(ctx, action, user=target),
    )
    if request.disabled:
        close_account(ctx.services.router, target)
    return ctx.ok(user=target, disabled=request.disabled)


def close_account(router: Router, user: str) -> None:
    """Close every session of ``user``, on every node (§14.20)."""
    close = CloseSessions(devices=None, spare_device=None, reason="account disabled")
    router.publish(Delivery((user_key(user),), b"", None, close=close))


async def handle_audit(ctx: RequestContext, request: Audit) -> Ok:
    """§14.20 AUDIT (admins): entries newest first; page with ``before`` = the last id."""
    await require_admin(ctx)
    before = int(request.before) if isinstance(request.before, str) else None
    rows = await ctx.services.store.audit(before, request.limit)
    entries = [audit_entry(row) for row in rows]
    reply = ctx.ok_fitting("entries", entries)
    shown = reply.entries if isinstance(reply.entries, list) else []
    if shown and len(rows) == request.limit:
        return msgspec.structs.replace(reply, next=shown[-1].id)
    return reply


def audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=str(row.id),
        at=row.at,
        by=row.by,
        action=row.action,
        user=row.user if row.user is not None else UNSET,
        channel=row.channel if row.channel is not None else UNSET,
        reason=row.reason if row.reason is not None else UNSET,
    )


# ---------------------------------------------------------------- the admin CLI's feed


async def follow_control_feed(
    store: ModerationStore, router: Router, poll: float = CONTROL_POLL_SECONDS
) -> None:
    """Act on what ``aronanet admin`` recorded while this node runs: a ``disable`` closes
    the account's sessions within ``poll`` seconds. The audit log is the feed, so nothing
    the CLI does is lost if no node runs (the next AUTH reads the store anyway)."""
    seen = await store.latest_audit()
    while True:
        await asyncio.sleep(poll)
        try:
            rows = await store.audit_after(seen)
        except Exception as exc:
            log_event(logger, "control_poll_failed", logging.WARNING, error=type(exc).__name__)
            continue
        for row in rows:
            seen = max(seen, row.id)
            if row.action == "disable" and row.user is not None:
                close_account(router, row.user)


def register_admin_handlers(table: HandlerTable) -> None:
    table.register(AccountRequest, handle_account, rate_limited=True)
    table.register(Audit, handle_audit, rate_limited=True)
