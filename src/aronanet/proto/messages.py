"""Every ArTP/1.0 message as a msgspec Struct, tagged by its ``type``.

One Struct per message of the contract (§3, §4), with the contract's constraints as msgspec
``Meta`` so that validation happens once, in C, while decoding. Requests (client to server)
and events/replies (server to client) are two separate tagged unions, because the contract
reuses type names across directions (``MSG``, ``JOIN``, ``PING``, ``IMG_CHUNK``...).

Rules every Struct follows:

* ``version`` is always encoded; a missing ``version`` is accepted on decode (the contract's
  own image examples omit it), any other value than ``"1.0"`` is ``INVALID``.
* Optional fields default to ``UNSET`` and are then left out of the JSON entirely.
* Unknown fields are ignored (the contract says so), so no Struct forbids them.

Extensions to the contract (documented in ``docs/PROTOCOL.md``): ``TOPIC`` and ``LIST``
requests, the ``TOPIC`` event, ``PONG`` from client to server answering a server ``PING``,
``IMG_STATUS`` and the ``start`` field of ``IMG_GET`` for resuming transfers, and
``retry_after_ms``/``transfer`` on ``ERROR``.

ArTP/1.1 (§14): the ``features`` of ``HELLO``; ``AUTH`` without ``password`` (device
sign-in) and with ``device_name``; ``cid`` on ``MSG``; the ``DEVICES``, ``DEVICE_RENAME``,
``DEVICE_REVOKE``, ``PASSWORD``, ``CONVERSATIONS`` and ``READ`` requests with their ``OK``
fields, and the ``READ`` event; ``SEARCH`` and its results (§14.15). The ``lifecycle``
requests and events are in ``lifecycle.py``, the field types shared with it in
``fields.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from aronanet.proto import fields
from aronanet.proto.fields import Base as _Base
from aronanet.proto.fields import (
    ChannelName,
    ChunkIndex,
    ChunkTotal,
    ClientId,
    Content,
    Cursor,
    DeviceId,
    DeviceName,
    FileName,
    HistoryLimit,
    MessageId,
    NonNegative,
    OldPassword,
    Password,
    RequestId,
    Sha256Hex,
    TransferId,
    UserName,
)
from aronanet.proto.fields import (
    DestType as DestType,  # re-exported, like the patterns below
)
from aronanet.proto.fields import check_dest as _check_dest
from aronanet.proto.lifecycle import (
    Changes,
    Delete,
    DeleteEvent,
    Edit,
    EditEvent,
    React,
    Reaction,
    ReactionEvent,
    ReplyQuote,
    Typing,
    TypingEvent,
    Unreact,
)
from aronanet.proto.moderation import (
    AccountRequest,
    Audit,
    AuditEntry,
    Ban,
    BanInfo,
    Block,
    Blocks,
    ChannelInfoRequest,
    Invite,
    Kick,
    MemberRole,
    ModerationEvent,
    Modes,
    Mute,
    SetMode,
    SetRole,
    Token,
    Unban,
)
from aronanet.proto.wording import rule

#: §14.15: a SEARCH answers at most 50 results, 20 unless asked.
SEARCH_LIMIT_MAX: Final = 50
SEARCH_LIMIT_DEFAULT: Final = 20

#: Re-exported for the modules that import them from here (they predate ``fields``).
VERSION = fields.VERSION
USER_PATTERN = fields.USER_PATTERN
CHANNEL_PATTERN = fields.CHANNEL_PATTERN
SHA256_PATTERN = fields.SHA256_PATTERN
NO_CONTROL_PATTERN = fields.NO_CONTROL_PATTERN

# --------------------------------------------------------------------------- requests


class Auth(_Base, frozen=True, tag="AUTH"):
    """§3 AUTH; §14.3: without ``password`` it is a device sign-in (``sync`` sessions)."""

    user: UserName
    password: Password | UnsetType = UNSET
    register: bool = False
    device_name: DeviceName | UnsetType = UNSET
    #: §14.21 (moderation): a registration invitation, or a password reset token.
    invite: Token | UnsetType = UNSET
    reset: Token | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class Join(_Base, frozen=True, tag="JOIN"):
    channel: ChannelName
    id: RequestId | UnsetType = UNSET


class Part(_Base, frozen=True, tag="PART"):
    channel: ChannelName
    id: RequestId | UnsetType = UNSET


class SendMsg(_Base, frozen=True, tag="MSG"):
    """A client's ``MSG`` request; the node answers ``OK`` with ``msg_id`` and ``timestamp``."""

    dest_type: DestType
    dest: str
    content: Content
    cid: ClientId | UnsetType = UNSET
    #: §14.9: the message this one answers (same conversation, readable, not deleted).
    reply_to: MessageId | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_dest(self.dest_type, self.dest)


