"""ArTP/1.1 ``lifecycle`` requests (§14.10-14.14): EDIT, DELETE, REACT/UNREACT, TYPING, CHANGES.

Every request names a message by id. Whether the user may see it is decided once, here
(``readable_message``): a member of its channel now, or a party of its DM. Anything else,
and a message that does not exist, is the same ``NOT_FOUND``, so ids cannot be probed.
Then the store makes the change in ONE transaction with the author check (``NOT_AUTHOR``),
so a DELETE racing an EDIT leaves the message deleted whichever commits last.

Events go to the conversation's sessions (the requesting one aside) that negotiated
``lifecycle`` (``Delivery.feature``), through the broker, so sessions on other nodes get them
too. Replies to everyone else carry the new state as fields of ``MSG`` (HISTORY, CHANGES).

TYPING is never stored: ``TypingRelay`` remembers, per user and conversation, when it last
relayed ``typing: true``, and drops what would only repeat it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import partial

import msgspec

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.emoji import INVALID_EMOJI, is_reaction_emoji
from aronanet.proto.features import LIFECYCLE
from aronanet.proto.lifecycle import (
    Changes,
    Delete,
    DeleteEvent,
    Edit,
    EditEvent,
    React,
    ReactionEvent,
    Typing,
    TypingEvent,
    Unreact,
)
from aronanet.proto.messages import Ok
from aronanet.server.broker.base import Delivery
from aronanet.server.handlers import HandlerTable, RequestContext
from aronanet.server.image_blobs import blob_store_for
from aronanet.server.logs import log_event
from aronanet.server.messaging import decorated_events, fit, message_id, resolve_destination
from aronanet.server.moderation import may_delete_any
from aronanet.server.ratelimit import BucketMap, spend_session_and_account
from aronanet.server.services import Services
from aronanet.server.store.moderation_rows import AuditRecord
from aronanet.server.store.rows import (
    Change,
    ChangesQuery,
    EditRequest,
    MessageRow,
    ReactionRequest,
    Refusal,
    user_key,
)

logger = logging.getLogger(__name__)

#: Room kept in a CHANGES reply for the OK envelope around the messages.
_ENVELOPE_BYTES = 512
#: Conversations whose last relayed ``typing: true`` the node remembers at most.
TYPING_MEMORY = 65536


# ---------------------------------------------------------------- who may see a message


async def readable_message(ctx: RequestContext, raw_id: str) -> MessageRow:
    """The message ``raw_id`` names if the user may read its conversation now; else
    ``NOT_FOUND`` (missing and unreadable alike). A malformed id is ``INVALID``."""
    wanted = message_id(raw_id, "msg_id")
    assert wanted is not None  # msg_id is a required field
    row = await ctx.services.store.message(wanted)
    if row is None or not await _may_read(ctx.services, row, ctx.user):
        raise RequestError(ErrorCode.NOT_FOUND, f"no such message {wanted}")
    return row


async def _may_read(services: Services, row: MessageRow, user: str) -> bool:
    if row.dest_type == "user":
        return user_key(user) in (user_key(row.sender), user_key(row.dest))
    channels = services.channels
    channel = channels.cached_member_channel(row.dest, user)
    if channel is None and channels.shared:
        channel = await channels.confirm_member_channel(row.dest, user)
    return channel is not None


def conversation_keys(services: Services, row: MessageRow) -> tuple[str, ...]:
    """Who hears of a change to ``row``: its channel's members now, or both DM parties."""
    if row.dest_type == "channel":
        channel = services.channels.get(row.dest)
        return channel.member_keys() if channel is not None else ()
    return (user_key(row.sender), user_key(row.dest))


def publish(ctx: RequestContext, recipients: tuple[str, ...], event: msgspec.Struct) -> None:
    """An event for the ``lifecycle`` sessions of ``recipients`` on every node."""
    ctx.services.router.publish(
        Delivery(recipients, codec.encode(event), ctx.session.id, feature=LIFECYCLE)
    )


def refused(change: Change, wanted: int) -> MessageRow:
    """The changed row, or the ERROR the refusal means."""
    if change.refusal is Refusal.NOT_AUTHOR:
        raise RequestError(
            ErrorCode.NOT_AUTHOR,
            "only its author (or, to delete, an operator of its channel) may change a message",
        )
    if change.refusal is not None or change.row is None:
        raise RequestError(ErrorCode.NOT_FOUND, f"no such message {wanted}")
    return change.row


