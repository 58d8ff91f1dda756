"""The ``Store`` interface: everything the node keeps, in plain rows.

The node talks to storage only through this interface, so SQLite (the default) and a
scale-out backend are interchangeable. Rows are plain frozen dataclasses; no wire type
(``msgspec`` Struct) crosses this boundary, and no backend type leaks out of it.

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
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from aronanet.proto.search_query import SearchQuery

if TYPE_CHECKING:
    from aronanet.server.metrics import Histogram


class DuplicateUserError(Exception):
    """``create_user`` found a user whose name matches case-insensitively."""


class BackendUnavailableError(Exception):
    """A store or broker service (PostgreSQL, Redis) cannot be reached; the text says where.

    Raised at start-up, so ``aronanet serve`` can refuse to start with one clear line
    instead of a traceback. The text never contains a password.
    """


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


#: §14.5: unread and mention counts stop here.
UNREAD_CAP = 9999


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
        self, message: NewMessage, settle: Callable[[Any, BaseException | None], None]
    ) -> None:
        """``append_message``, then ``settle(row, None)`` on the loop once committed, or
        ``settle(None, error)``: for the ``MSG`` hot path, which answers from ``settle``.
        This default runs a task; a store with a writer of its own calls ``settle`` from it
        (SQLite), saving the task and its future per message."""

        async def append() -> None:
            try:
                row = await self.append_message(message)
            except Exception as exc:
                settle(None, exc)
            else:
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


def conversations_statement(param: Callable[[str], str], collate: str = "") -> str:
    """§14.5 CONVERSATIONS as ONE statement for both backends; ``param(name)`` is a named
    parameter marker (``:name``, ``%(name)s``), ``collate`` makes names compare bytewise
    (PostgreSQL: ``COLLATE "C"``; SQLite does by default), the same order on both backends.
    Parameters: ``conversations_parameters``.

    Every count is a range of an index (``messages_by_conversation``, the ``mentions``
    primary key) capped at ``UNREAD_CAP`` rows, so a huge backlog costs no more than that.
    A deleted message (a tombstone) is not unread.
    """
    user, name = param("user"), param("name")
    after_type, after_key, limit = param("after_type"), param("after_key"), param("limit")
    unread_since = "m.id > COALESCE(r.message_id, 0) AND m.deleted IS NULL"
    return f"""
    WITH convs AS (
        SELECT 'channel' AS dest_type, channel AS dest, channel AS sort_key,
               channel AS conversation
          FROM memberships WHERE user_key = {user}
        UNION ALL
        SELECT 'user', peer, peer_key, conversation FROM dm_peers WHERE user_key = {user}
    ), page AS (
        SELECT * FROM convs
         WHERE dest_type > {after_type}
            OR (dest_type = {after_type} AND sort_key{collate} > {after_key})
         ORDER BY dest_type, sort_key{collate} LIMIT {limit}
    ), latest AS (
        SELECT page.*, (SELECT MAX(id) FROM messages m
                         WHERE m.conversation = page.conversation) AS last_id
          FROM page
    )
    SELECT c.dest_type, c.dest, c.sort_key, c.last_id,
           (SELECT timestamp FROM messages m WHERE m.id = c.last_id) AS last_timestamp,
           r.message_id,
           (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
              WHERE m.conversation = c.conversation AND {unread_since} AND m.sender <> {name}
              LIMIT {UNREAD_CAP}) AS capped),
           (SELECT COUNT(*) FROM (SELECT 1 FROM mentions m
              WHERE m.user_key = {user} AND m.conversation = c.conversation
                AND m.message_id > COALESCE(r.message_id, 0)
              LIMIT {UNREAD_CAP}) AS capped),
           (SELECT MAX(rev) FROM messages m WHERE m.conversation = c.conversation)
      FROM latest c
      LEFT JOIN read_markers r ON r.user_key = {user} AND r.conversation = c.conversation
     ORDER BY c.dest_type, c.sort_key{collate}
    """


def conversations_parameters(query: ConversationQuery) -> dict[str, str | int]:
    """The named parameters of ``conversations_statement``; ("", "") sorts before all."""
    after_type, after_key = query.after or ("", "")
    return {
        "user": user_key(query.user),
        "name": query.user,
        "after_type": after_type,
        "after_key": after_key,
        "limit": query.limit,
    }


#: §14.15: the conversations a user can read now, as one sub-query (parameter ``user``).
READABLE_CONVERSATIONS = """
    SELECT channel FROM memberships WHERE user_key = {user}
    UNION ALL SELECT conversation FROM dm_peers WHERE user_key = {user}
"""


def history_statement(query: HistoryQuery, mark: str) -> tuple[str, tuple[str | int, ...], bool]:
    """§3 HISTORY as SQL for a backend whose parameter marker is ``mark`` (``?``, ``%s``).

    Returns the statement, its arguments, and whether the rows come newest first (the
    caller then reverses them): "always oldest first", but the ``limit`` rows next to the
    anchor, or the latest ``limit`` without one.
    """
    base = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = {mark}"
    if query.around is not None:  # the newer half; ``around_statement`` gives the older
        sql = f"{base} AND id >= {mark} ORDER BY id ASC LIMIT {mark}"
        return sql, (query.conversation, query.around, query.limit), False
    if query.after is not None:
        sql = f"{base} AND id > {mark} ORDER BY id ASC LIMIT {mark}"
        return sql, (query.conversation, query.after, query.limit), False
    if query.before is not None:
        sql = f"{base} AND id < {mark} ORDER BY id DESC LIMIT {mark}"
        return sql, (query.conversation, query.before, query.limit), True
    sql = f"{base} ORDER BY id DESC LIMIT {mark}"
    return sql, (query.conversation, query.limit), True


def around_statement(query: HistoryQuery, mark: str) -> tuple[str, tuple[str | int, ...]]:
    """§14.9 HISTORY ``around``: the older side (newest first); the newer side (the anchor
    and after) is ``history_statement``'s. ``centre`` picks from both."""
    assert query.around is not None
    sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = {mark} "
        f"AND id < {mark} ORDER BY id DESC LIMIT {mark}"
    )
    return sql, (query.conversation, query.around, query.limit)


def centre(older: list[MessageRow], newer: list[MessageRow], limit: int) -> list[MessageRow]:
    """At most ``limit`` rows around an anchor, oldest first: ``limit // 2`` of the
    ``older`` (newest first) and the rest of the ``newer`` (oldest first, from the anchor),
    a short side's share going to the other."""
    want_older = limit // 2
    want_newer = limit - want_older
    if len(newer) < want_newer:
        want_older += want_newer - len(newer)
    if len(older) < want_older:
        want_newer += want_older - len(older)
    return older[:want_older][::-1] + newer[:want_newer]
