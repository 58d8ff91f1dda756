"""The ``Store`` interface: everything the node keeps, in plain rows.

The node talks to storage only through this interface, so SQLite (the default) and a
scale-out backend are interchangeable. Rows are plain frozen dataclasses; no wire type
(``msgspec`` Struct) crosses this boundary, and no backend type leaks out of it.

Durability rule (ArTP §3): every coroutine that writes returns only once its change is
committed, so a caller may acknowledge it to a client right after the ``await``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class DuplicateUserError(Exception):
    """``create_user`` found a user whose name matches case-insensitively."""


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
class NewMessage:
    """A message to store; ``conversation`` is the key its history is read by."""

    conversation: str
    sender: str
    dest_type: str
    dest: str
    content: str
    timestamp: int
    attachment: str | None = None  # JSON text, e.g. an image attachment (§4)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """ArTP §3 HISTORY: the latest ``limit``, or the ``limit`` right before/after an id."""

    conversation: str
    limit: int
    before: int | None = None
    after: int | None = None


def user_key(name: str) -> str:
    """Names are unique case-insensitively (§3); this is the form they are compared in."""
    return name.lower()


def dm_conversation(a: str, b: str) -> str:
    """The one conversation key of a DM, the same from both sides (§3 HISTORY of a DM)."""
    first, second = sorted((user_key(a), user_key(b)))
    return f"@{first}/{second}"


class Store(ABC):
    """Persistent state of a node. Implementations must be safe to call from one event loop."""

    @abstractmethod
    async def open(self) -> None:
        """Create or migrate the schema; must be awaited before any other call."""

    @abstractmethod
    async def close(self) -> None:
        """Commit everything already submitted, then release the backend."""

    @abstractmethod
    async def create_user(self, user: UserRow) -> None:
        """Insert a user; raises ``DuplicateUserError`` if the name is taken (any case)."""

    @abstractmethod
    async def get_user(self, name: str) -> UserRow | None:
        """The user whose name matches ``name`` case-insensitively, if any."""

    @abstractmethod
    async def load_channels(self) -> list[ChannelRow]:
        """Every channel, for the node's in-memory routing state at start-up."""

    @abstractmethod
    async def load_memberships(self) -> list[tuple[str, str]]:
        """Every (channel, user name) pair, with the user's name as registered."""

    @abstractmethod
    async def join_channel(self, channel: ChannelRow, user: str) -> None:
        """Create the channel if new (§3: created on first JOIN) and add the member."""

    @abstractmethod
    async def part_channel(self, channel: str, user: str) -> None:
        """Remove a member; membership lasts until this is committed (§3)."""

    @abstractmethod
    async def set_topic(self, channel: str, topic: str) -> None:
        """Replace a channel's topic."""

    @abstractmethod
    async def append_message(self, message: NewMessage) -> MessageRow:
        """Store a message and return it with its id, once committed (§3 durability)."""

    @abstractmethod
    async def history(self, query: HistoryQuery) -> list[MessageRow]:
        """Messages of one conversation per ``query``, oldest first."""
