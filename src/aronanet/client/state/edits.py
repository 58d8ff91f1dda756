"""Edits of buffers inside a state: the building blocks the reducer's handlers share.

Each function returns a new value and never modifies its arguments. Message merging lives
here because every path that brings messages in (live events, catch-up, scrollback) must
apply the same dedup and reconciliation rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from msgspec import UNSET

from aronanet.client.state.lifecycle import quote_of, reactions_of, stamp_of
from aronanet.client.state.model import (
    ACTION_PREFIX,
    MAX_LINES,
    STATUS_KEY,
    Buffer,
    BufferKind,
    ChatState,
    Delivery,
    Line,
    Quote,
    buffer_key,
)
from aronanet.client.state.selectors import mentions
from aronanet.proto.messages import MsgEvent


def with_buffer(state: ChatState, buffer: Buffer) -> ChatState:
    return dataclasses.replace(state, buffers={**state.buffers, buffer.key: buffer})


def ensure_buffer(state: ChatState, name: str, kind: BufferKind) -> tuple[ChatState, Buffer]:
    key = buffer_key(name)
    existing = state.buffers.get(key)
    if existing is not None:
        return state, existing
    buffer = Buffer(key=key, name=name, kind=kind)
    return with_buffer(state, buffer), buffer


def _note_line(state: ChatState, text: str, timestamp: int, error: bool) -> tuple[ChatState, Line]:
    line = Line(
        id=f"note:{state.seq}", kind="error" if error else "info", timestamp=timestamp, text=text
    )
    return dataclasses.replace(state, seq=state.seq + 1), line


def close_buffer(state: ChatState, key: str) -> ChatState:
    """Drop a buffer (never the status one); the one before it becomes active if it was."""
    if key == STATUS_KEY or key not in state.buffers:
        return state
    keys = list(state.buffers)
    position = keys.index(key)
    buffers = {name: buffer for name, buffer in state.buffers.items() if name != key}
    active = keys[position - 1] if state.active == key else state.active
    return dataclasses.replace(state, buffers=buffers, active=active)


def append_lines(buffer: Buffer, lines: Iterable[Line]) -> Buffer:
    added = tuple(lines)
    if not added:
        return buffer
    merged = buffer.lines + added
    older = buffer.older
    if len(merged) > MAX_LINES:
        merged = merged[-MAX_LINES:]
        older = "idle"  # dropped lines can be loaded again by scrolling up
    ids = buffer.ids | {line.id for line in added}
    return dataclasses.replace(buffer, lines=merged, ids=ids, older=older)


def add_note(state: ChatState, key: str, text: str, timestamp: int, error: bool) -> ChatState:
    state, line = _note_line(state, text, timestamp, error)
    return with_buffer(state, append_lines(state.buffers[key], [line]))


def _message_line(event: MsgEvent, me: str | None) -> Line:
    is_action = event.content.startswith(ACTION_PREFIX)
    text = event.content[len(ACTION_PREFIX) :] if is_action else event.content
    ours = me is not None and event.from_.casefold() == me.casefold()
    deleted = stamp_of(event.deleted)
    return Line(
        id=event.id,
        kind="action" if is_action else "message",
        timestamp=event.timestamp,
        sender=event.from_,
        text=text,
        highlight=not ours and not deleted and mentions(event.content, me),
        attachment=None if event.attachment is UNSET or deleted else event.attachment,
        cid=event.cid if isinstance(event.cid, str) else "",
        reply=quote_of(event),
        edited=stamp_of(event.edited),
        deleted=deleted,
        reactions=reactions_of(event),
    )


def _message_buffer_name(event: MsgEvent, me: str | None) -> tuple[str, BufferKind]:
    """§3: a DM has ``dest`` = recipient, ``from`` = sender for both parties."""
    if event.dest_type == "channel":
        return event.dest, "channel"
    ours = me is not None and event.from_.casefold() == me.casefold()
    return (event.dest if ours else event.from_), "user"


def _reconcile_own(buffer: Buffer, line: Line) -> Buffer | None:
    """Replace our unconfirmed line with the node's copy of it, if we hold one.

    The node's copy can arrive before our ``OK`` (catch-up after a reconnect that cut the
    reply), and must then take the place of the pending line rather than duplicate it.
    ArTP/1.1 §14.4: with a ``cid`` the match is exact (two "ok"s stay two); a 1.0 node sends
    none, and only then is the text compared.
    """
    for index, own in enumerate(buffer.lines):
        if own.delivery is not Delivery.SENT and _same_message(own, line):
            lines = (*buffer.lines[:index], line, *buffer.lines[index + 1 :])
            return dataclasses.replace(buffer, lines=lines, ids=buffer.ids | {line.id})
    return None


#: How far back a resent message's earlier copy is looked for (``_without_earlier_copy``).
RESENT_WITHIN_LINES = 200


def _without_earlier_copy(buffer: Buffer, line: Line) -> Buffer:
    """§3: a message seen just before its node lost power comes back under a new id (its
    sender's client sends it again, with the same ``cid``); the copy with the old id goes.
    Only the recent lines are looked at: the resend follows within moments."""
    lines = buffer.lines
    recent = len(lines) - RESENT_WITHIN_LINES
    for index in range(len(lines) - 1, max(recent, 0) - 1, -1):
        held = lines[index]
        if (
            held.cid == line.cid
            and held.id != line.id
            and held.delivery is Delivery.SENT
            and held.sender.casefold() == line.sender.casefold()
        ):
            kept = (*lines[:index], *lines[index + 1 :])
            return dataclasses.replace(buffer, lines=kept, ids=buffer.ids - {held.id})
    return buffer


def _same_message(own: Line, line: Line) -> bool:
    if own.cid and line.cid:
        return own.cid == line.cid
    return (
        own.kind == line.kind
        and own.text == line.text
        and own.sender.casefold() == line.sender.casefold()
    )


def own_line(
    state: ChatState, content: str, timestamp: int, cid: str, reply: Quote | None = None
) -> tuple[ChatState, Line]:
    """Our message as typed, waiting for the node: ``local:<cid>`` (or ``local:<seq>``)."""
    is_action = content.startswith(ACTION_PREFIX)
    line = Line(
        id=f"local:{cid or state.seq}",
        kind="action" if is_action else "message",
        timestamp=timestamp,
        sender=state.me or "",
        text=content[len(ACTION_PREFIX) :] if is_action else content,
        delivery=Delivery.QUEUED,
        cid=cid,
        reply=reply,
    )
    return dataclasses.replace(state, seq=state.seq + 1), line


def merge_messages(
    state: ChatState,
    events: Iterable[MsgEvent],
    *,
    count_unread: bool,
    place: Callable[[Buffer, list[Line]], Buffer] | None = None,
) -> ChatState:
    """Add messages to their buffers, skipping ids already held (dedup); a held one takes
    the state the node sent (its text may have been edited since)."""
    grouped: dict[str, list[Line]] = {}
    batch_ids: set[tuple[str, str]] = set()
    revs: dict[str, int] = {}
    for event in events:
        if event.dest_type == "channel" and event.from_.casefold() in state.blocked:
            continue  # §14.19: a blocked user's channel messages are hidden here
        name, kind = _message_buffer_name(event, state.me)
        state, buffer = ensure_buffer(state, name, kind)
        if isinstance(event.rev, str) and event.rev.isdigit():
            revs[buffer.key] = max(revs.get(buffer.key, 0), int(event.rev))
        line = _message_line(event, state.me)
        if line.id in buffer.ids:
            state = _refresh_held(state, buffer, line)
            continue
        if (buffer.key, line.id) in batch_ids:
            continue
        ours = state.me is not None and line.sender.casefold() == state.me.casefold()
        if ours:
            reconciled = _reconcile_own(buffer, line)
            if reconciled is not None:
                state = with_buffer(state, reconciled)
                continue
        if line.cid:
            buffer = _without_earlier_copy(buffer, line)
            state = with_buffer(state, buffer)
        grouped.setdefault(buffer.key, []).append(line)
        batch_ids.add((buffer.key, line.id))
        if count_unread and not ours and buffer.key != state.active:
            highlight = line.highlight or buffer.kind == "user"
            buffer = dataclasses.replace(
                buffer, unread=buffer.unread + 1, highlights=buffer.highlights + int(highlight)
            )
            state = with_buffer(state, buffer)
    for key, lines in grouped.items():
        buffer = state.buffers[key]
        state = with_buffer(state, place(buffer, lines) if place else append_lines(buffer, lines))
    return _seen_revs(state, revs)


def _seen_revs(state: ChatState, revs: dict[str, int]) -> ChatState:
    """§14.14: remember the newest change number seen per buffer (CHANGES asks after it)."""
    for key, rev in revs.items():
        buffer = state.buffers[key]
        if buffer.rev is None or int(buffer.rev) < rev:
            state = with_buffer(state, dataclasses.replace(buffer, rev=str(rev)))
    return state


def refresh_held(state: ChatState, events: Iterable[MsgEvent]) -> ChatState:
    """§14.14 ``CHANGES``: the held messages take their current state; messages not held
    are left out (an old message edited is no reason to load it), revs are remembered."""
    revs: dict[str, int] = {}
    for event in events:
        name, _ = _message_buffer_name(event, state.me)
        buffer = state.buffers.get(buffer_key(name))
        if buffer is None:
            continue
        if isinstance(event.rev, str) and event.rev.isdigit():
            revs[buffer.key] = max(revs.get(buffer.key, 0), int(event.rev))
        if event.id in buffer.ids:
            state = _refresh_held(state, buffer, _message_line(event, state.me))
    return _seen_revs(state, revs)


def _refresh_held(state: ChatState, buffer: Buffer, fresh: Line) -> ChatState:
    """A page brought a message we hold: take its current text, quote, edit, delete and
    reactions (§14.10-14.12: HISTORY returns the current state), keep the rest of ours."""
    for index, held in enumerate(buffer.lines):
        if held.id == fresh.id:
            current = dataclasses.replace(
                held,
                kind=fresh.kind,
                text=fresh.text,
                attachment=fresh.attachment,
                reply=fresh.reply or held.reply,
                edited=fresh.edited,
                deleted=fresh.deleted,
                reactions=fresh.reactions,
            )
            if current == held:
                return state
            lines = (*buffer.lines[:index], current, *buffer.lines[index + 1 :])
            return with_buffer(state, dataclasses.replace(buffer, lines=lines))
    return state


def prepend_lines(buffer: Buffer, lines: list[Line]) -> Buffer:
    merged = tuple(lines) + buffer.lines
    ids = buffer.ids | {line.id for line in lines}
    return dataclasses.replace(buffer, lines=merged, ids=ids)


def insert_after_anchor(anchor: str | None) -> Callable[[Buffer, list[Line]], Buffer]:
    """Place lines after ``anchor`` (or from the start) in time order among the lines there.

    Catch-up messages then sit between the last message seen and the notes written while
    the link was down, exactly where they happened.
    """

    def place(buffer: Buffer, lines: list[Line]) -> Buffer:
        existing = list(buffer.lines)
        cursor = 0
        if anchor is not None:
            cursor = next(
                (i + 1 for i, line in enumerate(existing) if line.id == anchor), len(existing)
            )
        for line in lines:
            while cursor < len(existing) and existing[cursor].timestamp <= line.timestamp:
                cursor += 1
            existing.insert(cursor, line)
            cursor += 1
        ids = buffer.ids | {line.id for line in lines}
        return dataclasses.replace(buffer, lines=tuple(existing), ids=ids)

    return place


def update_line(state: ChatState, line_id: str, change: Callable[[Line], Line]) -> ChatState:
    for buffer in state.buffers.values():
        for index, line in enumerate(buffer.lines):
            if line.id == line_id:
                new = change(line)
                lines = (*buffer.lines[:index], new, *buffer.lines[index + 1 :])
                ids = (buffer.ids - {line_id}) | {new.id}
                return with_buffer(state, dataclasses.replace(buffer, lines=lines, ids=ids))
    return state


def set_members(state: ChatState, channel: str, change: Callable[[set[str]], None]) -> ChatState:
    buffer = state.buffers.get(buffer_key(channel))
    if buffer is None:
        return state
    members = set(buffer.members)
    change(members)
    ordered = tuple(sorted(members, key=str.casefold))
    return with_buffer(state, dataclasses.replace(buffer, members=ordered))
