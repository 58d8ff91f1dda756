"""The ``Store`` interface: everything the node keeps, in plain rows (``rows``).

The node talks to storage only through this interface, so SQLite (the default) and a
scale-out backend are interchangeable.

Durability rule (ArTP §3): every coroutine that writes returns only once its change is
committed, so a caller may acknowledge it to a client right after the ``await``.

Several nodes may share one store (scale-out, docs/SCALE-OUT.md): nothing here may assume
that this process made every change, which is why membership can be read per channel and
per user, and not only loaded once at start-up.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aronanet.server.store.rows import (
    ChannelMembers,
    ChannelRow,
    ConversationQuery,
    ConversationRow,
    DeviceRow,
    DeviceSighting,
    HistoryQuery,
    MessageRow,
    MessageSearch,
    NewMessage,
    UserRow,
)

if TYPE_CHECKING:
    from aronanet.server.metrics import Histogram


class DuplicateUserError(Exception):
    """``create_user`` found a user whose name matches case-insensitively."""


class BackendUnavailableError(Exception):
    """A store or broker service (PostgreSQL, Redis) cannot be reached; the text says where.

    Raised at start-up, so ``aronanet serve`` can refuse to start with one clear line
    instead of a traceback. The text never contains a password.
    """


#: The tasks of ``Store.append_message_then``'s default, held until done (the loop keeps
#: only weak references to tasks).
_appending: set[asyncio.Task[None]] = set()


class Store(ABC):
    """Persistent state of a node. Implementations must be safe to call from one event loop."""

    #: Seconds from each write job's enqueue to its durable commit (``/metrics``); every
    #: implementation sets it in ``__init__`` and observes into it from its writer.
    commit_latency: Histogram

    @property
    @abstractmethod
    def commits(self) -> int:
        """Transactions committed so far by this node (a batch of many jobs counts once)."""

    @abstractmethod
    async def ping(self) -> None:
        """Answer a trivial query through the writer: the node's health check (``/healthz``).

        It waits behind the writes already queued, so it fails when writes would."""

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
    async def load_channel(self, name: str) -> ChannelMembers | None:
        """One channel and its members now, to refresh a node's cache of it (scale-out)."""

    @abstractmethod
    async def channels_of(self, user: str) -> list[str]:
        """The channels ``user`` is a member of, sorted (the ``channels`` of AUTH's OK)."""

    @abstractmethod
    async def join_channel(self, channel: ChannelRow, user: str) -> bool:
        """Create the channel if new (§3: created on first JOIN) and add the member.

        Returns whether the user was added, False if they already were a member (perhaps
        through another node), so that exactly one JOIN event is sent per real change.
        """

    @abstractmethod
    async def part_channel(self, channel: str, user: str) -> None:
        """Remove a member; membership lasts until this is committed (§3)."""

    @abstractmethod
    async def delete_empty_channel(self, channel: str) -> bool:
        """Delete ``channel`` with its history if it has no members, in one transaction;
        returns whether it was deleted (False: someone joined meanwhile, or no channel)."""

    @abstractmethod
    async def set_topic(self, channel: str, topic: str) -> None:
        """Replace a channel's topic."""

    @abstractmethod
    async def append_message(self, message: NewMessage) -> MessageRow:
        """Store a message and return it with its id, once committed (§3 durability)."""

    def append_message_then(
        self,
        message: NewMessage,
        settle: Callable[[Any, BaseException | None], None],
        seen: Callable[[Any], None] | None = None,
    ) -> None:
        """``append_message``, then ``settle(row, None)`` on the loop once durable, or
        ``settle(None, error)``; before that ``seen(row)``, as soon as readers can see the
        row (maybe before it is durable): for the ``MSG`` hot path, which fans out from
        ``seen`` and answers from ``settle``. This default runs a task and calls both
        together; a store with a writer of its own calls them from it (SQLite: ``seen``
        during the flush), saving the task and its future per message."""

        async def append() -> None:
            try:
                row = await self.append_message(message)
            except Exception as exc:
                settle(None, exc)
                return
            if seen is not None:
                seen(row)
            settle(row, None)

        task = asyncio.get_running_loop().create_task(append())
        _appending.add(task)
        task.add_done_callback(_appending.discard)

    @abstractmethod
    async def history(self, query: HistoryQuery) -> list[MessageRow]:
        """Messages of one conversation per ``query``, oldest first."""

    # ------------------------------------------------------------ ArTP/1.1 sync (§14)

    @abstractmethod
    async def set_password_hash(self, user: str, password_hash: str) -> None:
        """Replace the password hash of ``user`` (§14.3 PASSWORD)."""

    @abstractmethod
    async def record_device(self, sighting: DeviceSighting, max_devices: int) -> None:
        """Record or refresh a device; keep at most ``max_devices`` per account by
        forgetting the least recently seen ones."""

    @abstractmethod
    async def device_signed_in(self, user: str, device: str, seen: int, address: str) -> bool:
        """If ``device`` is a recorded device of ``user``, note this sign-in and return True."""

    @abstractmethod
    async def is_device(self, user: str, device: str) -> bool:
        """Whether ``device`` is a recorded device of ``user`` (the login throttle trusts it)."""

    @abstractmethod
    async def devices_of(self, user: str) -> list[DeviceRow]:
        """The devices of ``user``, the most recently seen first."""

    @abstractmethod
    async def rename_device(self, user: str, device: str, name: str) -> bool:
        """Rename a device of ``user``; False if it is not one."""

    @abstractmethod
    async def revoke_device(self, user: str, device: str) -> bool:
        """Forget a device of ``user``; False if it is not one."""

    @abstractmethod
    async def revoke_devices_except(self, user: str, device: str | None) -> None:
        """Forget every device of ``user`` but ``device``."""

    @abstractmethod
    async def conversations(self, query: ConversationQuery) -> list[ConversationRow]:
        """§14.5: joined channels and DM peers of ``query.user``, with counts, in order."""

    @abstractmethod
    async def mark_read(self, user: str, conversation: str, up_to: int) -> tuple[int, bool]:
        """Move the read marker forward to ``up_to`` (never back); return the marker now
        and whether it moved."""

    @abstractmethod
    async def readable_image_attachment(self, user: str, image: str) -> str | None:
        """The attachment JSON of a message carrying ``image`` that ``user`` may read.

        §4 "Only a user who can read a message carrying that image may get it": a member of
        the message's channel (the same rule as HISTORY), or either party of its DM.
        """

    @abstractmethod
    async def uploaded_image_bytes(self, sender: str) -> int:
        """Bytes of the distinct images ``sender`` (as registered) has posted: the quota."""

    @abstractmethod
    async def search(self, search: MessageSearch) -> list[MessageRow]:
        """§14.15: the messages matching ``search``, newest first. The index follows the
        messages table: an edited message is found by its current text only, a deleted one
        (content ``""``) never."""
