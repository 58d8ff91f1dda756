"""Reducer handlers for ArTP/1.1 ``moderation`` (§14.16-14.19): roles, modes, blocks.

A ``MODERATION`` event becomes a line in its channel, worded by the caller (the UI owns its
voice), and changes what the member list shows: a kicked or banned user leaves it, a role
changes its mark, a mode change the channel's modes. When the event removes *us*, the
channel's buffer closes (as our own ``PART`` does, §3) and the line goes to the status
buffer, so that reconnecting never JOINs it again behind the moderator's back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from aronanet.client.state.actions import BlocksLoaded, ModerationReceived, RosterLoaded
from aronanet.client.state.edits import (
    append_lines,
    close_buffer,
    set_members,
    with_buffer,
)
from aronanet.client.state.model import STATUS_KEY, Buffer, ChatState, Line, buffer_key
from aronanet.proto.moderation import Modes

#: §14.17: the modes, in the order a UI lists them.
MODE_NAMES = ("invite_only", "moderated", "topic_locked")
#: Actions that take the user out of the channel.
REMOVALS = frozenset({"kick", "ban"})


def modes_of(modes: Modes) -> frozenset[str]:
    """The names of the modes that are on."""
    return frozenset(name for name in MODE_NAMES if getattr(modes, name))


def _on_roster(state: ChatState, action: RosterLoaded) -> ChatState:
    buffer = state.buffers.get(buffer_key(action.channel))
    if buffer is None:
        return state
    roles = {user: role for user, role in action.roles if role != "member"}
    # The whole roster, page after page: the member list JOIN gave may have been trimmed.
    members = tuple(sorted({user for user, _ in action.roles}, key=str.casefold))
    changed = dataclasses.replace(buffer, roles=roles, modes=action.modes, members=members)
    return with_buffer(state, changed)


def _with_role(buffer: Buffer, user: str, role: str) -> Buffer:
    folded = user.casefold()
    roles = {name: held for name, held in buffer.roles.items() if name.casefold() != folded}
    if role != "member":
        roles[user] = role
    return dataclasses.replace(buffer, roles=roles)


def _on_moderation(state: ChatState, action: ModerationReceived) -> ChatState:
    event = action.event
    key = buffer_key(event.channel)
    user = event.user if isinstance(event.user, str) else ""
    about_me = state.me is not None and user.casefold() == state.me.casefold()
    line = Line(event.id, "info", event.timestamp, text=action.text)
    if about_me and (event.action in REMOVALS or key not in state.buffers):
        state = close_buffer(state, key)
        return with_buffer(state, append_lines(state.buffers[STATUS_KEY], [line]))
    if key not in state.buffers:
        return state  # a channel this client has no buffer for
    buffer = state.buffers[key]
    if event.id in buffer.ids:
        return state
    if event.action in REMOVALS and user:
        state = set_members(state, event.channel, lambda m: m.discard(user))
        buffer = _with_role(state.buffers[key], user, "member")
    elif event.action == "role" and user and isinstance(event.role, str):
        buffer = _with_role(buffer, user, event.role)
    elif event.action == "mode" and isinstance(event.modes, Modes):
        buffer = dataclasses.replace(buffer, modes=modes_of(event.modes))
    return with_buffer(state, append_lines(buffer, [line]))


def _on_blocks(state: ChatState, action: BlocksLoaded) -> ChatState:
    """Hide what the newly blocked wrote in channels (their DMs stay: the node refuses new
    ones, §14.19, and a conversation the user opened is theirs to close)."""
    blocked = frozenset(user.casefold() for user in action.users)
    state = dataclasses.replace(state, blocked=blocked)
    for buffer in list(state.buffers.values()):
        if buffer.kind != "channel":
            continue
        kept = tuple(line for line in buffer.lines if line.sender.casefold() not in blocked)
        if len(kept) != len(buffer.lines):
            state = with_buffer(state, dataclasses.replace(buffer, lines=kept))
    return state


MODERATION_HANDLERS: dict[type, Callable[[ChatState, object], ChatState]] = {
    RosterLoaded: _on_roster,  # type: ignore[dict-item]
    ModerationReceived: _on_moderation,  # type: ignore[dict-item]
    BlocksLoaded: _on_blocks,  # type: ignore[dict-item]
}