class History(_Base, frozen=True, tag="HISTORY"):
    dest_type: DestType
    dest: str
    before: MessageId | UnsetType = UNSET
    after: MessageId | UnsetType = UNSET
    #: §14.9: the messages around this id (about half older, half newer).
    around: MessageId | UnsetType = UNSET
    limit: HistoryLimit = 50
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_dest(self.dest_type, self.dest)
        if self.before is not UNSET and self.after is not UNSET:
            raise ValueError("HISTORY takes `before` or `after`, not both")
        if self.around is not UNSET and (self.before is not UNSET or self.after is not UNSET):
            raise ValueError("HISTORY takes `around` alone, without `before` or `after`")


class Topic(_Base, frozen=True, tag="TOPIC"):
    """Extension: set a channel's topic (members only). ``OK`` with ``channel``, ``topic``."""

    channel: ChannelName
    topic: Annotated[str, Meta(max_length=390)]
    id: RequestId | UnsetType = UNSET


class ListChannels(_Base, frozen=True, tag="LIST"):
    """Extension: list the node's channels. ``OK`` with ``channel_list``: the channels
    after ``after`` (by name), as many as fit one message; page until an empty list."""

    after: ChannelName | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class ImgChunk(_Base, frozen=True, tag="IMG_CHUNK"):
    """One chunk of an upload (§4); metadata only on index 0."""

    transfer: TransferId
    index: ChunkIndex
    total: ChunkTotal
    data: str
    dest_type: DestType | UnsetType = UNSET
    dest: str | UnsetType = UNSET
    name: FileName | UnsetType = UNSET
    mime: str | UnsetType = UNSET
    size: NonNegative | UnsetType = UNSET
    sha256: Sha256Hex | UnsetType = UNSET
    content: str | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class ImgStatus(_Base, frozen=True, tag="IMG_STATUS"):
    """Extension: which chunks of an interrupted upload the node holds. ``OK`` ``received``."""

    transfer: TransferId
    id: RequestId | UnsetType = UNSET


class ImgGet(_Base, frozen=True, tag="IMG_GET"):
    """§4 download; ``start`` (extension) resumes from a chunk index."""

    image: Sha256Hex
    start: NonNegative = 0
    id: RequestId | UnsetType = UNSET


class Ping(_Base, frozen=True, tag="PING"):
    """A client's keep-alive probe; the node answers ``PONG`` with ``re``."""

    id: RequestId | UnsetType = UNSET


class Pong(_Base, frozen=True, tag="PONG"):
    """Either direction: the answer to a ``PING``, carrying its id as ``re``."""

    re: str | UnsetType = UNSET


class Devices(_Base, frozen=True, tag="DEVICES"):
    """§14.3: list the account's devices. ``OK`` with ``devices``."""

    id: RequestId | UnsetType = UNSET


class DeviceRename(_Base, frozen=True, tag="DEVICE_RENAME"):
    """§14.3: rename one of the account's devices. ``OK`` with ``device`` and ``name``."""

    device: DeviceId
    name: DeviceName
    id: RequestId | UnsetType = UNSET


class DeviceRevoke(_Base, frozen=True, tag="DEVICE_REVOKE"):
    """§14.3: forget a device and close its sessions at once. ``OK`` with ``device``."""

    device: DeviceId
    id: RequestId | UnsetType = UNSET


class ChangePassword(_Base, frozen=True, tag="PASSWORD"):
    """§14.3: change the password; every OTHER device is revoked. ``OK``."""

    old: OldPassword
    new: Password
    id: RequestId | UnsetType = UNSET


class Conversations(_Base, frozen=True, tag="CONVERSATIONS"):
    """§14.5: every conversation of the user, paged with ``cursor``/``next``."""

    cursor: Cursor | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class MarkRead(_Base, frozen=True, tag="READ"):
    """§14.6: move the read marker of a conversation forward to ``up_to`` (a message id)."""

    dest_type: DestType
    dest: str
    up_to: MessageId
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_dest(self.dest_type, self.dest)


