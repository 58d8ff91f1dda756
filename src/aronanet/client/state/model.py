"""The chat client's state as one immutable value: buffers of lines, the link, who we are.

Plain frozen dataclasses, so that a new state shares every unchanged buffer and line with
the previous one and a renderer can tell "unchanged" by identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeAlias

from aronanet.proto.messages import Attachment

#: The key of the status buffer, where Arona talks to the user. ``*`` is never in a name.
STATUS_KEY = "*arona*"
#: Lines kept per buffer; the oldest are dropped beyond it and can be loaded again.
MAX_LINES = 20_000
#: ``/me`` is sent as ordinary content with this prefix, readable by every client.
ACTION_PREFIX = "/me "
#: §3 user name alphabet, used to find whole-word mentions of our name.
NAME_CHARS = "A-Za-z0-9_-"

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
class Quote:
    """ArTP/1.1 §14.9: the message a reply answers, as the node (or this client) last saw it."""

    id: str
    sender: str
    text: str
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Reaction:
    """§14.12: one emoji on a message; ``users`` names at most 10 of the ``count``."""

    emoji: str
    count: int
    users: tuple[str, ...] = ()


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
    #: ArTP/1.1 §14.4: the client message id; it matches our optimistic copy to the node's.
    cid: str = ""
    #: §14.9-14.12 (lifecycle): what this answers, when it was last edited or deleted
    #: (Unix seconds, 0: never) and its reactions in the order they were first given.
    reply: Quote | None = None
    edited: int = 0
    deleted: int = 0
    reactions: tuple[Reaction, ...] = ()

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
    #: ArTP/1.1 §14.6: the user's read marker here, as the node last said it.
    read: str | None = None
    #: §14.14: the newest change number seen here: a catch-up asks ``CHANGES`` after it.
    rev: str | None = None


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
    #: §14.13: who is typing where: buffer key -> {user: when it expires (Unix seconds)}.
    typing: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def current(self) -> Buffer:
        return self.buffers[self.active]


def buffer_key(name: str) -> str:
    """Buffers are keyed case-insensitively: §3 user names are unique ignoring case."""
    return name.casefold()