# ---------------------------------------------------------------- EDIT, DELETE


async def handle_edit(ctx: RequestContext, request: Edit) -> Ok:
    """§14.10 EDIT ``{msg_id, content}`` -> ``OK {msg_id, edited}``; EDIT event."""
    services, limits = ctx.services, ctx.services.limits
    if len(request.content) > limits.max_content:
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"content of {len(request.content)} characters exceeds limit of {limits.max_content}",
        )
    found = await readable_message(ctx, request.msg_id)
    now = services.now()
    change = await services.store.edit_message(
        EditRequest(found.id, ctx.user, request.content, now, limits.keep_edit_history)
    )
    row = refused(change, found.id)
    event = EditEvent(
        id=services.ids.next(),
        msg_id=str(row.id),
        from_=row.sender,
        dest_type=row.dest_type,  # type: ignore[arg-type]  # the store holds only valid ones
        dest=row.dest,
        content=row.content,
        edited=now,
        timestamp=now,
        rev=str(row.rev),
    )
    publish(ctx, conversation_keys(services, row), event)
    return ctx.ok(msg_id=str(row.id), edited=now, rev=str(row.rev))


async def remove_image(services: Services, sha256: str) -> None:
    """§14.11: the stored image no message carries any more goes too (its file, or in
    scale-out mode its rows in PostgreSQL); a failure is logged, the DELETE stands."""
    try:
        await blob_store_for(services).delete(sha256)
    except Exception as exc:  # OSError, or the database: the message is deleted anyway
        log_event(logger, "image_remove_failed", logging.WARNING, error=type(exc).__name__)


async def handle_delete(ctx: RequestContext, request: Delete) -> Ok:
    """§14.11 DELETE ``{msg_id}`` -> ``OK {msg_id}``; the row stays as a tombstone."""
    services = ctx.services
    found = await readable_message(ctx, request.msg_id)
    now = services.now()
    # §14.18: a channel's operators and the node's admins delete anyone's message in it.
    any_author = user_key(found.sender) != user_key(ctx.user) and await may_delete_any(
        ctx, found.dest_type, found.dest
    )
    change = await services.store.delete_message(found.id, ctx.user, now, any_author=any_author)
    row = refused(change, found.id)
    if any_author:  # a moderator's delete is audited (§14.20)
        await services.store.record(
            AuditRecord(now, ctx.user, "delete", row.sender, row.dest, f"message {row.id}")
        )
    if change.orphaned_image is not None:
        await remove_image(services, change.orphaned_image)
    event = DeleteEvent(
        id=services.ids.next(),
        msg_id=str(row.id),
        from_=ctx.user,
        dest_type=row.dest_type,  # type: ignore[arg-type]
        dest=row.dest,
        timestamp=now,
        rev=str(row.rev),
    )
    publish(ctx, conversation_keys(services, row), event)
    return ctx.ok(msg_id=str(row.id), rev=str(row.rev))


# ---------------------------------------------------------------- REACT, UNREACT


async def handle_react(ctx: RequestContext, request: React | Unreact) -> Ok:
    """§14.12 REACT / UNREACT ``{msg_id, emoji}`` -> ``OK {msg_id, emoji, count}``."""
    services = ctx.services
    if not is_reaction_emoji(request.emoji):
        raise RequestError(ErrorCode.INVALID, INVALID_EMOJI)
    found = await readable_message(ctx, request.msg_id)
    adding = isinstance(request, React)
    change = await services.store.react(
        ReactionRequest(found.id, ctx.user, request.emoji, adding, services.limits.max_reactions)
    )
    if change.refusal is Refusal.TOO_MANY:
        most = services.limits.max_reactions
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"message {found.id} already has {most} different reactions, the most it may carry",
        )
    row = refused(change, found.id)
    if change.changed:
        now = services.now()
        event = ReactionEvent(
            id=services.ids.next(),
            msg_id=str(row.id),
            from_=ctx.user,
            emoji=request.emoji,
            added=adding,
            count=change.count,
            dest_type=row.dest_type,  # type: ignore[arg-type]
            dest=row.dest,
            timestamp=now,
            rev=str(row.rev),
        )
        # The reactor's other sessions are among the recipients (a DM party, a member).
        publish(ctx, conversation_keys(services, row), event)
    return ctx.ok(msg_id=str(row.id), emoji=request.emoji, count=change.count, rev=str(row.rev))


