"""The pure reducer: ``reduce(state, action)`` returns the next ``ChatState``.

It never performs I/O, reads a clock or touches Textual. Effects (sending, loading history,
reconnecting) are decided by the caller, who reads selectors such as ``queued_outgoing`` and
reports outcomes back as actions. One handler per action type, behind one table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from aronanet.client.state.actions import (
    Action,
    Activated,
    BufferClosed,
    ChannelJoined,
    ChannelLeft,
    Cleared,
    EventsReceived,
    HistoryFailed,
    HistoryLoaded,
    LinkConnecting,
    LinkDown,
    LinkUp,
    LoggedIn,
    MessageQueued,
    MessagesChanged,
    Noted,
    OlderRequested,
    QueryOpened,
    RetryRequested,
    SendConfirmed,
    SendFailed,
    SendStarted,
    TopicChanged,
)
from aronanet.client.state.edits import (
    add_note,
    append_lines,
    ensure_buffer,
    insert_after_anchor,
    merge_messages,
    own_line,
    prepend_lines,
    refresh_held,
    set_members,
    update_line,
    with_buffer,
)
from aronanet.client.state.lifecycle import LIFECYCLE_HANDLERS, stopped_typing, typing_key
from aronanet.client.state.model import (
    STATUS_KEY,
    ChatState,
    Delivery,
    Line,
    Link,
    LinkStatus,
    buffer_key,
)
from aronanet.client.state.sync import SYNC_HANDLERS
from aronanet.proto.messages import JoinEvent, MsgEvent, PartEvent, TopicEvent


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
                state = update_line(state, line.id, _unconfirmed)
    return state


def _unconfirmed(line: Line) -> Line:
    """ArTP/1.1 §14.4: a line with a ``cid`` is resent safely (the node answers a repeat
    with the original OK), so it waits in the queue; without one, the user decides."""
    if line.cid:
        return dataclasses.replace(line, delivery=Delivery.QUEUED)
    failure = "the link dropped before the node confirmed it"
    return dataclasses.replace(line, delivery=Delivery.FAILED, failure=failure)


def _on_logged_in(state: ChatState, action: LoggedIn) -> ChatState:
    state = dataclasses.replace(state, me=action.user)
    for channel in action.channels:
        state, _ = ensure_buffer(state, channel, "channel")
    return state


def _on_joined(state: ChatState, action: ChannelJoined) -> ChatState:
    state, buffer = ensure_buffer(state, action.channel, "channel")
    members = tuple(sorted(set(action.members), key=str.casefold))
    state = with_buffer(state, dataclasses.replace(buffer, topic=action.topic, members=members))
    if action.activate:
        state = _on_activated(state, Activated(buffer.key))
    return state


def _on_left(state: ChatState, action: ChannelLeft) -> ChatState:
    return _on_closed(state, BufferClosed(buffer_key(action.channel)))


def _on_events(state: ChatState, action: EventsReceived) -> ChatState:
    state = stopped_typing(
        state,
        (
            (typing_key(state, e.dest_type, e.dest, e.from_), e.from_)
            for e in action.events
            if isinstance(e, MsgEvent)
        ),
    )
    messages: list[MsgEvent] = []
    for event in action.events:
        if isinstance(event, MsgEvent):
            messages.append(event)
            continue
        state = merge_messages(state, messages, count_unread=True)
        messages = []
        state = _on_channel_event(state, event)
    return merge_messages(state, messages, count_unread=True)


def _on_channel_event(state: ChatState, event: JoinEvent | PartEvent | TopicEvent) -> ChatState:
    key = buffer_key(event.channel)
    ours = state.me is not None and event.from_.casefold() == state.me.casefold()
    if isinstance(event, PartEvent) and ours:
        return _on_closed(state, BufferClosed(key))  # §3: our other session left
    state, buffer = ensure_buffer(state, event.channel, "channel")
    if event.id in buffer.ids:
        return state
    if isinstance(event, JoinEvent):
        state = set_members(state, event.channel, lambda m: m.add(event.from_))
        line = Line(event.id, "join", event.timestamp, event.from_)
    elif isinstance(event, PartEvent):
        state = set_members(state, event.channel, lambda m: m.discard(event.from_))
        line = Line(event.id, "part", event.timestamp, event.from_)
    else:
        state = _on_topic(state, TopicChanged(event.channel, event.topic))
        line = Line(event.id, "topic", event.timestamp, event.from_, event.topic)
    return with_buffer(state, append_lines(state.buffers[key], [line]))


def _on_older_requested(state: ChatState, action: OlderRequested) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None or buffer.older != "idle":
        return state
    return with_buffer(state, dataclasses.replace(buffer, older="loading"))


def _on_history(state: ChatState, action: HistoryLoaded) -> ChatState:
    """Merge a page; only an empty page marks the start of history as reached.

    PROTOCOL.md, HISTORY: "a reply may hold fewer than ``limit`` messages although more
    exist [...] a client pages on [...] until it gets an empty list, not until a list
    shorter than ``limit``." A short page is therefore never the start of history.
    """
    if action.key not in state.buffers:
        return state
    if action.after is not None:
        return merge_messages(
            state, action.messages, count_unread=True, place=insert_after_anchor(action.after)
        )
    if action.around is not None:  # a jump: in time order among what is held
        return merge_messages(
            state, action.messages, count_unread=False, place=insert_after_anchor(None)
        )
    scrollback = action.before is not None
    place = prepend_lines if scrollback else insert_after_anchor(None)
    state = merge_messages(state, action.messages, count_unread=False, place=place)
    buffer = state.buffers[action.key]
    if not action.messages:
        return with_buffer(state, dataclasses.replace(buffer, older="complete"))
    if scrollback:
        return with_buffer(state, dataclasses.replace(buffer, older="idle"))
    return state  # a latest page leaves scrollback as it was (idle, or complete after /clear)


def _on_history_failed(state: ChatState, action: HistoryFailed) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None or buffer.older != "loading":
        return state
    return with_buffer(state, dataclasses.replace(buffer, older="idle"))


def _on_activated(state: ChatState, action: Activated) -> ChatState:
    buffer = state.buffers.get(action.key)
    if buffer is None:
        return state
    seen = dataclasses.replace(buffer, unread=0, highlights=0)
    return dataclasses.replace(with_buffer(state, seen), active=action.key)


def _on_query(state: ChatState, action: QueryOpened) -> ChatState:
    state, buffer = ensure_buffer(state, action.user, "user")
    return _on_activated(state, Activated(buffer.key)) if action.activate else state


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
    return with_buffer(state, dataclasses.replace(buffer, lines=kept, older="complete"))


def _on_queued(state: ChatState, action: MessageQueued) -> ChatState:
    state, line = own_line(state, action.content, action.timestamp, action.cid, action.reply)
    return with_buffer(state, append_lines(state.buffers[action.key], [line]))


def _on_send_started(state: ChatState, action: SendStarted) -> ChatState:
    return update_line(
        state, action.line_id, lambda line: dataclasses.replace(line, delivery=Delivery.SENDING)
    )


def _on_confirmed(state: ChatState, action: SendConfirmed) -> ChatState:
    """§3: the live/HISTORY copy has the OK's ``msg_id``; if we already hold it, drop ours."""
    for buffer in state.buffers.values():
        if action.msg_id in buffer.ids and any(x.id == action.line_id for x in buffer.lines):
            lines = tuple(x for x in buffer.lines if x.id != action.line_id)
            return with_buffer(state, dataclasses.replace(buffer, lines=lines))
    return update_line(
        state,
        action.line_id,
        lambda line: dataclasses.replace(
            line, id=action.msg_id, timestamp=action.timestamp, delivery=Delivery.SENT, failure=""
        ),
    )