class Search(_Base, frozen=True, tag="SEARCH"):
    """§14.15: messages of readable conversations matching ``query``, newest first.

    ``query`` is checked by the node (``proto.search_query``), so that its refusal can say
    what was wrong with it; ``dest_type``/``dest`` come together or not at all.
    """

    query: str
    dest_type: DestType | UnsetType = UNSET
    dest: str | UnsetType = UNSET
    before: MessageId | UnsetType = UNSET
    limit: int = SEARCH_LIMIT_DEFAULT
    id: RequestId | UnsetType = UNSET

    def __post_init__(self) -> None:
        if (self.dest_type is UNSET) != (self.dest is UNSET):
            raise ValueError("SEARCH takes `dest_type` and `dest` together, or neither")
        if self.dest_type is not UNSET:
            assert isinstance(self.dest, str)
            _check_dest(self.dest_type, self.dest)
        if not 1 <= self.limit <= SEARCH_LIMIT_MAX:
            raise ValueError(f"invalid limit: {rule('search_limit')}")


Request = (
    Auth
    | Join
    | Part
    | SendMsg
    | History
    | Topic
    | ListChannels
    | ImgChunk
    | ImgStatus
    | ImgGet
    | Ping
    | Pong
    | Devices
    | DeviceRename
    | DeviceRevoke
    | ChangePassword
    | Conversations
    | MarkRead
    | Edit
    | Delete
    | React
    | Unreact
    | Typing
    | Changes
    | Search
    | ChannelInfoRequest
    | SetRole
    | Kick
    | Ban
    | Unban
    | Mute
    | SetMode
    | Invite
    | Block
    | Blocks
    | AccountRequest
    | Audit
)

#: Request types a session may send before a successful ``AUTH`` (§3).
PRE_AUTH_REQUESTS: tuple[type[_Base], ...] = (Auth, Ping, Pong)


# ---------------------------------------------------------------------- server to client


class HelloLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The node's real limits, as advertised in ``HELLO``; more keys may follow."""

    max_frame: int = 65535
    max_content: int = 4000
    chunk_size: int = 32768
    max_image: int = 10485760
    max_image_pixels: int | UnsetType = UNSET
    max_history: int | UnsetType = UNSET
    rate_messages_per_second: float | UnsetType = UNSET
    rate_burst: int | UnsetType = UNSET
    #: §14.12: distinct emoji one message may carry.
    max_reactions: int | UnsetType = UNSET


class Hello(_Base, frozen=True, tag="HELLO"):
    """The responder's handshake payload (§2)."""

    node: str
    limits: HelloLimits = msgspec.field(default_factory=HelloLimits)
    #: §14.1: the features of this session (asked AND supported), sorted; always sent by an
    #: AronaNET node, absent (empty) from a node that only speaks 1.0.
    features: list[str] = msgspec.field(default_factory=list)


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    type: Literal["image"] = "image"
    image: Sha256Hex
    name: str
    mime: str
    size: int
    width: int
    height: int


class MsgEvent(_Base, frozen=True, tag="MSG"):
    id: str
    from_: str = field(name="from")
    dest_type: DestType
    dest: str
    content: str
    timestamp: int
    attachment: Attachment | UnsetType = UNSET
    #: §14.4: the sender's client id, when the message was sent with one (ungated).
    cid: str | UnsetType = UNSET
    # §14.9-14.14 (lifecycle; sent to every session, 1.0 clients ignore them)
    reply_to: str | UnsetType = UNSET
    reply: ReplyQuote | UnsetType = UNSET
    edited: int | UnsetType = UNSET
    deleted: int | UnsetType = UNSET
    reactions: list[Reaction] | UnsetType = UNSET
    rev: str | UnsetType = UNSET


class SearchHit(MsgEvent, frozen=True, tag="MSG"):
    """§14.15: one result of ``SEARCH``: the message as ``HISTORY`` has it now, and the
    ``[start, length]`` (code points of ``content``) of every word the query matched."""

    marks: list[list[int]] = msgspec.field(default_factory=list)


class JoinEvent(_Base, frozen=True, tag="JOIN"):
    id: str
    from_: str = field(name="from")
    channel: str
    timestamp: int


class PartEvent(_Base, frozen=True, tag="PART"):
    id: str
    from_: str = field(name="from")
    channel: str
    timestamp: int


class TopicEvent(_Base, frozen=True, tag="TOPIC"):
    """Extension: a channel's topic changed; sent to its members."""

    id: str
    from_: str = field(name="from")
    channel: str
    topic: str
    timestamp: int


class PingEvent(_Base, frozen=True, tag="PING"):
    """The node's keep-alive probe after idle; the client answers ``PONG`` with ``re``."""

    id: str


class ReadEvent(_Base, frozen=True, tag="READ"):
    """§14.6: the user's read marker moved (another session of theirs); ``sync`` only."""

    dest_type: DestType
    dest: str
    read: str
    id: str
    timestamp: int


class DeviceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """§14.3: one device of the account, as ``DEVICES`` lists it."""

    id: str
    name: str
    first_seen: int
    last_seen: int
    address: str
    current: bool


class ConversationInfo(msgspec.Struct, frozen=True, kw_only=True):
    """§14.5: one conversation of the user, as ``CONVERSATIONS`` lists it."""

    dest_type: DestType
    dest: str
    last_id: str | UnsetType = UNSET
    last_timestamp: int | UnsetType = UNSET
    unread: int
    mentions: int
    read: str | UnsetType = UNSET
    #: §14.14: the newest change number in the conversation.
    rev: str | UnsetType = UNSET


class ChannelInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    topic: str
    members: int


class Ok(_Base, frozen=True, tag="OK"):
    """The success reply. Which fields are set depends on the request (see PROTOCOL.md)."""

    re: str | UnsetType = UNSET
    user: str | UnsetType = UNSET
    channels: list[str] | UnsetType = UNSET
    channel: str | UnsetType = UNSET
    topic: str | UnsetType = UNSET
    members: list[str] | UnsetType = UNSET
    #: Extension: the full counts when ``channels`` / ``members`` had to be cut to fit.
    channel_count: int | UnsetType = UNSET
    member_count: int | UnsetType = UNSET
    msg_id: str | UnsetType = UNSET
    timestamp: int | UnsetType = UNSET
    messages: list[MsgEvent] | UnsetType = UNSET
    transfer: str | UnsetType = UNSET
    image: str | UnsetType = UNSET
    received: list[int] | UnsetType = UNSET
    channel_list: list[ChannelInfo] | UnsetType = UNSET
    # §14 (ArTP/1.1)
    device: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    devices: list[DeviceInfo] | UnsetType = UNSET
    duplicate: bool | UnsetType = UNSET
    conversations: list[ConversationInfo] | UnsetType = UNSET
    #: A cursor (CONVERSATIONS) or, for CHANGES, ``true`` when more changes follow.
    next: str | bool | UnsetType = UNSET
    dest_type: DestType | UnsetType = UNSET
    dest: str | UnsetType = UNSET
    read: str | UnsetType = UNSET
    # §14.9-14.14 (lifecycle)
    edited: int | UnsetType = UNSET
    emoji: str | UnsetType = UNSET
    count: int | UnsetType = UNSET
    rev: str | UnsetType = UNSET
    results: list[SearchHit] | UnsetType = UNSET
    # §14.16-14.21 (moderation)
    role: str | UnsetType = UNSET
    modes: Modes | UnsetType = UNSET
    roster: list[MemberRole] | UnsetType = UNSET
    bans: list[BanInfo] | UnsetType = UNSET
    ban_count: int | UnsetType = UNSET
    until: int | UnsetType = UNSET
    blocked: bool | UnsetType = UNSET
    blocks: list[str] | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET
    entries: list[AuditEntry] | UnsetType = UNSET


class Error(_Base, frozen=True, tag="ERROR"):
    code: str
    message: str
    re: str | UnsetType = UNSET
    transfer: str | UnsetType = UNSET
    retry_after_ms: int | UnsetType = UNSET
    #: §14.18: with ``MUTED``, when the mute ends (Unix seconds).
    until: int | UnsetType = UNSET


class PongReply(_Base, frozen=True, tag="PONG"):
    """The node's answer to a client ``PING``."""

    re: str | UnsetType = UNSET


class ImgData(_Base, frozen=True, tag="IMG_CHUNK"):
    """One chunk of a download stream (§4), answering ``IMG_GET`` with ``re``."""

    image: str
    index: int
    total: int
    data: str
    re: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    mime: str | UnsetType = UNSET
    size: int | UnsetType = UNSET
    sha256: str | UnsetType = UNSET


Event = (
    Hello
    | Ok
    | Error
    | MsgEvent
    | JoinEvent
    | PartEvent
    | TopicEvent
    | PingEvent
    | PongReply
    | ImgData
    | ReadEvent
    | EditEvent
    | DeleteEvent
    | ReactionEvent
    | TypingEvent
    | ModerationEvent
)

#: Every message type name a request may carry, for telling ``UNKNOWN_TYPE`` from ``INVALID``.
REQUEST_TYPES: frozenset[str] = frozenset(
    str(cls.__struct_config__.tag) for cls in get_args(Request)
)
EVENT_TYPES: frozenset[str] = frozenset(str(cls.__struct_config__.tag) for cls in get_args(Event))

AnyMessage = Any
