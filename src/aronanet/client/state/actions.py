"""What can happen to the chat state: one frozen dataclass per kind of action.

The session and the UI describe what they learned or what the user did as one of these and
hand it to ``reduce``; none of them carries behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from aronanet.client.state.model import Quote
from aronanet.proto.messages import ConversationInfo, JoinEvent, MsgEvent, PartEvent, TopicEvent
from aronanet.proto.moderation import ModerationEvent


@dataclass(frozen=True, slots=True)
class LinkConnecting:
    address: str
    attempt: int


@dataclass(frozen=True, slots=True)
class LinkUp:
    node: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class LinkDown:
    reason: str
    retry_in: float | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class LoggedIn:
    user: str
    channels: tuple[str, ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class ChannelJoined:
    channel: str
    topic: str
    members: tuple[str, ...]
    timestamp: int
    activate: bool = False


@dataclass(frozen=True, slots=True)
class ChannelLeft:
    channel: str


@dataclass(frozen=True, slots=True)
class EventsReceived:
    """Live server events, batched per frame so a busy channel costs one render."""

    events: tuple[MsgEvent | JoinEvent | PartEvent | TopicEvent, ...]


@dataclass(frozen=True, slots=True)
class OlderRequested:
    key: str


@dataclass(frozen=True, slots=True)
class HistoryLoaded:
    """A ``HISTORY`` reply: ``before`` (scrollback), ``after`` (catch-up) or neither (latest).

    It carries no ``limit`` on purpose: the node trims a page to fit one frame, so how full
    a page is says nothing about the end of history; only an empty page does.
    """

    key: str
    messages: tuple[MsgEvent, ...]
    before: str | None = None
    after: str | None = None
    #: ArTP/1.1 §14.9: a page centred on this id (a jump to a quoted or found message).
    around: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryFailed:
    key: str


@dataclass(frozen=True, slots=True)
class Activated:
    key: str


@dataclass(frozen=True, slots=True)
class QueryOpened:
    """A private conversation with ``user`` (made if new); shown unless ``activate`` is False
    (``/msg`` sends without leaving the current buffer, as irssi and WeeChat do)."""

    user: str
    activate: bool = True


@dataclass(frozen=True, slots=True)
class BufferClosed:
    key: str


@dataclass(frozen=True, slots=True)
class Cleared:
    key: str


@dataclass(frozen=True, slots=True)
class MessageQueued:
    key: str
    content: str
    timestamp: int
    #: ArTP/1.1 §14.4: the outbox entry's client message id ("" without an outbox).
    cid: str = ""
    #: §14.9: the message this one answers, as shown above it until the node's copy comes.
    reply: Quote | None = None


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """An outbox entry found at start: typed before a restart, not yet confirmed."""

    dest_type: Literal["channel", "user"]
    dest: str
    content: str
    timestamp: int
    cid: str
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class OutboxRestored:
    """The outbox's entries, shown as pending lines in their buffers (typed order)."""

    messages: tuple[PendingMessage, ...]


@dataclass(frozen=True, slots=True)
class ConversationsListed:
    """ArTP/1.1 §14.5: every conversation of the user; a buffer for each, with its marker.

    ``counts`` also takes the node's unread and mention counts (after the catch-up, so the
    catch-up's messages are not counted twice)."""

    conversations: tuple[ConversationInfo, ...]
    counts: bool = False


@dataclass(frozen=True, slots=True)
class ReadMarked:
    """§14.6: the read marker of a conversation is now ``read`` (ours or another device's)."""

    dest_type: str
    dest: str
    read: str


@dataclass(frozen=True, slots=True)
class SendStarted:
    line_id: str


@dataclass(frozen=True, slots=True)
class SendConfirmed:
    line_id: str
    msg_id: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class SendFailed:
    line_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RetryRequested:
    """The user asked (``/retry``, Ctrl+R) to send ``key``'s failed lines again."""

    key: str


@dataclass(frozen=True, slots=True)
class Noted:
    """A line from Arona: in ``key``'s buffer, or the active one when ``key`` is None."""

    text: str
    timestamp: int
    key: str | None = None
    error: bool = False


@dataclass(frozen=True, slots=True)
class TopicChanged:
    channel: str
    topic: str


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """ArTP/1.1 §14.10: message ``msg_id`` now reads ``content`` (an ``EDIT`` event, or the
    ``OK`` of our own edit: this session gets no event for it)."""

    msg_id: str
    content: str
    edited: int


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """§14.11: message ``msg_id`` is a tombstone now; its text, image and reactions are gone."""

    msg_id: str
    deleted: int


@dataclass(frozen=True, slots=True)
class ReactionChanged:
    """§14.12: ``user`` added (or removed) ``emoji`` on ``msg_id``; ``count`` is the node's."""

    msg_id: str
    emoji: str
    user: str
    added: bool
    count: int


@dataclass(frozen=True, slots=True)
class MessagesChanged:
    """§14.14: a ``CHANGES`` page: the current state of messages changed since a rev."""

    messages: tuple[MsgEvent, ...]


@dataclass(frozen=True, slots=True)
class TypingChanged:
    """§14.13: ``user`` is typing (until ``expires_at``, Unix seconds) or stopped, in the
    conversation of a ``TYPING`` event (``dest`` is the recipient, as for a DM ``MSG``).
    ``now`` lets the reducer forget entries that expired meanwhile, without a clock."""

    dest_type: str
    dest: str
    user: str
    typing: bool
    expires_at: float
    now: float


@dataclass(frozen=True, slots=True)
class RosterLoaded:
    """§14.16 ``CHANNEL_INFO``, every page: each member's role, and the channel's modes."""

    channel: str
    roles: tuple[tuple[str, str], ...]
    modes: frozenset[str]


@dataclass(frozen=True, slots=True)
class ModerationReceived:
    """§14.19: a ``MODERATION`` event, with the sentence the UI shows for it."""

    event: ModerationEvent
    text: str


@dataclass(frozen=True, slots=True)
class BlocksLoaded:
    """§14.19: the users this account blocks now (after ``BLOCKS`` or a ``BLOCK``)."""

    users: tuple[str, ...]


Action: TypeAlias = (
    LinkConnecting
    | LinkUp
    | LinkDown
    | LoggedIn
    | ChannelJoined
    | ChannelLeft
    | EventsReceived
    | OlderRequested
    | HistoryLoaded
    | HistoryFailed
    | Activated
    | QueryOpened
    | BufferClosed
    | Cleared
    | MessageQueued
    | SendStarted
    | SendConfirmed
    | SendFailed
    | RetryRequested
    | Noted
    | TopicChanged
    | OutboxRestored
    | ConversationsListed
    | ReadMarked
    | MessageEdited
    | MessageDeleted
    | ReactionChanged
    | TypingChanged
    | MessagesChanged
    | RosterLoaded
    | ModerationReceived
    | BlocksLoaded
)
