"""The chat client's state as one immutable value, and the pure reducer that evolves it.

Every user interface (the terminal client today) keeps its state here and only renders it:
``reduce(state, action)`` returns a new ``ChatState`` and never performs I/O, reads a clock
or touches Textual. Effects (sending, loading history, reconnecting) are decided by the
caller, who reads selectors such as ``queued_outgoing`` and reports outcomes back as actions.

Invariants the reducer keeps, whatever order actions arrive in:

* a server message id appears at most once per buffer (dedup across live events, catch-up
  ``HISTORY after`` and scrollback ``HISTORY before``), so reconnects leave no duplicates;
* our own unconfirmed lines are reconciled with the node's copy when it arrives first;
* unread and highlight counts only grow for buffers the user is not looking at.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeAlias

from msgspec import UNSET

from aronanet.proto.messages import Attachment, JoinEvent, MsgEvent, PartEvent, TopicEvent

#: The key of the status buffer, where Arona talks to the user. ``*`` is never in a name.
STATUS_KEY = "*arona*"
#: Lines kept per buffer; the oldest are dropped beyond it and can be loaded again.
MAX_LINES = 20_000
#: ``/me`` is sent as ordinary content with this prefix, readable by every client.
ACTION_PREFIX = "/me "
#: §3 user name alphabet, used to find whole-word mentions of our name.
_NAME_CHARS = "A-Za-z0-9_-"

BufferKind: TypeAlias = Literal["status", "channel", "user"]
LineKind: TypeAlias = Literal["message", "action", "join", "part", "topic", "info", "error"]
OlderState: TypeAlias = Literal["idle", "loading", "complete"]


class Delivery(StrEnum):
    """Where one of our own messages stands; ``SENT`` for everything the node confirmed."""

    QUEUED = "queued"  # typed, waiting for the link
    SENDING = "sending"  # MSG written, OK not yet received
    SENT = "sent"
    FAILED = "failed"


class LinkStatus(StrEnum):
    """The connection as the user sees it in the status bar."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    WAITING = "waiting"  # disconnected, a retry is scheduled


@dataclass(frozen=True, slots=True)
class Link:
    status: LinkStatus = LinkStatus.OFFLINE
    attempt: int = 0
    retry_in: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """One rendered line of a buffer: a message, an event, or a note from Arona."""

    id: str  # a server id, or "local:N" (our unconfirmed message) or "note:N"
    kind: LineKind
    timestamp: int
    sender: str = ""
    text: str = ""
    highlight: bool = False
    delivery: Delivery = Delivery.SENT
    attachment: Attachment | None = None
    failure: str = ""

    @property
    def is_server_message(self) -> bool:
        """True for a message the node stored: a valid anchor for ``HISTORY before/after``."""
        return self.kind in ("message", "action") and self.delivery is Delivery.SENT


@dataclass(frozen=True, slots=True)
class Buffer:
    key: str
    name: str
    kind: BufferKind
    lines: tuple[Line, ...] = ()
    ids: frozenset[str] = frozenset()
    unread: int = 0
    highlights: int = 0
    topic: str = ""
    members: tuple[str, ...] = ()
    older: OlderState = "idle"


@dataclass(frozen=True, slots=True)
class ChatState:
    me: str | None = None
    node: str = ""
    address: str = ""
    fingerprint: str = ""
    link: Link = Link()
    buffers: Mapping[str, Buffer] = field(
        default_factory=lambda: {STATUS_KEY: Buffer(STATUS_KEY, "Arona", "status")}
    )
    active: str = STATUS_KEY
    seq: int = 0  # source of local ids; increases with every local line

    @property
    def current(self) -> Buffer:
        return self.buffers[self.active]


def buffer_key(name: str) -> str:
    """Buffers are keyed case-insensitively: §3 user names are unique ignoring case."""
    return name.casefold()


# ------------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class LinkConnecting:
    address: str
    attempt: int


