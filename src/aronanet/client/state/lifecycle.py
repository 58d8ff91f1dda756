"""Reducer handlers for ArTP/1.1 ``lifecycle`` (§14.9-14.13): edits, deletes, reactions,
typing, and reading those fields off a stored message. Kept apart from ``reducer`` so each
module stays about one thing.

A message is found by its id alone: ids are node-wide, so an event needs no buffer lookup
by destination, and an event for a message this client does not hold changes nothing (it
comes right when that page is loaded: HISTORY returns the current state).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from msgspec import UNSET, UnsetType

from aronanet.client.lifecycle import reacted
from aronanet.client.state.actions import (
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    TypingChanged,
)
from aronanet.client.state.model import (
    ACTION_PREFIX,
    Buffer,
    ChatState,
    Line,
    LineKind,
    Quote,
    Reaction,
    buffer_key,
)
from aronanet.proto.lifecycle import QUOTE_LENGTH, ReactionEvent
from aronanet.proto.lifecycle import Reaction as WireReaction
from aronanet.proto.messages import MsgEvent

# ------------------------------------------------------------------- stored messages


def quote_of(event: MsgEvent) -> Quote | None:
    """The quoted message of a reply (``reply``), or a bare id when only ``reply_to`` came."""
    if event.reply is not UNSET:
        reply = event.reply
        return Quote(reply.id, reply.from_, reply.content, deleted=reply.deleted is True)
    if event.reply_to is not UNSET:
        return Quote(id=event.reply_to, sender="", text="")
    return None


def reactions_of(event: MsgEvent) -> tuple[Reaction, ...]:
    if event.reactions is UNSET:
        return ()
    return tuple(Reaction(r.emoji, r.count, tuple(r.users)) for r in event.reactions)


def stamp_of(value: int | UnsetType) -> int:
    """``edited`` / ``deleted`` of a stored message: Unix seconds, 0 when absent."""
    return 0 if value is UNSET else int(value)


def quote_line(line: Line) -> Quote:
    """How ``line`` shows when quoted above a reply to it."""
    return Quote(line.id, line.sender, line.text[:QUOTE_LENGTH], deleted=bool(line.deleted))


# ---------------------------------------------------------------------- handlers


def _find(state: ChatState, msg_id: str) -> tuple[Buffer, int] | None:
    for buffer in state.buffers.values():
        if msg_id in buffer.ids:
            for index, line in enumerate(buffer.lines):
                if line.id == msg_id:
                    return buffer, index
    return None


def _change(state: ChatState, msg_id: str, change: Callable[[Line], Line]) -> ChatState:
    """Replace message ``msg_id`` by ``change(it)``, and refresh the quotes of its replies."""
    found = _find(state, msg_id)
    if found is None:
        return state
    buffer, index = found
    new = change(buffer.lines[index])
    quote = quote_line(new)
    lines = tuple(
        new
        if i == index
        else dataclasses.replace(line, reply=quote)
        if line.reply is not None and line.reply.id == msg_id
        else line
        for i, line in enumerate(buffer.lines)
    )
    return dataclasses.replace(
        state, buffers={**state.buffers, buffer.key: dataclasses.replace(buffer, lines=lines)}
    )


def _on_edited(state: ChatState, action: MessageEdited) -> ChatState:
    def edit(line: Line) -> Line:
        if line.deleted:
            return line  # §14.11: a deleted message stays deleted
        is_action = action.content.startswith(ACTION_PREFIX)
        text = action.content[len(ACTION_PREFIX) :] if is_action else action.content
        kind: LineKind = "action" if is_action else "message"
        return dataclasses.replace(line, kind=kind, text=text, edited=action.edited)

    return _change(state, action.msg_id, edit)


def _on_deleted(state: ChatState, action: MessageDeleted) -> ChatState:
    def delete(line: Line) -> Line:
        return dataclasses.replace(
            line, text="", attachment=None, reactions=(), deleted=action.deleted or 1
        )

    return _change(state, action.msg_id, delete)


def _on_reaction(state: ChatState, action: ReactionChanged) -> ChatState:
    def react(line: Line) -> Line:
        return dataclasses.replace(line, reactions=_reacted(line.reactions, action))

    return _change(state, action.msg_id, react)


def _reacted(reactions: tuple[Reaction, ...], action: ReactionChanged) -> tuple[Reaction, ...]:
    """The reactions after ``action``, by the library's rule (``client.lifecycle.reacted``:
    the node's count wins, the order is the first reaction's, at most 10 names)."""
    change = ReactionEvent(
        id="",
        msg_id=action.msg_id,
        from_=action.user,
        emoji=action.emoji,
        added=action.added,
        count=action.count,
        dest_type="channel",
        dest="#-",
        timestamp=0,
    )
    wire = [WireReaction(emoji=r.emoji, count=r.count, users=list(r.users)) for r in reactions]
    return tuple(Reaction(r.emoji, r.count, tuple(r.users)) for r in reacted(wire, change))


def typing_key(state: ChatState, dest_type: str, dest: str, user: str) -> str:
    """§14.13: a channel's buffer, or for a DM the typist's (``dest`` is the recipient)."""
    if dest_type == "channel":
        return buffer_key(dest)
    ours = state.me is not None and user.casefold() == state.me.casefold()
    return buffer_key(dest if ours else user)


def _on_typing(state: ChatState, action: TypingChanged) -> ChatState:
    key = typing_key(state, action.dest_type, action.dest, action.user)
    typing = {
        k: {u: t for u, t in users.items() if t > action.now} for k, users in state.typing.items()
    }
    here = typing.setdefault(key, {})
    here.pop(action.user, None)
    if action.typing and action.expires_at > action.now:
        here[action.user] = action.expires_at
    return dataclasses.replace(state, typing={k: v for k, v in typing.items() if v})


def stopped_typing(state: ChatState, senders: Iterable[tuple[str, str]]) -> ChatState:
    """A message from someone ends their typing there (§14.13): (buffer key, user) pairs."""
    typing: Mapping[str, Mapping[str, float]] = state.typing
    for key, user in senders:
        if user in typing.get(key, {}):
            rest = {u: t for u, t in typing[key].items() if u != user}
            typing = {k: v for k, v in typing.items() if k != key} | ({key: rest} if rest else {})
    return state if typing is state.typing else dataclasses.replace(state, typing=typing)


def typists(state: ChatState, key: str, now: float) -> list[str]:
    """Who is typing in buffer ``key`` at ``now``, in the order they started."""
    return [user for user, until in state.typing.get(key, {}).items() if until > now]


LIFECYCLE_HANDLERS: dict[type, Callable[[ChatState, object], ChatState]] = {
    MessageEdited: _on_edited,  # type: ignore[dict-item]
    MessageDeleted: _on_deleted,  # type: ignore[dict-item]
    ReactionChanged: _on_reaction,  # type: ignore[dict-item]
    TypingChanged: _on_typing,  # type: ignore[dict-item]
}
