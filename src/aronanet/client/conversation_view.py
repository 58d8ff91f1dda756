"""What a client knows of its conversations: messages in the node's order, read markers.

ArTP/1.0 §5: clients never order ids, "the order of messages is the order of HISTORY". So a
``HISTORY after`` page is authoritative for the stretch it covers: merging it puts its
messages right after their anchor, in page order, and whatever the view held after the anchor
that the page did not name (newer live events) follows. Live events are appended. Every id
appears at most once, whatever order pages and events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from aronanet.client.lifecycle import ChangeEvent, applied, requoted
from aronanet.proto.lifecycle import DeleteEvent
from aronanet.proto.messages import MsgEvent

#: A conversation's key: ``("channel", "#name")`` or ``("user", "peer")``, names case-folded.
ConversationKey = tuple[str, str]


def conversation_key(dest_type: str, dest: str) -> ConversationKey:
    """§3: channel names are lower case, user names unique ignoring case."""
    return (dest_type, dest.casefold())


def name_of(message: MsgEvent, me: str) -> str:
    """The conversation's name from ``me``'s side: the channel, or a DM's other party
    (§3: a DM has ``dest`` = recipient and ``from`` = sender for both parties)."""
    if message.dest_type == "channel":
        return message.dest
    return message.dest if message.from_.casefold() == me.casefold() else message.from_


def key_of(message: MsgEvent, me: str) -> ConversationKey:
    """The conversation a message belongs to, from ``me``'s side: a DM's key is the peer."""
    return conversation_key(message.dest_type, name_of(message, me))


def event_key(dest_type: str, dest: str, sender: str, me: str) -> ConversationKey:
    """The conversation of an event addressed like a ``MSG`` (``TYPING``: ``dest`` is the
    recipient, so a DM is named by whichever party is not ``me``)."""
    if dest_type == "channel":
        return conversation_key(dest_type, dest)
    return conversation_key(dest_type, dest if sender.casefold() == me.casefold() else sender)


@dataclass
class ConversationView:
    """One conversation as this client holds it."""

    dest_type: str
    dest: str
    ids: list[str] = field(default_factory=list)
    messages: dict[str, MsgEvent] = field(default_factory=dict)
    read: str | None = None
    unread: int = 0
    mentions: int = 0

    @property
    def last_id(self) -> str | None:
        """The newest message held: the anchor of the next catch-up."""
        return self.ids[-1] if self.ids else None

    @property
    def first_id(self) -> str | None:
        return self.ids[0] if self.ids else None

    def append(self, message: MsgEvent) -> bool:
        """A live event: appended unless already held. True when it was new."""
        if message.id in self.messages:
            return False
        self.messages[message.id] = message
        self.ids.append(message.id)
        return True

    def merge_after(self, anchor: str | None, page: Iterable[MsgEvent]) -> int:
        """A ``HISTORY after anchor`` page (or, with no anchor, the latest page): placed
        right after ``anchor`` in page order, in place of any copies held elsewhere.
        Returns how many messages were new."""
        page = list(page)
        named = {message.id for message in page}
        new = sum(1 for message in page if message.id not in self.messages)
        # No anchor: a latest page, newer than all held (a later ``after`` page fixes the
        # place of a live event that overtook it). An anchor not held: at the end.
        cut = self.ids.index(anchor) + 1 if anchor in self.messages else len(self.ids)
        head = [i for i in self.ids[:cut] if i not in named]
        tail = [i for i in self.ids[cut:] if i not in named]
        for message in page:
            self.messages[message.id] = message
        self.ids = head + [message.id for message in page] + tail
        return new

    def merge_before(self, page: Iterable[MsgEvent]) -> int:
        """A ``HISTORY before`` page (scrollback): placed before everything held."""
        page = [message for message in page if message.id not in self.messages]
        for message in page:
            self.messages[message.id] = message
        self.ids = [message.id for message in page] + self.ids
        return len(page)

    def mark_read(self, marker: str, me: str) -> None:
        """§14.6: the marker moved; unread is what follows it and is not ours (mentions are
        the node's to count: they are cleared here and recounted by the next catch-up)."""
        self.read = marker
        after = self.ids[self.ids.index(marker) + 1 :] if marker in self.messages else []
        self.unread = sum(1 for i in after if _may_be_unread(self.messages[i], me))
        self.mentions = 0

    @property
    def rev(self) -> str | None:
        """§14.14: the newest change number held: ask ``CHANGES`` since it after a gap."""
        revs = [int(m.rev) for m in self.messages.values() if isinstance(m.rev, str)]
        return str(max(revs)) if revs else None

    def apply(self, event: ChangeEvent, me: str) -> bool:
        """§14.10-14.12: an EDIT, DELETE or REACTION of a held message; replies held that
        quote it follow. False when the message is not held (HISTORY will show it). A
        deleted message is no longer unread (§14.5)."""
        held = self.messages.get(event.msg_id)
        if held is None:
            return False
        if isinstance(event, DeleteEvent) and self._is_unread(held, me):
            self.unread -= 1
        self._replace(applied(held, event))
        return True

    def _is_unread(self, message: MsgEvent, me: str) -> bool:
        """Whether ``message`` is among those ``unread`` counts, as ``mark_read`` counts
        them: not ours, not deleted, after the read marker (a marker not held is past
        everything held)."""
        if self.unread == 0 or not _may_be_unread(message, me):
            return False
        if self.read is None:
            return True
        return self.read in self.messages and self.ids.index(message.id) > self.ids.index(self.read)

    def merge_changes(self, page: Iterable[MsgEvent]) -> int:
        """§14.14: a ``CHANGES`` page: held messages take their current state (new ones
        are left to ``HISTORY after``, which places them). Returns how many changed."""
        changed = 0
        for message in page:
            if message.id in self.messages and self.messages[message.id] != message:
                self._replace(message)
                changed += 1
        return changed

    def _replace(self, message: MsgEvent) -> None:
        self.messages[message.id] = message
        for other_id, other in self.messages.items():
            if other.reply_to == message.id:
                self.messages[other_id] = requoted(other, message)

    def cids(self) -> set[str]:
        """The client message ids of the messages held (ArTP/1.1 §14.4)."""
        return {m.cid for m in self.messages.values() if isinstance(m.cid, str)}


def _may_be_unread(message: MsgEvent, me: str) -> bool:
    """§14.5: only others' messages that are not deleted count as unread."""
    return message.from_.casefold() != me.casefold() and message.deleted is msgspec.UNSET