# ---------------------------------------------------------------- TYPING


class TypingRelay:
    """§14.13: which ``typing`` notices are worth relaying, and each session's budget (in
    scale-out mode the account's budget across nodes is in Redis: ``typing_budget``).

    A ``typing: true`` is relayed at most once per ``interval`` per (user, conversation);
    a ``typing: false`` only while a relayed true still holds (2 x ``interval``), after
    which the entry is forgotten. At most ``TYPING_MEMORY`` entries, the stalest dropped.
    """

    def __init__(self) -> None:
        self._relayed: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._budgets: BucketMap | None = None

    def budget(self, services: Services) -> BucketMap:
        if self._budgets is None:
            limits = services.limits
            self._budgets = BucketMap(
                limits.typing_per_second, limits.typing_burst, services.monotonic
            )
        return self._budgets

    def should_relay(self, key: tuple[str, str], typing: bool, now: float, interval: float) -> bool:
        last = self._relayed.get(key)
        if not typing:
            self._relayed.pop(key, None)
            return last is not None and now - last <= 2 * interval
        if last is not None and now - last < interval:
            return False
        self._relayed[key] = now
        self._relayed.move_to_end(key)
        while len(self._relayed) > TYPING_MEMORY:
            self._relayed.popitem(last=False)
        return True


async def handle_typing(relay: TypingRelay, ctx: RequestContext, request: Typing) -> Ok:
    """§14.13 TYPING ``{dest_type, dest, typing}`` -> ``OK``; relayed, throttled, never
    stored; to the other participants' ``lifecycle`` sessions, not the typist's own."""
    services, user = ctx.services, ctx.user
    wait = await spend_session_and_account(
        relay.budget(services),
        ctx.session.id,
        services.shared_buckets,
        services.typing_budget,
        user_key(user),
    )
    if wait:
        raise RequestError(
            ErrorCode.RATE_LIMITED,
            f"typing notices too fast: retry in {wait} ms",
            retry_after_ms=wait,
        )
    destination = await resolve_destination(ctx, request.dest_type, request.dest)
    interval = services.limits.typing_interval
    key = (user_key(user), destination.conversation)
    if not relay.should_relay(key, request.typing, services.monotonic(), interval):
        return ctx.ok()
    me = user_key(user)
    others = tuple(key for key in destination.recipients if key != me)
    event = TypingEvent(
        id=services.ids.next(),
        from_=user,
        dest_type=destination.dest_type,  # type: ignore[arg-type]
        dest=destination.dest,
        typing=request.typing,
        expires_ms=int(2 * interval * 1000),
        timestamp=services.now(),
    )
    publish(ctx, others, event)
    return ctx.ok()


# ---------------------------------------------------------------- CHANGES


async def handle_changes(ctx: RequestContext, request: Changes) -> Ok:
    """§14.14 CHANGES ``{dest_type, dest, since, limit?}`` -> ``OK {messages, rev, next?}``:
    the current state of every message changed (or new) after ``since``, in rev order."""
    services = ctx.services
    destination = await resolve_destination(ctx, request.dest_type, request.dest)
    since = min(int(request.since), 2**63 - 1)
    limit = min(request.limit, services.limits.max_history)
    rows = await services.store.changes(ChangesQuery(destination.conversation, since, limit + 1))
    events = await decorated_events(ctx, rows[:limit])
    kept = fit(events, ctx.session.conn.max_plaintext - _ENVELOPE_BYTES, keep_newest=False)
    more = len(kept) < len(rows)
    rev = kept[-1].rev if kept else str(since)
    return ctx.ok(messages=kept, rev=rev, next=True if more else msgspec.UNSET)


def register_lifecycle_handlers(table: HandlerTable) -> None:
    table.register(Edit, handle_edit, rate_limited=True)
    table.register(Delete, handle_delete, rate_limited=True)
    table.register(React, handle_react, rate_limited=True)
    table.register(Unreact, handle_react, rate_limited=True)
    table.register(Typing, partial(handle_typing, TypingRelay()))
    table.register(Changes, handle_changes)
