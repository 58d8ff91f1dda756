"""Reducer handlers for ArTP/1.1 ``sync``: the outbox at start, the conversation list, read
markers. Kept apart from ``reducer`` so each module stays about one thing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from msgspec import UNSET

from aronanet.client.state.actions import ConversationsListed, OutboxRestored, ReadMarked
from aronanet.client.state.edits import append_lines, ensure_buffer, own_line, with_buffer
from aronanet.client.state.model import Buffer, ChatState, Line, Quote, buffer_key


def _on_outbox_restored(state: ChatState, action: OutboxRestored) -> ChatState:
    """Messages typed before a restart show again as pending, in their buffers, in order."""
    for message in action.messages:
        state, buffer = ensure_buffer(state, message.dest, message.dest_type)
        if f"local:{message.cid}" in buffer.ids:
            continue
        reply = Quote(message.reply_to, "", "") if message.reply_to else None
        state, line = own_line(state, message.content, message.timestamp, message.cid, reply)
        state = with_buffer(state, append_lines(state.buffers[buffer.key], [line]))
    return state


def _on_conversations(state: ChatState, action: ConversationsListed) -> ChatState:
    """§14.5: a buffer for every conversation (a DM that began offline appears), with the
    read marker and, with ``counts``, the node's unread and mention counts."""
    for info in action.conversations:
        state, buffer = ensure_buffer(state, info.dest, info.dest_type)
        read = info.read if info.read is not UNSET else buffer.read
        changes: dict[str, object] = {"read": read}
        if action.counts and buffer.key != state.active:
            # A DM is addressed to us as a whole: every unread one counts as a mention,
            # as live DMs do.
            mentions = info.unread if buffer.kind == "user" else info.mentions
            changes |= {"unread": info.unread, "highlights": mentions}
        state = with_buffer(state, dataclasses.replace(buffer, **changes))  # type: ignore[arg-type]
    return state


def _on_read_marked(state: ChatState, action: ReadMarked) -> ChatState:
    """§14.6: what follows the marker (and is not ours) is unread; the rest is read."""
    buffer = state.buffers.get(buffer_key(action.dest))
    if buffer is None:
        return state
    after = _lines_after(buffer, action.read)
    unread = [line for line in after if line.is_server_message and not _ours(state, line)]
    highlights = sum(1 for line in unread if line.highlight or buffer.kind == "user")
    changed = dataclasses.replace(
        buffer, read=action.read, unread=len(unread), highlights=highlights
    )
    return with_buffer(state, changed)


def _lines_after(buffer: Buffer, marker: str) -> tuple[Line, ...]:
    """The lines after ``marker``; none when the marker is not held (it is newer than what
    this client shows, or older than its scrollback: either way nothing held is unread)."""
    for index, line in enumerate(buffer.lines):
        if line.id == marker:
            return buffer.lines[index + 1 :]
    return ()


def _ours(state: ChatState, line: Line) -> bool:
    return state.me is not None and line.sender.casefold() == state.me.casefold()


SYNC_HANDLERS: dict[type, Callable[[ChatState, object], ChatState]] = {
    OutboxRestored: _on_outbox_restored,  # type: ignore[dict-item]
    ConversationsListed: _on_conversations,  # type: ignore[dict-item]
    ReadMarked: _on_read_marked,  # type: ignore[dict-item]
}
