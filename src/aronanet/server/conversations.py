"""Conversations and read markers (ArTP/1.1 §14.5, §14.6).

``CONVERSATIONS`` lists every joined channel and every DM peer of the user (the store keeps
DM peers as DMs are stored, so ones that began while the user was offline are there), with
the newest message, the read marker, and unread/mention counts read from indexes. A reply
holds at most ``conversations_page`` of them and never more than fits one frame; ``next``
is then the cursor to ask with for the rest, in the stable order dest_type, then name.

``READ`` moves a marker forward only; when it moved, the user's OTHER sessions with ``sync``
get a ``READ`` event, through the broker so that sessions on other nodes get it too.
"""

from __future__ import annotations

from msgspec import UNSET

from aronanet.errors import ErrorCode, RequestError
from aronanet.proto import codec
from aronanet.proto.features import SYNC
from aronanet.proto.messages import ConversationInfo, Conversations, MarkRead, Ok, ReadEvent
from aronanet.server.broker.base import Delivery
from aronanet.server.handlers import HandlerTable, RequestContext, fitting_count
from aronanet.server.messaging import message_id, resolve_destination
from aronanet.server.store.rows import ConversationQuery, ConversationRow, user_key

_DEST_TYPES = ("channel", "user")
#: "channel:" and a 33-character channel name: no cursor is longer (user keys are 32).
_LONGEST_CURSOR = "channel:#" + "x" * 32


async def handle_conversations(ctx: RequestContext, request: Conversations) -> Ok:
    """§14.5 CONVERSATIONS ``{cursor?}`` -> ``conversations`` and, if there is more, ``next``."""
    page = ctx.services.limits.conversations_page
    rows = await ctx.services.store.conversations(
        ConversationQuery(user=ctx.user, limit=page + 1, after=_after(request.cursor))
    )
    # The envelope is measured with the longest cursor there can be, so `next` always fits.
    envelope = len(codec.encode(ctx.ok(conversations=[], next=_LONGEST_CURSOR)))
    listed = [_info(row) for row in rows[:page]]
    kept = fitting_count(listed, ctx.session.conn.max_plaintext - envelope)
    more = kept < len(rows)
    return ctx.ok(
        conversations=listed[:kept],
        next=_cursor(rows[kept - 1]) if more and kept else UNSET,
    )


def _info(row: ConversationRow) -> ConversationInfo:
    return ConversationInfo(
        dest_type=row.dest_type,  # type: ignore[arg-type]  # the store holds only valid ones
        dest=row.dest,
        last_id=UNSET if row.last_id is None else str(row.last_id),
        last_timestamp=UNSET if row.last_timestamp is None else row.last_timestamp,
        unread=row.unread,
        mentions=row.mentions,
        read=UNSET if row.read is None else str(row.read),
        rev=UNSET if row.rev is None else str(row.rev),
    )


def _cursor(row: ConversationRow) -> str:
    """The position after ``row``: its dest_type and sort key (opaque to clients)."""
    return f"{row.dest_type}:{row.sort_key}"


def _after(cursor: str | object) -> tuple[str, str] | None:
    if not isinstance(cursor, str):
        return None
    dest_type, _, key = cursor.partition(":")
    if dest_type not in _DEST_TYPES or not key:
        raise RequestError(ErrorCode.INVALID, f"cursor {cursor[:64]!r} was not given by this node")
    return dest_type, key


async def handle_read(ctx: RequestContext, request: MarkRead) -> Ok:
    """§14.6 READ: the marker moves forward only (a lower ``up_to`` is a no-op); the user's
    other ``sync`` sessions hear of a move, on every node."""
    services, user = ctx.services, ctx.user
    destination = await resolve_destination(ctx, request.dest_type, request.dest)
    up_to = message_id(request.up_to, "up_to")
    assert up_to is not None  # up_to is a required field
    marker, moved = await services.store.mark_read(user, destination.conversation, up_to)
    read = str(marker)
    if moved:
        event = ReadEvent(
            dest_type=destination.dest_type,  # type: ignore[arg-type]  # "channel" or "user"
            dest=destination.dest,
            read=read,
            id=services.ids.next(),
            timestamp=services.now(),
        )
        services.router.publish(
            Delivery((user_key(user),), codec.encode(event), ctx.session.id, feature=SYNC)
        )
    return ctx.ok(dest_type=destination.dest_type, dest=destination.dest, read=read)


def register_conversation_handlers(table: HandlerTable) -> None:
    table.register(Conversations, handle_conversations)
    table.register(MarkRead, handle_read)
