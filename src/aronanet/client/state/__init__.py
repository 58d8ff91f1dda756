"""The chat client's state as one immutable value, and the pure reducer that evolves it.

Every user interface (the terminal client today) keeps its state here and only renders it:
``reduce(state, action)`` returns a new ``ChatState`` and never performs I/O, reads a clock
or touches Textual. Effects (sending, loading history, reconnecting) are decided by the
caller, who reads selectors such as ``queued_outgoing`` and reports outcomes back as actions.

Invariants the reducer keeps, whatever order actions arrive in:

* a server message id appears at most once per buffer (dedup across live events, catch-up
  ``HISTORY after`` and scrollback ``HISTORY before``), so reconnects leave no duplicates;
* our own unconfirmed lines are reconciled with the node's copy when it arrives first;
* unread and highlight counts only grow for buffers the user is not looking at.

The package: ``model`` (the values), ``actions``, ``selectors``, ``edits`` (buffer edits the
handlers share) and ``reducer``; everything public is re-exported here.
"""

from aronanet.client.state.actions import (
    Action,
    Activated,
    BufferClosed,
    ChannelJoined,
    ChannelLeft,
    Cleared,
    ConversationsListed,
    EventsReceived,
    HistoryFailed,
    HistoryLoaded,
    LinkConnecting,
    LinkDown,
    LinkUp,
    LoggedIn,
    MessageDeleted,
    MessageEdited,
    MessageQueued,
    MessagesChanged,
    Noted,
    OlderRequested,
    OutboxRestored,
    PendingMessage,
    QueryOpened,
    ReactionChanged,
    ReadMarked,
    RetryRequested,
    SendConfirmed,
    SendFailed,
    SendStarted,
    TopicChanged,
    TypingChanged,
)
from aronanet.client.state.lifecycle import quote_line, typists
from aronanet.client.state.model import (
    ACTION_PREFIX,
    MAX_LINES,
    STATUS_KEY,
    Buffer,
    BufferKind,
    ChatState,
    Delivery,
    Line,
    LineKind,
    Link,
    LinkStatus,
    OlderState,
    Quote,
    Reaction,
    buffer_key,
)
from aronanet.client.state.reducer import reduce
from aronanet.client.state.selectors import (
    failed_lines,
    first_message_id,
    last_message_id,
    last_own_message,
    latest_attachment,
    mentions,
    neighbour,
    newest_message,
    queued_outgoing,
    sidebar_order,
    unread_marker_behind,
)
from aronanet.proto.lifecycle import QUOTE_LENGTH

__all__ = [
    "ACTION_PREFIX",
    "MAX_LINES",
    "QUOTE_LENGTH",
    "STATUS_KEY",
    "Action",
    "Activated",
    "Buffer",
    "BufferClosed",
    "BufferKind",
    "ChannelJoined",
    "ChannelLeft",
    "ChatState",
    "Cleared",
    "ConversationsListed",
    "Delivery",
    "EventsReceived",
    "HistoryFailed",
    "HistoryLoaded",
    "Line",
    "LineKind",
    "Link",
    "LinkConnecting",
    "LinkDown",
    "LinkStatus",
    "LinkUp",
    "LoggedIn",
    "MessageDeleted",
    "MessageEdited",
    "MessageQueued",
    "MessagesChanged",
    "Noted",
    "OlderRequested",
    "OlderState",
    "OutboxRestored",
    "PendingMessage",
    "QueryOpened",
    "Quote",
    "Reaction",
    "ReactionChanged",
    "ReadMarked",
    "RetryRequested",
    "SendConfirmed",
    "SendFailed",
    "SendStarted",
    "TopicChanged",
    "TypingChanged",
    "buffer_key",
    "failed_lines",
    "first_message_id",
    "last_message_id",
    "last_own_message",
    "latest_attachment",
    "mentions",
    "neighbour",
    "newest_message",
    "queued_outgoing",
    "quote_line",
    "reduce",
    "sidebar_order",
    "typists",
    "unread_marker_behind",
]
