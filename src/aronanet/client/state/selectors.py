"""Questions the UI and the session ask of the state; pure functions of it."""

from __future__ import annotations

from aronanet.client.state.model import Buffer, ChatState, Delivery, Line
from aronanet.proto.mentions import mentions as proto_mentions
from aronanet.proto.messages import Attachment


def queued_outgoing(state: ChatState) -> list[tuple[Buffer, Line]]:
    """Our lines waiting for the link, in the order they were typed (across buffers too: a
    burst that switches buffers between lines goes out as it was typed); the caller sends
    them."""
    waiting = [
        (buffer, line)
        for buffer in state.buffers.values()
        for line in buffer.lines
        if line.delivery is Delivery.QUEUED
    ]
    return sorted(waiting, key=lambda pair: _typed_order(pair[1]))


def _typed_order(line: Line) -> int:
    """Our line's place in typing order: the reducer numbers them ``local:N`` as queued."""
    _, _, number = line.id.partition(":")
    return int(number) if number.isdigit() else 0


def first_message_id(buffer: Buffer) -> str | None:
    """The anchor for ``HISTORY before``: the oldest stored message we hold."""
    return next((line.id for line in buffer.lines if line.is_server_message), None)


def last_message_id(buffer: Buffer) -> str | None:
    """The anchor for catch-up ``HISTORY after``: the newest stored message we hold."""
    return next((line.id for line in reversed(buffer.lines) if line.is_server_message), None)


def mentions(content: str, user: str | None) -> bool:
    """True when ``content`` mentions ``user``: the ArTP/1.1 §14.5 rule the node counts
    mentions with (``@name``, or ``name:`` / ``name,`` first), so the highlights counted
    live here agree with the counts ``CONVERSATIONS`` reports on every device."""
    return bool(user) and proto_mentions(content, user or "")


def failed_lines(buffer: Buffer) -> list[Line]:
    """Our lines in ``buffer`` the node refused or never confirmed: what ``/retry`` resends."""
    return [line for line in buffer.lines if line.delivery is Delivery.FAILED]


def latest_attachment(buffer: Buffer) -> Attachment | None:
    """The newest image in ``buffer``: what ``/open`` and ``/save`` act on."""
    return next(
        (line.attachment for line in reversed(buffer.lines) if line.attachment is not None), None
    )


def unread_marker_behind(buffer: Buffer) -> str | None:
    """ArTP/1.1 §14.6: the newest message id when the node's read marker is behind it (the
    ``up_to`` of the ``READ`` to send once the buffer is seen at its bottom), else None."""
    newest = last_message_id(buffer)
    return newest if newest is not None and newest != buffer.read else None


#: The sidebar's sections, in order: Arona's corner, then channels, then conversations.
SIDEBAR_SECTIONS = ("status", "channel", "user")


def sidebar_order(state: ChatState) -> list[Buffer]:
    """The buffers as the sidebar lists and numbers them (Alt+N jumps to the N-th; Ctrl+N
    walks this order): by section, then in the order they were opened."""
    return [
        buffer
        for kind in SIDEBAR_SECTIONS
        for buffer in state.buffers.values()
        if buffer.kind == kind
    ]


def neighbour(state: ChatState, step: int) -> str:
    """The key of the buffer ``step`` places after the active one in sidebar order, wrapping."""
    keys = [buffer.key for buffer in sidebar_order(state)]
    index = keys.index(state.active) if state.active in keys else 0
    return keys[(index + step) % len(keys)]


def last_own_message(buffer: Buffer, me: str | None) -> Line | None:
    """Our newest stored, not deleted message here: what Up on an empty line edits (§14.10)."""
    if not me:
        return None
    folded = me.casefold()
    return next(
        (
            line
            for line in reversed(buffer.lines)
            if line.is_server_message and not line.deleted and line.sender.casefold() == folded
        ),
        None,
    )


def newest_message(buffer: Buffer) -> Line | None:
    """The newest stored, not deleted message here (anyone's): what ``/react`` acts on."""
    return next(
        (line for line in reversed(buffer.lines) if line.is_server_message and not line.deleted),
        None,
    )
