"""The rows the ``Store`` interface speaks in, and the keys names are compared by.

Kept apart from the interface (``base``) because every layer reads them: the node's
handlers build queries and read rows, the backends and the SQL modules fill them, and none
of those needs the abstract ``Store`` to do so. Rows are plain dataclasses; no wire type
(``msgspec`` Struct) crosses this boundary, and no backend type leaks out of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from aronanet.proto.search_query import SearchQuery


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    password_hash: str
    created: int


@dataclass(frozen=True, slots=True)
class ChannelRow:
    name: str
    topic: str
    created: int


@dataclass(frozen=True, slots=True)
class ChannelMembers:
    """One channel as the store has it now: its row and its members' registered names."""

    channel: ChannelRow
    members: tuple[str, ...]


@dataclass(slots=True)
class NewMessage:
    """A message to store; ``conversation`` is the key its history is read by.

    Not ``frozen`` (nor ``MessageRow``): a frozen dataclass's ``__init__`` sets each field
    with ``object.__setattr__``, a slow call per field on the ``MSG`` hot path; treat both
    as immutable all the same."""

    conversation: str
    sender: str
    dest_type: str
    dest: str
    content: str
    timestamp: int
    attachment: str | None = None  # JSON text, e.g. an image attachment (§4)
    #: §14.4: the sender's client id; a second message with the same (sender, cid) is not
    #: stored: ``append_message`` returns the first, marked ``duplicate``.
    cid: str | None = None
    #: §14.5: user keys of the recipients this message mentions (recorded for counting).
    mentioned: tuple[str, ...] = ()
    #: §14.9: the id of the message this one replies to.
    reply_to: int | None = None

    #: The column list of ``values()``, in that order, for INSERT statements.
    COLUMNS: ClassVar[str] = (
        "conversation, sender, dest_type, dest, content, timestamp, attachment, cid, reply_to"
    )

    def values(self) -> tuple[str | int | None, ...]:
        """The row's values in ``COLUMNS`` order: one source for every backend's INSERT."""
        return (
            self.conversation,
            self.sender,
            self.dest_type,
            self.dest,
            self.content,
            self.timestamp,
            self.attachment,
            self.cid,
            self.reply_to,
        )

    def stored_as(self, message_id: int, rev: int) -> MessageRow:
        """This message as the row the store now holds under ``message_id``."""
        return MessageRow(message_id, *self.values(), rev=rev)  # type: ignore[arg-type,misc]


@dataclass(slots=True)
class MessageRow:
    """A stored message; ``id`` is unique on the node and increases with every insert."""

    id: int
    conversation: str
    sender: str
    dest_type: str
    dest: str
    content: str
    timestamp: int
    attachment: str | None
    cid: str | None = None
    #: §14.9-14.14: what it replies to, when it was last edited / deleted (Unix seconds),
    #: and its change number (node-wide, increasing; bumped by each edit, delete, reaction).
    reply_to: int | None = None
    edited: int | None = None
    deleted: int | None = None
    rev: int = 0
    #: True when ``append_message`` found this row already stored under the new message's
    #: (sender, cid): nothing was stored, and the caller must not route it again (§14.4).
    duplicate: bool = False


#: The columns of a ``MessageRow`` (``duplicate`` aside), for SELECT statements.
MESSAGE_COLUMNS = f"id, {NewMessage.COLUMNS}, edited, deleted, rev"


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """§14.3: a device (client static key) that signed in to an account with its password."""

    device: str  # the key's fingerprint, SHA256:...
    name: str
    first_seen: int
    last_seen: int
    address: str


@dataclass(frozen=True, slots=True)
class DeviceSighting:
    """A password login of a ``sync`` session: record (or refresh) its device.

    ``name`` replaces the stored name only when ``named`` (the client sent ``device_name``);
    otherwise it is the name of a device seen for the first time.
    """

    user: str
    device: str
    name: str
    named: bool
    seen: int
    address: str


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    """§14.5: the conversations of ``user`` after ``after`` (dest_type, sort key), in order."""

    user: str
    limit: int
    after: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One conversation of a user: a joined channel or a DM peer, with its counts."""

    dest_type: str
    dest: str
    sort_key: str  # what ``ConversationQuery.after`` compares: the channel, the peer's key
    last_id: int | None
    last_timestamp: int | None
    read: int | None
    unread: int
    mentions: int
    rev: int | None = None  # §14.14: the newest change number of the conversation


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """ArTP §3 HISTORY: the latest ``limit``, or the ``limit`` right before/after an id."""

    conversation: str
    limit: int
    before: int | None = None
    after: int | None = None
    #: §14.9: about ``limit // 2`` messages older than this id, the rest from it on.
    around: int | None = None


# ---------------------------------------------------------------- lifecycle (§14.9-14.14)


class Refusal(StrEnum):
    """Why the store did not change a message (the node words it as an ERROR)."""

    MISSING = "missing"  # no such message, or deleted
    NOT_AUTHOR = "not_author"
    TOO_MANY = "too_many"  # a new emoji past ``max_reactions``


@dataclass(frozen=True, slots=True)
class Change:
    """An edit, delete or reaction: the message as it is now, or why nothing changed."""

    row: MessageRow | None
    refusal: Refusal | None = None
    #: DELETE: the image of the deleted attachment, when no message carries it any more.
    orphaned_image: str | None = None
    #: REACT/UNREACT: users with that emoji on the message now, and whether this changed it.
    count: int = 0
    changed: bool = True


@dataclass(frozen=True, slots=True)
class EditRequest:
    message_id: int
    author: str
    content: str
    at: int
    keep_history: bool = False


@dataclass(frozen=True, slots=True)
class ReactionRequest:
    message_id: int
    user: str  # as registered
    emoji: str
    add: bool
    max_reactions: int


@dataclass(frozen=True, slots=True)
class ChangesQuery:
    """§14.14 CHANGES: a conversation's messages with ``rev > since``, in rev order."""

    conversation: str
    since: int
    limit: int


@dataclass(slots=True)
class Decorations:
    """What HISTORY shows beside stored rows: reactions (emoji -> users, by first
    reaction) per message id, and the rows that replies quote, by id."""

    reactions: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    quoted: dict[int, MessageRow] = field(default_factory=dict)

    def add_reaction(self, message_id: int, emoji: str, user: str) -> None:
        self.reactions.setdefault(message_id, {}).setdefault(emoji, []).append(user)


@dataclass(frozen=True, slots=True)
class MessageSearch:
    """§14.15: messages matching ``query`` that ``user`` may read now, newest first.

    ``conversation`` restricts it to one conversation (the caller checked it is readable);
    otherwise every channel ``user`` is a member of and every DM of theirs is searched.
    Only ids below ``before`` (when given); at most ``limit`` rows.
    """

    user: str
    query: SearchQuery
    limit: int
    conversation: str | None = None
    before: int | None = None


def user_key(name: str) -> str:
    """Names are unique case-insensitively (§3); this is the form they are compared in."""
    return name.lower()


def dm_conversation(a: str, b: str) -> str:
    """The one conversation key of a DM, the same from both sides (§3 HISTORY of a DM)."""
    first, second = sorted((user_key(a), user_key(b)))
    return f"@{first}/{second}"
