"""Messages: ``MSG`` (store once, then route) and ``HISTORY``; reused by image messages.

The ``MSG`` hot path: the request was decoded and validated once by the codec; here the
message is stored once (group commit) and, only after its batch commits, encoded once and
handed to the router, and the sender gets ``OK`` (§3: "OK to a MSG means the message is
durably stored and routed"). Message ids are the store's increasing integer ids as strings,
so ``HISTORY after: <last id seen>`` returns exactly what a client missed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import msgspec

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.lifecycle import QUOTE_LENGTH, REACTION_USERS, Reaction, ReplyQuote
from aronanet.proto.mentions import mentioned_names
from aronanet.proto.messages import Attachment, History, MsgEvent, Ok, SendMsg
from aronanet.server.channels import Channel
from aronanet.server.handlers import (
    HandlerTable,
    Later,
    PendingReply,
    RequestContext,
    fitting_count,
    member_channel,
)
from aronanet.server.moderation import check_may_post, may_post_freely
from aronanet.server.store.rows import (
    Decorations,
    HistoryQuery,
    MessageRow,
    NewMessage,
    dm_conversation,
    user_key,
)

#: Room kept in a HISTORY reply for the OK envelope around the messages.
_ENVELOPE_BYTES = 512

_MAX_ID = 2**63 - 1

_attachment_decoder = msgspec.json.Decoder(Attachment)


@dataclass(slots=True)
class Destination:
    """Where a message goes: its stored form and the users it reaches (not ``frozen``,
    built per ``MSG``: see ``NewMessage``)."""

    dest_type: str
    dest: str  # the channel, or the recipient's registered name
    conversation: str
    recipients: tuple[str, ...]  # user keys; the sender's other sessions included


async def resolve_destination(ctx: RequestContext, dest_type: str, dest: str) -> Destination:
    """Check the sender may write to ``dest``: a channel member, or an existing user (DM)."""
    services, user = ctx.services, ctx.user
    if dest_type == "channel":
        return _channel_destination(await member_channel(services, dest, user))
    recipient = await services.accounts.canonical_name(dest)
    if recipient is None:
        raise RequestError(ErrorCode.NO_SUCH_USER, f"there is no user {dest}")
    # §3: a DM goes to the recipient and to every session of the sender but the one sending.
    recipients = (user_key(recipient), user_key(user))
    return Destination("user", recipient, dm_conversation(user, recipient), recipients)


def cached_destination(ctx: RequestContext, dest_type: str, dest: str) -> Destination | None:
    """``resolve_destination`` without I/O or a coroutine, for the ``MSG`` hot path: a
    channel the cache counts the sender in; else None (then ``resolve_destination``)."""
    if dest_type != "channel":
        return None
    channel = ctx.services.channels.cached_member_channel(dest, ctx.user)
    return None if channel is None else _channel_destination(channel)


def _channel_destination(channel: Channel) -> Destination:
    return Destination("channel", channel.name, channel.name, channel.member_keys())


async def post_message(
    ctx: RequestContext,
    destination: Destination,
    content: str,
    attachment: Attachment | None = None,
) -> MsgEvent:
    """Store a message, then route it; returns the event once stored and routed (an image
    message: ``MSG`` itself answers from the store's callback, see ``handle_msg``)."""
    row = await ctx.services.store.append_message(
        new_message(ctx, destination, content, attachment)
    )
    event, _ = route_stored(ctx, destination, row, None)
    return event


def new_message(
    ctx: RequestContext,
    destination: Destination,
    content: str,
    attachment: Attachment | None = None,
    cid: str | None = None,
    replied: MessageRow | None = None,
) -> NewMessage:
    """The message to store for the sender of ``ctx``, stamped now."""
    return NewMessage(
        conversation=destination.conversation,
        sender=ctx.user,
        dest_type=destination.dest_type,
        dest=destination.dest,
        content=content,
        timestamp=ctx.services.now(),
        attachment=None if attachment is None else codec.encode(attachment).decode(),
        cid=cid,
        mentioned=mentioned_recipients(content, destination.recipients),
        reply_to=None if replied is None else replied.id,
    )


def route_stored(
    ctx: RequestContext, destination: Destination, row: MessageRow, replied: MessageRow | None
) -> tuple[MsgEvent, bool]:
    """Route the message the store returned as ``row``, unless it is a duplicate (§14.4:
    routed when first stored); its event and whether it was a duplicate."""
    quoted = Decorations(quoted={replied.id: replied}) if replied is not None else None
    event = message_event(row, quoted)
    if row.duplicate:
        return event, True
    services = ctx.services
    services.counters.messages_stored += 1
    if destination.dest_type == "channel":
        # Membership may have changed while the batch committed: route to who is in now.
        channel = services.channels.get(destination.dest)
        recipients = channel.member_keys() if channel else destination.recipients
    else:
        recipients = destination.recipients
    ctx.broadcast(recipients, event)
    return event, False


def mentioned_recipients(content: str, recipients: tuple[str, ...]) -> tuple[str, ...]:
    """§14.5: the recipients (user keys) ``content`` mentions, recorded with the message.
    One scan of the content; the recipients are only walked when it names someone."""
    names = mentioned_names(content)
    return tuple(key for key in recipients if key in names) if names else ()


async def handle_msg(ctx: RequestContext, request: SendMsg) -> Later:
    """§3 MSG: ``OK`` with ``msg_id`` and ``timestamp``, after the message is committed."""
    limit = ctx.services.limits.max_content
    if len(request.content) > limit:
        raise RequestError(
            ErrorCode.TOO_LARGE,
            f"content of {len(request.content)} characters exceeds limit of {limit}",
        )
    destination = cached_destination(
        ctx, request.dest_type, request.dest
    ) or await resolve_destination(ctx, request.dest_type, request.dest)
    channel = destination.dest_type == "channel"
    state = ctx.services.moderation.cached(destination.dest) if channel else None
    if state is None or not may_post_freely(ctx, state):
        await check_may_post(ctx, destination.dest_type, destination.dest)  # §14.18-14.19
    cid = None if request.cid is msgspec.UNSET else request.cid
    replied = (
        None
        if request.reply_to is msgspec.UNSET
        else await replied_message(ctx, destination, request.reply_to)
    )
    pending = PendingReply(ctx, request)
    message = new_message(ctx, destination, request.content, cid=cid, replied=replied)
    ctx.services.store.append_message_then(
        message,
        functools.partial(_acknowledge, pending),
        functools.partial(_route, ctx, destination, replied, pending),
    )
    return Later(pending)


async def replied_message(
    ctx: RequestContext, destination: Destination, reply_to: str | msgspec.UnsetType
) -> MessageRow | None:
    """§14.9: the message ``reply_to`` names: a live one of the same conversation, else
    ``NOT_FOUND`` (the same answer whether it is elsewhere, deleted or missing)."""
    wanted = message_id(reply_to, "reply_to")
    if wanted is None:
        return None
    row = await ctx.services.store.message(wanted)
    if row is None or row.conversation != destination.conversation or row.deleted is not None:
        raise RequestError(ErrorCode.NOT_FOUND, f"no such message {wanted} to reply to here")
    return row


def _route(
    ctx: RequestContext,
    destination: Destination,
    replied: MessageRow | None,
    pending: PendingReply,
    row: MessageRow,
) -> None:
    """The store's first callback for a ``MSG``: route it, as soon as its group is
    committed, while the store flushes it to disk (§3: recipients may see the event before
    the sender sees the ``OK``). Runs on the loop, with no task per message."""
    try:
        route_stored(ctx, destination, row, replied)
    except Exception as exc:  # answered INTERNAL (and logged) like any handler's failure
        pending.fail(exc)


def _acknowledge(
    pending: PendingReply, row: MessageRow | None, error: BaseException | None
) -> None:
    """The store's last callback for a ``MSG``: ``OK`` once it is durable, or the error."""
    if pending.future.done():  # routing failed: already answered
        return
    if row is None:
        pending.fail(error or RuntimeError("stored nothing"))
        return
    # §3: "the same id and timestamp as the msg_id and timestamp of the sender's OK";
    # §14.4: a known cid answers the original's, with "duplicate": true.
    pending.ok(
        msg_id=str(row.id),
        timestamp=row.timestamp,
        duplicate=True if row.duplicate else msgspec.UNSET,
    )


async def handle_history(ctx: RequestContext, request: History) -> Ok:
    """§3 HISTORY: latest ``limit``, or ``limit`` right before/after an id; oldest first.
    §14.9: or about half before and half from ``around``."""
    destination = await resolve_destination(ctx, request.dest_type, request.dest)
    query = HistoryQuery(
        conversation=destination.conversation,
        limit=min(request.limit, ctx.services.limits.max_history),
        before=message_id(request.before, "before"),
        after=message_id(request.after, "after"),
        around=message_id(request.around, "around"),
    )
    rows = await ctx.services.store.history(query)
    events = await decorated_events(ctx, rows)
    budget = ctx.session.conn.max_plaintext - _ENVELOPE_BYTES
    if query.around is not None:
        anchor = next((i for i, row in enumerate(rows) if row.id >= query.around), len(rows))
        return ctx.ok(messages=fit_around(events, anchor, budget))
    # Paging forward (after) keeps the oldest; otherwise the newest, next to the anchor.
    return ctx.ok(messages=fit(events, budget, keep_newest=query.after is None))


async def decorated_events(ctx: RequestContext, rows: list[MessageRow]) -> list[MsgEvent]:
    """Stored messages as ``MSG`` events with their reactions and reply quotes (§14.9)."""
    decorations = await ctx.services.store.decorations(rows)
    return [message_event(row, decorations) for row in rows]


def message_event(row: MessageRow, decorations: Decorations | None = None) -> MsgEvent:
    """A stored message as the ``MSG`` event every reader gets (live and in HISTORY), with
    the §14.9-14.14 fields it has: its reply quote and reactions (from ``decorations``),
    when it was edited or deleted, and its change number."""
    found = decorations or _NO_DECORATIONS
    quoted = found.quoted.get(row.reply_to) if row.reply_to is not None else None
    reactions = found.reactions.get(row.id)
    return MsgEvent(
        id=str(row.id),
        from_=row.sender,
        dest_type=row.dest_type,  # type: ignore[arg-type]  # the store holds only valid ones
        dest=row.dest,
        content=row.content,
        timestamp=row.timestamp,
        attachment=_attachment_decoder.decode(row.attachment) if row.attachment else msgspec.UNSET,
        cid=msgspec.UNSET if row.cid is None else row.cid,
        reply_to=msgspec.UNSET if row.reply_to is None else str(row.reply_to),
        reply=msgspec.UNSET if quoted is None else reply_quote(quoted),
        edited=msgspec.UNSET if row.edited is None else row.edited,
        deleted=msgspec.UNSET if row.deleted is None else row.deleted,
        reactions=msgspec.UNSET if not reactions else reaction_list(reactions),
        rev=str(row.rev) if row.rev else msgspec.UNSET,
    )


_NO_DECORATIONS = Decorations()


def reply_quote(row: MessageRow) -> ReplyQuote:
    """§14.9: the replied message as it is now, cut to ``QUOTE_LENGTH`` code points."""
    return ReplyQuote(
        id=str(row.id),
        from_=row.sender,
        content=row.content[:QUOTE_LENGTH],
        deleted=True if row.deleted is not None else msgspec.UNSET,
    )


def reaction_list(reactions: dict[str, list[str]]) -> list[Reaction]:
    """§14.12: emoji in order of first reaction, each with its exact count and first users."""
    return [
        Reaction(emoji=emoji, count=len(users), users=users[:REACTION_USERS])
        for emoji, users in reactions.items()
    ]


def fit_around(events: list[MsgEvent], anchor: int, budget: int) -> list[MsgEvent]:
    """§14.9: the run of ``events`` around index ``anchor`` that fits ``budget`` bytes,
    growing outwards from the anchor one message a side at a time."""
    low, high, used = anchor, anchor, 0
    older = False  # the anchor itself first
    while low > 0 or high < len(events):
        take_older = (older and low > 0) or high >= len(events)
        index = low - 1 if take_older else high
        used += len(_json.encode(events[index])) + 1
        if used > budget:
            break
        if take_older:
            low -= 1
        else:
            high += 1
        older = not older
    return events[low:high]


_json = msgspec.json.Encoder()


def fit(events: list[MsgEvent], budget: int, *, keep_newest: bool) -> list[MsgEvent]:
    """The longest run of ``events`` whose JSON fits ``budget`` bytes (one ArTP message)."""
    if keep_newest:
        kept = fitting_count(reversed(events), budget)
        return events[len(events) - kept :]
    return events[: fitting_count(events, budget)]


def message_id(value: str | msgspec.UnsetType, field: str) -> int | None:
    """A message id of this node from the wire (digits), or ``INVALID`` naming ``field``."""
    if value is msgspec.UNSET:
        return None
    assert isinstance(value, str)
    if not (value.isascii() and value.isdigit()):
        raise RequestError(
            ErrorCode.INVALID, f"`{field}` {value[:64]!r} is not a message id of this node"
        )
    return min(int(value), _MAX_ID)  # SQLite integers are 64-bit; larger means "after all"


def register_messaging_handlers(table: HandlerTable) -> None:
    table.register(SendMsg, handle_msg, rate_limited=True)
    table.register(History, handle_history)