@dataclass(frozen=True, slots=True)
class LinkUp:
    node: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class LinkDown:
    reason: str
    retry_in: float | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class LoggedIn:
    user: str
    channels: tuple[str, ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class ChannelJoined:
    channel: str
    topic: str
    members: tuple[str, ...]
    timestamp: int
    activate: bool = False


@dataclass(frozen=True, slots=True)
class ChannelLeft:
    channel: str


@dataclass(frozen=True, slots=True)
class EventsReceived:
    """Live server events, batched per frame so a busy channel costs one render."""

    events: tuple[MsgEvent | JoinEvent | PartEvent | TopicEvent, ...]


@dataclass(frozen=True, slots=True)
class OlderRequested:
    key: str


@dataclass(frozen=True, slots=True)
class HistoryLoaded:
    """A ``HISTORY`` reply: ``before`` (scrollback), ``after`` (catch-up) or neither (latest)."""

    key: str
    messages: tuple[MsgEvent, ...]
    limit: int
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryFailed:
    key: str


@dataclass(frozen=True, slots=True)
class Activated:
    key: str


@dataclass(frozen=True, slots=True)
class QueryOpened:
    user: str


@dataclass(frozen=True, slots=True)
class BufferClosed:
    key: str


@dataclass(frozen=True, slots=True)
class Cleared:
    key: str


@dataclass(frozen=True, slots=True)
class MessageQueued:
    key: str
    content: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class SendStarted:
    line_id: str


@dataclass(frozen=True, slots=True)
class SendConfirmed:
    line_id: str
    msg_id: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class SendFailed:
    line_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Noted:
    """A line from Arona: in ``key``'s buffer, or the active one when ``key`` is None."""

    text: str
    timestamp: int
    key: str | None = None
    error: bool = False


@dataclass(frozen=True, slots=True)
class TopicChanged:
    channel: str
    topic: str


Action: TypeAlias = (
    LinkConnecting
    | LinkUp
    | LinkDown
    | LoggedIn
    | ChannelJoined
    | ChannelLeft
    | EventsReceived
    | OlderRequested
    | HistoryLoaded
    | HistoryFailed
    | Activated
    | QueryOpened
    | BufferClosed
    | Cleared
    | MessageQueued
    | SendStarted
    | SendConfirmed
    | SendFailed
    | Noted
    | TopicChanged
)


# ----------------------------------------------------------------------------- selectors


def queued_outgoing(state: ChatState) -> list[tuple[Buffer, Line]]:
    """Our lines waiting for the link, oldest first per buffer: the caller sends them."""
    return [
        (buffer, line)
        for buffer in state.buffers.values()
        for line in buffer.lines
        if line.delivery is Delivery.QUEUED
    ]


def first_message_id(buffer: Buffer) -> str | None:
    """The anchor for ``HISTORY before``: the oldest stored message we hold."""
    return next((line.id for line in buffer.lines if line.is_server_message), None)


def last_message_id(buffer: Buffer) -> str | None:
    """The anchor for catch-up ``HISTORY after``: the newest stored message we hold."""
    return next((line.id for line in reversed(buffer.lines) if line.is_server_message), None)


def mentions(content: str, user: str | None) -> bool:
    """True when ``content`` names ``user`` as a whole word, ignoring case."""
    if not user:
        return False
    pattern = rf"(?<![{_NAME_CHARS}]){re.escape(user)}(?![{_NAME_CHARS}])"
    return re.search(pattern, content, re.IGNORECASE) is not None


# ------------------------------------------------------------------------------- helpers


def _with_buffer(state: ChatState, buffer: Buffer) -> ChatState:
    return dataclasses.replace(state, buffers={**state.buffers, buffer.key: buffer})


def _ensure_buffer(state: ChatState, name: str, kind: BufferKind) -> tuple[ChatState, Buffer]:
    key = buffer_key(name)
    existing = state.buffers.get(key)
    if existing is not None:
        return state, existing
    buffer = Buffer(key=key, name=name, kind=kind)
    return _with_buffer(state, buffer), buffer


def _note_line(state: ChatState, text: str, timestamp: int, error: bool) -> tuple[ChatState, Line]:
    line = Line(
        id=f"note:{state.seq}", kind="error" if error else "info", timestamp=timestamp, text=text
    )
    return dataclasses.replace(state, seq=state.seq + 1), line


def _append(buffer: Buffer, lines: Iterable[Line]) -> Buffer:
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


def _add_note(state: ChatState, key: str, text: str, timestamp: int, error: bool) -> ChatState:
    state, line = _note_line(state, text, timestamp, error)
    return _with_buffer(state, _append(state.buffers[key], [line]))


def _message_line(event: MsgEvent, me: str | None) -> Line:
    is_action = event.content.startswith(ACTION_PREFIX)
    text = event.content[len(ACTION_PREFIX) :] if is_action else event.content
    ours = me is not None and event.from_.casefold() == me.casefold()
    return Line(
        id=event.id,
        kind="action" if is_action else "message",
        timestamp=event.timestamp,
        sender=event.from_,
        text=text,
        highlight=not ours and mentions(event.content, me),
        attachment=None if event.attachment is UNSET else event.attachment,
    )


def _message_buffer_name(event: MsgEvent, me: str | None) -> tuple[str, BufferKind]:
    """§3: a DM has ``dest`` = recipient, ``from`` = sender for both parties."""
    if event.dest_type == "channel":
        return event.dest, "channel"
    ours = me is not None and event.from_.casefold() == me.casefold()
    return (event.dest if ours else event.from_), "user"


def _reconcile_own(buffer: Buffer, line: Line) -> Buffer | None:
    """Replace our unconfirmed line carrying the same text with the node's copy, if any.

    The node's copy can arrive before our ``OK`` (catch-up after a reconnect that cut the
    reply), and must then take the place of the pending line rather than duplicate it.
    """
    for index, own in enumerate(buffer.lines):
        if (
            own.delivery is not Delivery.SENT
            and own.kind == line.kind
            and own.text == line.text
            and own.sender.casefold() == line.sender.casefold()
        ):
            lines = (*buffer.lines[:index], line, *buffer.lines[index + 1 :])
            return dataclasses.replace(buffer, lines=lines, ids=buffer.ids | {line.id})
    return None


def _merge_messages(
    state: ChatState,
    events: Iterable[MsgEvent],
    *,
    count_unread: bool,
    place: Callable[[Buffer, list[Line]], Buffer] | None = None,
) -> ChatState:
    """Add messages to their buffers, skipping ids already held (dedup)."""
    grouped: dict[str, list[Line]] = {}
    batch_ids: set[tuple[str, str]] = set()
    for event in events:
        name, kind = _message_buffer_name(event, state.me)
        state, buffer = _ensure_buffer(state, name, kind)
        line = _message_line(event, state.me)
        if line.id in buffer.ids or (buffer.key, line.id) in batch_ids:
            continue
        ours = state.me is not None and line.sender.casefold() == state.me.casefold()
        if ours:
            reconciled = _reconcile_own(buffer, line)
            if reconciled is not None:
                state = _with_buffer(state, reconciled)
                continue
        grouped.setdefault(buffer.key, []).append(line)
        batch_ids.add((buffer.key, line.id))
        if count_unread and not ours and buffer.key != state.active:
            highlight = line.highlight or buffer.kind == "user"
            buffer = dataclasses.replace(
                buffer, unread=buffer.unread + 1, highlights=buffer.highlights + int(highlight)
            )
            state = _with_buffer(state, buffer)
    for key, lines in grouped.items():
        buffer = state.buffers[key]
        state = _with_buffer(state, place(buffer, lines) if place else _append(buffer, lines))
    return state


def _prepend(buffer: Buffer, lines: list[Line]) -> Buffer:
    merged = tuple(lines) + buffer.lines
    ids = buffer.ids | {line.id for line in lines}
    return dataclasses.replace(buffer, lines=merged, ids=ids)


def _insert_after_anchor(anchor: str | None) -> Callable[[Buffer, list[Line]], Buffer]:
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


def _update_line(state: ChatState, line_id: str, change: Callable[[Line], Line]) -> ChatState:
    for buffer in state.buffers.values():
        for index, line in enumerate(buffer.lines):
            if line.id == line_id:
                new = change(line)
                lines = (*buffer.lines[:index], new, *buffer.lines[index + 1 :])
                ids = (buffer.ids - {line_id}) | {new.id}
                return _with_buffer(state, dataclasses.replace(buffer, lines=lines, ids=ids))
    return state


def _set_members(state: ChatState, channel: str, change: Callable[[set[str]], None]) -> ChatState:
    buffer = state.buffers.get(buffer_key(channel))
    if buffer is None:
        return state
    members = set(buffer.members)
    change(members)
    ordered = tuple(sorted(members, key=str.casefold))
    return _with_buffer(state, dataclasses.replace(buffer, members=ordered))


# ------------------------------------------------------------------------------ handlers


def _on_connecting(state: ChatState, action: LinkConnecting) -> ChatState:
    link = Link(LinkStatus.CONNECTING, attempt=action.attempt)
    return dataclasses.replace(state, address=action.address, link=link)


def _on_link_up(state: ChatState, action: LinkUp) -> ChatState:
    return dataclasses.replace(
        state, node=action.node, fingerprint=action.fingerprint, link=Link(LinkStatus.ONLINE)
    )


def _on_link_down(state: ChatState, action: LinkDown) -> ChatState:
    """In-flight messages may or may not have been stored: say so, never resend blindly."""
    status = LinkStatus.OFFLINE if action.retry_in is None else LinkStatus.WAITING
    state = dataclasses.replace(
        state,
        link=Link(status, state.link.attempt, action.retry_in, action.reason),
    )
    for buffer in list(state.buffers.values()):
        for line in buffer.lines:
            if line.delivery is Delivery.SENDING:
                state = _update_line(
                    state,
                    line.id,
                    lambda old: dataclasses.replace(
                        old,
                        delivery=Delivery.FAILED,
                        failure="the link dropped before the node confirmed it",
                    ),
                )
    return state


def _on_logged_in(state: ChatState, action: LoggedIn) -> ChatState:
    state = dataclasses.replace(state, me=action.user)
    for channel in action.channels:
        state, _ = _ensure_buffer(state, channel, "channel")
    return state


def _on_joined(state: ChatState, action: ChannelJoined) -> ChatState:
    state, buffer = _ensure_buffer(state, action.channel, "channel")
    members = tuple(sorted(set(action.members), key=str.casefold))
    state = _with_buffer(state, dataclasses.replace(buffer, topic=action.topic, members=members))
    if action.activate:
        state = _on_activated(state, Activated(buffer.key))
    return state


def _on_left(state: ChatState, action: ChannelLeft) -> ChatState:
    return _on_closed(state, BufferClosed(buffer_key(action.channel)))


def _on_events(state: ChatState, action: EventsReceived) -> ChatState:
    messages: list[MsgEvent] = []
    for event in action.events:
        if isinstance(event, MsgEvent):
            messages.append(event)
            continue
        state = _merge_messages(state, messages, count_unread=True)
        messages = []
        state = _on_channel_event(state, event)
    return _merge_messages(state, messages, count_unread=True)


def _on_channel_event(state: ChatState, event: JoinEvent | PartEvent | TopicEvent) -> ChatState:
    key = buffer_key(event.channel)
    ours = state.me is not None and event.from_.casefold() == state.me.casefold()
    if isinstance(event, PartEvent) and ours:
        return _on_closed(state, BufferClosed(key))  # §3: our other session left
    state, buffer = _ensure_buffer(state, event.channel, "channel")
    if event.id in buffer.ids:
        return state
    if isinstance(event, JoinEvent):
        state = _set_members(state, event.channel, lambda m: m.add(event.from_))
        line = Line(event.id, "join", event.timestamp, event.from_)
    elif isinstance(event, PartEvent):
        state = _set_members(state, event.channel, lambda m: m.discard(event.from_))
        line = Line(event.id, "part", event.timestamp, event.from_)
    else:
        state = _on_topic(state, TopicChanged(event.channel, event.topic))
        line = Line(event.id, "topic", event.timestamp, event.from_, event.topic)
    return _with_buffer(state, _append(state.buffers[key], [line]))


def _on_older_requested(state: ChatState, action: OlderRequested) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None or buffer.older != "idle":
        return state
    return _with_buffer(state, dataclasses.replace(buffer, older="loading"))


def _on_history(state: ChatState, action: HistoryLoaded) -> ChatState:
    if action.key not in state.buffers:
        return state
    if action.before is not None:
        state = _merge_messages(state, action.messages, count_unread=False, place=_prepend)
        complete = len(action.messages) < action.limit
        buffer = state.buffers[action.key]
        return _with_buffer(
            state, dataclasses.replace(buffer, older="complete" if complete else "idle")
        )
    if action.after is not None:
        return _merge_messages(
            state, action.messages, count_unread=True, place=_insert_after_anchor(action.after)
        )
    state = _merge_messages(
        state, action.messages, count_unread=False, place=_insert_after_anchor(None)
    )
    if len(action.messages) < action.limit:
        buffer = state.buffers[action.key]
        state = _with_buffer(state, dataclasses.replace(buffer, older="complete"))
    return state


def _on_history_failed(state: ChatState, action: HistoryFailed) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None or buffer.older != "loading":
        return state
    return _with_buffer(state, dataclasses.replace(buffer, older="idle"))


def _on_activated(state: ChatState, action: Activated) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None:
        return state
    seen = dataclasses.replace(buffer, unread=0, highlights=0)
    return dataclasses.replace(_with_buffer(state, seen), active=action.key)


def _on_query(state: ChatState, action: QueryOpened) -> ChatState:
    state, buffer = _ensure_buffer(state, action.user, "user")
    return _on_activated(state, Activated(buffer.key))


def _on_closed(state: ChatState, action: BufferClosed) -> ChatState:
    if action.key == STATUS_KEY or action.key not in state.buffers:
        return state
    keys = list(state.buffers)
    position = keys.index(action.key)
    buffers = {key: buffer for key, buffer in state.buffers.items() if key != action.key}
    active = state.active
    if active == action.key:
        active = keys[position - 1]
    return dataclasses.replace(state, buffers=buffers, active=active)


def _on_cleared(state: ChatState, action: Cleared) -> ChatState:
    """``/clear`` empties the view; ids stay known so a reload cannot duplicate lines."""
    buffer = state.buffers.get(action.key)
    if buffer is None:
        return state
    kept = tuple(line for line in buffer.lines if line.delivery is not Delivery.SENT)
    return _with_buffer(state, dataclasses.replace(buffer, lines=kept, older="complete"))


def _on_queued(state: ChatState, action: MessageQueued) -> ChatState:
    buffer = state.buffers[action.key]
    is_action = action.content.startswith(ACTION_PREFIX)
    line = Line(
        id=f"local:{state.seq}",
        kind="action" if is_action else "message",
        timestamp=action.timestamp,
        sender=state.me or "",
        text=action.content[len(ACTION_PREFIX) :] if is_action else action.content,
        delivery=Delivery.QUEUED,
    )
    state = dataclasses.replace(state, seq=state.seq + 1)
    return _with_buffer(state, _append(buffer, [line]))


def _on_send_started(state: ChatState, action: SendStarted) -> ChatState:
    return _update_line(
        state, action.line_id, lambda line: dataclasses.replace(line, delivery=Delivery.SENDING)
    )


def _on_confirmed(state: ChatState, action: SendConfirmed) -> ChatState:
    """§3: the live/HISTORY copy has the OK's ``msg_id``; if we already hold it, drop ours."""
    for buffer in state.buffers.values():
        if action.msg_id in buffer.ids and any(x.id == action.line_id for x in buffer.lines):
            lines = tuple(x for x in buffer.lines if x.id != action.line_id)
            return _with_buffer(state, dataclasses.replace(buffer, lines=lines))
    return _update_line(
        state,
        action.line_id,
        lambda line: dataclasses.replace(
            line, id=action.msg_id, timestamp=action.timestamp, delivery=Delivery.SENT, failure=""
        ),
    )


def _on_send_failed(state: ChatState, action: SendFailed) -> ChatState:
    return _update_line(
        state,
        action.line_id,
        lambda line: dataclasses.replace(line, delivery=Delivery.FAILED, failure=action.reason),
    )


def _on_noted(state: ChatState, action: Noted) -> ChatState:
    key = action.key if action.key is not None and action.key in state.buffers else state.active
    return _add_note(state, key, action.text, action.timestamp, action.error)


def _on_topic(state: ChatState, action: TopicChanged) -> ChatState:
    buffer = state.buffers.get(buffer_key(action.channel))
    if buffer is None:
        return state
    return _with_buffer(state, dataclasses.replace(buffer, topic=action.topic))


_HANDLERS: dict[type, Callable[[ChatState, object], ChatState]] = {
    LinkConnecting: _on_connecting,  # type: ignore[dict-item]
    LinkUp: _on_link_up,  # type: ignore[dict-item]
    LinkDown: _on_link_down,  # type: ignore[dict-item]
    LoggedIn: _on_logged_in,  # type: ignore[dict-item]
    ChannelJoined: _on_joined,  # type: ignore[dict-item]
    ChannelLeft: _on_left,  # type: ignore[dict-item]
    EventsReceived: _on_events,  # type: ignore[dict-item]
    OlderRequested: _on_older_requested,  # type: ignore[dict-item]
    HistoryLoaded: _on_history,  # type: ignore[dict-item]
    HistoryFailed: _on_history_failed,  # type: ignore[dict-item]
    Activated: _on_activated,  # type: ignore[dict-item]
    QueryOpened: _on_query,  # type: ignore[dict-item]
    BufferClosed: _on_closed,  # type: ignore[dict-item]
    Cleared: _on_cleared,  # type: ignore[dict-item]
    MessageQueued: _on_queued,  # type: ignore[dict-item]
    SendStarted: _on_send_started,  # type: ignore[dict-item]
    SendConfirmed: _on_confirmed,  # type: ignore[dict-item]
    SendFailed: _on_send_failed,  # type: ignore[dict-item]
    Noted: _on_noted,  # type: ignore[dict-item]
    TopicChanged: _on_topic,  # type: ignore[dict-item]
}


def reduce(state: ChatState, action: Action) -> ChatState:
    """Return the state after ``action``; ``state`` itself is never modified."""
    return _HANDLERS[type(action)](state, action)
