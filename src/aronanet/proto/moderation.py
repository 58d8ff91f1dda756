"""ArTP/1.1 ``moderation`` (§14.16-14.21): running a community.

Requests (accepted from every logged-in session, like every §14 request): ``CHANNEL_INFO``,
``ROLE``, ``KICK``, ``BAN``, ``UNBAN``, ``MUTE``, ``MODE``, ``INVITE``, ``BLOCK``,
``BLOCKS``, and the node admins' ``ACCOUNT`` and ``AUDIT``. ``AUTH`` gains ``invite`` and
``reset`` (``messages.py``). One event, ``MODERATION``, sent only to sessions that
negotiated ``moderation``; a member removed by KICK or BAN is then announced to everyone
with the 1.0 ``PART`` as well.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from aronanet.proto.fields import Base, ChannelName, Cursor, RequestId, UserName

#: §14.18: the longest mute, in seconds (30 days).
MAX_MUTE_SECONDS: Final = 30 * 24 * 3600
#: §14.16: the roles of a channel, strongest first; ``ROLE`` may set the last three.
ROLES: Final = ("owner", "operator", "voiced", "member")
#: §14.20: AUDIT returns at most this many entries per page.
AUDIT_LIMIT_MAX: Final = 200

#: ``owner`` only from a node admin (a channel older than moderation has none, §14.16).
GrantableRole = Literal["owner", "operator", "voiced", "member"]
Reason = Annotated[str, Meta(max_length=390, pattern=r"\A[^\x00-\x1f\x7f-\x9f]*\Z")]
MuteSeconds = Annotated[int, Meta(ge=0, le=MAX_MUTE_SECONDS)]
AuditLimit = Annotated[int, Meta(ge=1, le=AUDIT_LIMIT_MAX)]
AuditCursor = Annotated[str, Meta(pattern=r"\A[0-9]{1,19}\Z")]
#: §14.21: an invitation or reset token as the node printed it (URL-safe base64).
Token = Annotated[str, Meta(min_length=16, max_length=128, pattern=r"\A[A-Za-z0-9_-]+\Z")]
Action = Literal["kick", "ban", "unban", "mute", "unmute", "role", "mode", "invite"]


# --------------------------------------------------------------------------- parts


class Modes(msgspec.Struct, frozen=True, kw_only=True):
    """§14.17: a channel's modes."""

    invite_only: bool = False
    moderated: bool = False
    topic_locked: bool = False


class MemberRole(msgspec.Struct, frozen=True, kw_only=True):
    """§14.16 CHANNEL_INFO: a member, their role, and until when they are muted."""

    user: str
    role: str
    muted_until: int | UnsetType = UNSET


class BanInfo(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    by: str
    reason: str
    at: int


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """§14.20: one moderation or admin action; ``id`` pages with ``AUDIT before``."""

    id: str
    at: int
    by: str
    action: str
    user: str | UnsetType = UNSET
    channel: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET


# --------------------------------------------------------------------------- requests


class ChannelInfoRequest(Base, frozen=True, tag="CHANNEL_INFO"):
    """§14.16: the channel's topic, modes, members with roles; bans for operators. A roster
    longer than one message goes on from ``cursor`` (the ``next`` of the page before)."""

    channel: ChannelName
    cursor: Cursor | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class SetRole(Base, frozen=True, tag="ROLE"):
    channel: ChannelName
    user: UserName
    role: GrantableRole
    id: RequestId | UnsetType = UNSET


class Kick(Base, frozen=True, tag="KICK"):
    channel: ChannelName
    user: UserName
    reason: Reason = ""
    id: RequestId | UnsetType = UNSET


class Ban(Base, frozen=True, tag="BAN"):
    channel: ChannelName
    user: UserName
    reason: Reason = ""
    id: RequestId | UnsetType = UNSET


class Unban(Base, frozen=True, tag="UNBAN"):
    channel: ChannelName
    user: UserName
    id: RequestId | UnsetType = UNSET


class Mute(Base, frozen=True, tag="MUTE"):
    """§14.18: ``seconds`` 0 lifts the mute."""

    channel: ChannelName
    user: UserName
    seconds: MuteSeconds
    reason: Reason = ""
    id: RequestId | UnsetType = UNSET


class SetMode(Base, frozen=True, tag="MODE"):
    """§14.17: only the modes given change."""

    channel: ChannelName
    invite_only: bool | UnsetType = UNSET
    moderated: bool | UnsetType = UNSET
    topic_locked: bool | UnsetType = UNSET
    id: RequestId | UnsetType = UNSET


class Invite(Base, frozen=True, tag="INVITE"):
    channel: ChannelName
    user: UserName
    id: RequestId | UnsetType = UNSET


class Block(Base, frozen=True, tag="BLOCK"):
    user: UserName
    blocked: bool
    id: RequestId | UnsetType = UNSET


class Blocks(Base, frozen=True, tag="BLOCKS"):
    id: RequestId | UnsetType = UNSET


class AccountRequest(Base, frozen=True, tag="ACCOUNT"):
    """§14.20 (node admins): disable or enable an account."""

    user: UserName
    disabled: bool
    id: RequestId | UnsetType = UNSET


class Audit(Base, frozen=True, tag="AUDIT"):
    before: AuditCursor | UnsetType = UNSET
    limit: AuditLimit = 50
    id: RequestId | UnsetType = UNSET


# --------------------------------------------------------------------------- events


class ModerationEvent(Base, frozen=True, tag="MODERATION"):
    """§14.19: what a moderator did; ``moderation`` sessions only."""

    id: str
    action: Action
    channel: str
    by: str
    timestamp: int
    user: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    until: int | UnsetType = UNSET
    modes: Modes | UnsetType = UNSET


ModerationRequest = (
    ChannelInfoRequest
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
