"""Limits and settings: the ArTP defaults as one frozen object, and the node's settings.

Every limit the node enforces lives in ``Limits`` so that it is configurable in one place,
advertised truthfully in ``HELLO`` and tested at its edge.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

#: ArTP/1.0 §1: a frame is 1..65535 bytes, the Noise message limit including the AEAD tag.
MAX_FRAME = 65535
#: §3: a plaintext is at most 65519 bytes (65535 minus the 16-byte tag).
MAX_PLAINTEXT = MAX_FRAME - 16
#: §2: a handshake that has not finished in 10 s ends with the connection closed.
HANDSHAKE_TIMEOUT = 10.0
DEFAULT_TCP_PORT = 7777
DEFAULT_WS_PORT = 7778
WS_PATH = "/artp"
WS_SUBPROTOCOL = "artp.1"
PROLOGUE = b"ArTP/1.0"
#: Contract §3: a HISTORY ``limit`` outside 1-200 is INVALID, so a node never promises more
#: (``max_history`` is advertised in HELLO and must be a limit a client may ask for).
HISTORY_LIMIT_MAX = 200


# The constrained types of settings. The configuration schema (server/settings.py) checks
# every value against them, and its error lines state the range, so a limit that would make
# the node refuse every request (``max_content = -5``) stops the start instead.

#: A count or a size that must allow at least one of something.
Positive = Annotated[int, Meta(ge=1)]
#: A duration in seconds, or a rate per second.
PositiveFloat = Annotated[float, Meta(gt=0)]
#: A duration where 0 means "never".
NonNegativeFloat = Annotated[float, Meta(ge=0)]
#: A frame must hold the handshake's HELLO, so it cannot be tiny (§1: at most 65535).
FrameSize = Annotated[int, Meta(ge=1024, le=MAX_FRAME)]
#: An image chunk's base64 must fit one frame with its JSON envelope (§10).
ChunkSize = Annotated[int, Meta(ge=256, le=48 * 1024)]


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every limit a node enforces; the defaults are the contract's.

    Adding a limit is one line: a name, a constrained type and its default; the ``[limits]``
    table of the configuration file accepts it and checks its range at once.
    """

    max_frame: FrameSize = MAX_FRAME
    max_content: Annotated[int, Meta(ge=1, le=MAX_PLAINTEXT)] = 4000
    chunk_size: ChunkSize = 32768
    max_image: Positive = 10 * 1024 * 1024
    max_image_pixels: Positive = 40_000_000
    max_history: Annotated[int, Meta(ge=1, le=HISTORY_LIMIT_MAX)] = HISTORY_LIMIT_MAX
    handshake_timeout: PositiveFloat = HANDSHAKE_TIMEOUT
    idle_ping_after: PositiveFloat = 60.0
    idle_close_after: PositiveFloat = 90.0
    #: Open connections (TCP and WebSocket together) from one address, an IPv6 one's /64
    #: counting as one; and on the whole node, so idle sessions (~10 KiB each) and file
    #: descriptors stay bounded however many addresses connect.
    max_connections_per_address: Positive = 64
    max_connections: Positive = 10_000
    #: A session's unsent output: messages (WebSocket) and bytes (both transports); and the
    #: node's, over every session holding more than 64 KiB (``transport.budget``).
    max_outgoing_queue: Positive = 4096
    max_outgoing_bytes: Positive = 4 * 1024 * 1024
    max_outgoing_bytes_per_node: Positive = 256 * 1024 * 1024
    max_transfers_per_session: Positive = 4
    transfer_timeout: PositiveFloat = 120.0
    upload_quota_bytes: Positive = 512 * 1024 * 1024
    #: Uploads in progress, and the bytes they declared (their partial files on disk). The
    #: per-user ones (and the quota) count every node's uploads on a PostgreSQL store.
    max_uploads_per_user: Positive = 8
    max_uploads_per_node: Positive = 256
    max_upload_bytes_per_user: Positive = 64 * 1024 * 1024
    max_upload_bytes_per_node: Positive = 1024 * 1024 * 1024
    #: Memory for the outcomes of ended uploads, remembered for ``IMG_STATUS`` and late
    #: chunks: the oldest are forgotten first beyond these.
    upload_memory_per_user: Positive = 64 * 1024
    upload_memory_per_node: Positive = 8 * 1024 * 1024
    rate_messages_per_second: PositiveFloat = 5.0
    rate_burst: Positive = 20
    rate_limit_enabled: bool = True
    #: Channels one user may be a member of, and how fast one user may create channels.
    max_channels_per_user: Positive = 500
    channel_creation_burst: Positive = 10
    channel_creations_per_second: PositiveFloat = 1 / 60
    #: Seconds a channel may stay without members before it is deleted with its history
    #: (0: never). Channels cost memory, disk and every user's ``LIST``.
    empty_channel_ttl: NonNegativeFloat = 7 * 24 * 3600
    #: §14.3: devices remembered per account; past it the least recently seen is forgotten.
    max_devices: Positive = 100
    #: §14.5: conversations one CONVERSATIONS reply lists at most (fewer if the frame fills).
    conversations_page: Annotated[int, Meta(ge=1, le=100_000)] = 256
    #: §14.12: distinct emoji one message may carry (advertised in HELLO).
    max_reactions: Annotated[int, Meta(ge=1, le=1000)] = 20
    #: §14.10: keep the texts an edit replaced, for operators (no protocol access).
    keep_edit_history: bool = False
    #: §14.13: a ``typing: true`` is relayed at most once per this many seconds per user and
    #: conversation; a relayed one holds for twice as long (``expires_ms``).
    typing_interval: PositiveFloat = 3.0
    #: §14.13: TYPING requests one session may send (a budget apart from MSG's tokens);
    #: with a Redis broker also one account, on all nodes together.
    typing_per_second: PositiveFloat = 2.0
    typing_burst: Positive = 10
    #: §14.15: searches per session: a burst, then one per 1 / ``searches_per_second``
    #: seconds (5 per 10 s); with a Redis broker also per account, on all nodes together.
    #: Off with ``rate_limit_enabled``, like the session's rate.
    search_burst: Positive = 5
    searches_per_second: PositiveFloat = 0.5

    def __post_init__(self) -> None:
        # A reply of one full frame must fit the backlog with room for events around it.
        if self.max_outgoing_bytes < 2 * self.max_frame:
            raise ValueError(
                f"max_outgoing_bytes {self.max_outgoing_bytes} is below twice max_frame "
                f"({2 * self.max_frame})"
            )
        if self.max_outgoing_bytes_per_node < self.max_outgoing_bytes:
            raise ValueError(
                f"max_outgoing_bytes_per_node {self.max_outgoing_bytes_per_node} is below "
                f"max_outgoing_bytes ({self.max_outgoing_bytes})"
            )
