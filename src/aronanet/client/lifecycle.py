"""ArTP/1.1 ``lifecycle`` on the client side (§14.9-14.14): how a held message changes.

Pure functions and one small clocked value, shared by every client model (``SyncSession``'s
``ConversationView``, the terminal client's state): an ``EDIT``, ``DELETE`` or ``REACTION``
event turns a held ``MSG`` into its new state exactly as the node's HISTORY would show it,
and replies that quote the changed message follow. ``TypingTracker`` knows who is typing
where, until their notice expires. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
from msgspec import UNSET

from aronanet.proto.lifecycle import (
    QUOTE_LENGTH,
    REACTION_USERS,
    DeleteEvent,
    EditEvent,
    Reaction,
    ReactionEvent,
    ReplyQuote,
    TypingEvent,
)
from aronanet.proto.messages import MsgEvent, Ok

#: The events that change a message held by the client.
ChangeEvent = EditEvent | DeleteEvent | ReactionEvent
CHANGE_EVENTS = (EditEvent, DeleteEvent, ReactionEvent)


def applied(message: MsgEvent, event: ChangeEvent) -> MsgEvent:
    """``message`` after ``event`` (which must name it), as HISTORY would now return it."""
    rev = event.rev if isinstance(event.rev, str) else message.rev
    if isinstance(event, EditEvent):
        return msgspec.structs.replace(message, content=event.content, edited=event.edited, rev=rev)
    if isinstance(event, DeleteEvent):
        return msgspec.structs.replace(
            message,
            content="",
            attachment=UNSET,
            edited=UNSET,
            reactions=UNSET,
            deleted=event.timestamp,
            rev=rev,
        )
    reactions = reacted(message.reactions if isinstance(message.reactions, list) else [], event)
    return msgspec.structs.replace(message, reactions=reactions or UNSET, rev=rev)


def reacted(reactions: list[Reaction], event: ReactionEvent) -> list[Reaction]:
    """The reaction summary after one user added or removed one emoji (§14.12): the
    count is the node's; ``users`` keeps the first ``REACTION_USERS`` names it knows."""
    updated: list[Reaction] = []
    found = False
    for reaction in reactions:
        if reaction.emoji != event.emoji:
            updated.append(reaction)
            continue
        found = True
        users = [user for user in reaction.users if user.casefold() != event.from_.casefold()]
        if event.added and len(users) < REACTION_USERS:
            users.append(event.from_)
        if event.count > 0:
            updated.append(Reaction(emoji=reaction.emoji, count=event.count, users=users))
    if not found and event.added and event.count > 0:
        updated.append(Reaction(emoji=event.emoji, count=event.count, users=[event.from_]))
    return updated


def requoted(reply: MsgEvent, original: MsgEvent) -> MsgEvent:
    """A reply to ``original`` with its quote brought up to date (§14.9)."""
    if reply.reply_to != original.id:
        return reply
    quote = ReplyQuote(
        id=original.id,
        from_=original.from_,
        content=original.content[:QUOTE_LENGTH],
        deleted=True if isinstance(original.deleted, int) else UNSET,
    )
    return msgspec.structs.replace(reply, reply=quote)


# The events a session is not sent for its own requests (it gets the ``OK``), rebuilt from
# that ``OK`` so the requesting client updates its copy exactly as its other devices do.


def own_edit(held: MsgEvent, content: str, reply: Ok) -> EditEvent:
    """§14.10: our EDIT of ``held``, from its ``OK`` (``edited``, ``rev``)."""
    edited = reply.edited if isinstance(reply.edited, int) else held.timestamp
    return EditEvent(
        id="",
        msg_id=held.id,
        from_=held.from_,
        dest_type=held.dest_type,
        dest=held.dest,
        content=content,
        edited=edited,
        timestamp=edited,
        rev=reply.rev,
    )


def own_delete(held: MsgEvent, reply: Ok, now: int) -> DeleteEvent:
    """§14.11: our DELETE of ``held``, from its ``OK`` (``now``: the local time)."""
    return DeleteEvent(
        id="",
        msg_id=held.id,
        from_=held.from_,
        dest_type=held.dest_type,
        dest=held.dest,
        timestamp=now,
        rev=reply.rev,
    )


def own_reaction(held: MsgEvent, reply: Ok, me: str, added: bool) -> ReactionEvent:
    """§14.12: our REACT/UNREACT on ``held``, from its ``OK`` (``emoji``, ``count``)."""
    return ReactionEvent(
        id="",
        msg_id=held.id,
        from_=me,
        emoji=reply.emoji if isinstance(reply.emoji, str) else "",
        added=added,
        count=reply.count if isinstance(reply.count, int) else 0,
        dest_type=held.dest_type,
        dest=held.dest,
        timestamp=held.timestamp,
        rev=reply.rev,
    )


@dataclass
class TypingTracker:
    """§14.13: who is typing in which conversation, until ``expires_ms`` passes, a
    ``typing: false`` arrives, or they send a message there (``message_sent``)."""

    clock: Callable[[], float]
    #: (conversation, case-folded name) -> (until, the name as sent).
    _until: dict[tuple[tuple[str, str], str], tuple[float, str]] = field(default_factory=dict)

    def typing(self, conversation: tuple[str, str], event: TypingEvent) -> None:
        key = (conversation, event.from_.casefold())
        if event.typing:
            self._until[key] = (self.clock() + event.expires_ms / 1000, event.from_)
        else:
            self._until.pop(key, None)

    def message_sent(self, conversation: tuple[str, str], sender: str) -> None:
        self._until.pop((conversation, sender.casefold()), None)

    def who(self, conversation: tuple[str, str]) -> list[str]:
        """The names typing in ``conversation`` now, sorted ignoring case."""
        now = self.clock()
        for key in [key for key, (until, _) in self._until.items() if until <= now]:
            del self._until[key]
        names = [name for (where, _), (_, name) in self._until.items() if where == conversation]
        return sorted(names, key=str.casefold)