def _on_send_failed(state: ChatState, action: SendFailed) -> ChatState:
    return update_line(
        state,
        action.line_id,
        lambda line: dataclasses.replace(line, delivery=Delivery.FAILED, failure=action.reason),
    )


def _on_retry(state: ChatState, action: RetryRequested) -> ChatState:
    """Our failed lines in ``key`` go back to the queue, in their places, for the sender.

    Only on the user's word: a line that failed when the link dropped may have been stored
    (LinkDown says so), and a catch-up that finds the node's copy replaces it instead.
    """
    buffer = state.buffers.get(action.key)
    if buffer is None:
        return state
    for line in buffer.lines:
        if line.delivery is Delivery.FAILED:
            state = update_line(
                state,
                line.id,
                lambda old: dataclasses.replace(old, delivery=Delivery.QUEUED, failure=""),
            )
    return state


def _on_changes(state: ChatState, action: MessagesChanged) -> ChatState:
    return refresh_held(state, action.messages)


def _on_noted(state: ChatState, action: Noted) -> ChatState:
    key = action.key if action.key is not None and action.key in state.buffers else state.active
    return add_note(state, key, action.text, action.timestamp, action.error)


def _on_topic(state: ChatState, action: TopicChanged) -> ChatState:
    buffer = state.buffers.get(buffer_key(action.channel))
    if buffer is None:
        return state
    return with_buffer(state, dataclasses.replace(buffer, topic=action.topic))


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
    RetryRequested: _on_retry,  # type: ignore[dict-item]
    Noted: _on_noted,  # type: ignore[dict-item]
    MessagesChanged: _on_changes,  # type: ignore[dict-item]
    TopicChanged: _on_topic,  # type: ignore[dict-item]
    **SYNC_HANDLERS,
    **LIFECYCLE_HANDLERS,
}


def reduce(state: ChatState, action: Action) -> ChatState:
    """Return the state after ``action``; ``state`` itself is never modified."""
    return _HANDLERS[type(action)](state, action)
