"""ArTP/1.1 ``lifecycle`` (§14.9-14.14): messages that live after they are sent.

Requests (accepted from every logged-in session): ``EDIT``, ``DELETE``, ``REACT``,
``UNREACT``, ``TYPING`` and ``CHANGES``; ``reply_to`` on ``MSG`` and ``around`` on
``HISTORY`` are fields of those messages (``messages.py``). Events (sent only to sessions
that negotiated ``lifecycle``): ``EDIT``, ``DELETE``, ``REACTION`` and ``TYPING``. The
``reply`` quote and the ``reactions`` summary are parts of a ``MSG`` that everyone gets.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from aronanet.proto.fields import (
    Base,
    Content,
    DestType,
    HistoryLimit,
    MessageId,
    RequestId,
    check_dest,
)

#: §14.9: a ``reply`` quotes at most this many code points of the replied message.
QUOTE_LENGTH: Final = 140
#: §14.12: ``users`` of a reaction names at most this many reactors (``count`` is exact).
REACTION_USERS: Final = 10
#: §14.13: how long a ``typing: true`` holds without news, and how often it is relayed.
TYPING_EXPIRES_MS: Final = 6000
#: §14.14: a change number, as a decimal string like message ids.
Rev = Annotated[str, Meta(pattern=r"\A[0-9]{1,19}\Z")]
#: Bounds a reaction's text on the wire; the emoji rule itself (``emoji.py``) is the node's.
EmojiText = Annotated[str, Meta(min_length=1, max_length=64)]


# --------------------------------------------------------------------------- parts of MSG


class ReplyQuote(msgspec.Struct, frozen=True, kw_only=True):
    """§14.9: the message a reply answers, as it is NOW (``content`` "" once deleted)."""

    id: str
    from_: str = field(name="from")
    content: str
    deleted: bool | UnsetType = UNSET


class Reaction(msgspec.Struct, frozen=True, kw_only=True):
    """§14.12: one emoji on a message: how many users chose it and (some of) who."""

    emoji: str
    count: int
    users: list[str]


# --------------------------------------------------------------------------- requests


class Edit(Base, frozen=True, tag="EDIT"):
    """§14.10: replace the text of one's own message. ``OK`` with ``msg_id``, ``edited``."""

    msg_id: MessageId
    content: Content
    id: RequestId | UnsetType = UNSET


class Delete(Base, frozen=True, tag="DELETE"):
    """§14.11: delete one's own message, leaving a tombstone. ``OK`` with ``msg_id``."""

    msg_id: MessageId
    id: RequestId | UnsetType = UNSET


class React(Base, frozen=True, tag="REACT"):
    """§14.12: add the user's reaction. ``OK`` with ``msg_id``, ``emoji``, ``count``."""

    msg_id: MessageId
    emoji: EmojiText
    id: RequestId | UnsetType = UNSET


class Unreact(Base, frozen=True, tag="UNREACT"):
    """§14.12: take the user's reaction back. ``OK`` as ``REACT``."""

    msg_id: MessageId
    emoji: EmojiText
    id: RequestId | UnsetType = UNSET


class Typing(Base, frozen=True, tag="TYPING"):
    """§14.13: the user is (or stopped) typing in a conversation. ``OK``; never stored."""

    dest_type: DestType
    dest: str
    typing: bool
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_dest(self.dest_type, self.dest)


class Changes(Base, frozen=True, tag="CHANGES"):
    """§14.14: the messages of a conversation changed (or new) after ``since``, rev order.
    ``OK`` with ``messages``, ``rev`` and, when there is more, ``next: true``."""

    dest_type: DestType
    dest: str
    since: Rev
    limit: HistoryLimit = 50
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_dest(self.dest_type, self.dest)


# --------------------------------------------------------------------------- events


class EditEvent(Base, frozen=True, tag="EDIT"):
    """§14.10: a message's text changed; ``lifecycle`` sessions only."""

    id: str
    msg_id: str
    from_: str = field(name="from")
    dest_type: DestType
    dest: str
    content: str
    edited: int
    timestamp: int
    rev: str | UnsetType = UNSET


class DeleteEvent(Base, frozen=True, tag="DELETE"):
    """§14.11: a message was deleted (``from``: who deleted it); ``lifecycle`` only."""

    id: str
    msg_id: str
    from_: str = field(name="from")
    dest_type: DestType
    dest: str
    timestamp: int
    rev: str | UnsetType = UNSET


class ReactionEvent(Base, frozen=True, tag="REACTION"):
    """§14.12: ``from`` added (``added``) or removed a reaction; ``count`` is the total now."""

    id: str
    msg_id: str
    from_: str = field(name="from")
    emoji: str
    added: bool
    count: int
    dest_type: DestType
    dest: str
    timestamp: int
    rev: str | UnsetType = UNSET


class TypingEvent(Base, frozen=True, tag="TYPING"):
    """§14.13: ``from`` is typing (until ``expires_ms`` passes) or stopped."""

    id: str
    from_: str = field(name="from")
    dest_type: DestType
    dest: str
    typing: bool
    expires_ms: int
    timestamp: int


LifecycleRequest = Edit | Delete | React | Unreact | Typing | Changes
LifecycleEvent = EditEvent | DeleteEvent | ReactionEvent | TypingEvent
