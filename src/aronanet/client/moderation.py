"""ArTP/1.1 ``moderation`` requests (§14.16-14.21), as functions of a live ``ArtpClient``.

Like ``sync``, these sit beside the client rather than in it: a UI that moderates imports
them; the ``MODERATION`` events themselves arrive through ``ArtpClient.events()`` on a
session that negotiated ``moderation`` (``CLIENT_FEATURES`` asks for it). A refusal is a
``NodeError`` whose code names the missing standing (``NOT_OPERATOR``, ``NOT_OWNER``...);
``moderation_words.explain`` says it in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msgspec import UNSET

from aronanet.client.connection import ArtpClient, build_request
from aronanet.client.state.moderation import MODE_NAMES
from aronanet.proto import messages
from aronanet.proto.moderation import (
    Ban,
    BanInfo,
    Block,
    Blocks,
    ChannelInfoRequest,
    Invite,
    Kick,
    MemberRole,
    Modes,
    Mute,
    SetMode,
    SetRole,
    Unban,
)


@dataclass(frozen=True, slots=True)
class ChannelDetails:
    """§14.16 ``CHANNEL_INFO``: what a member (and, for ``bans``, an operator) may see."""

    channel: str
    topic: str
    modes: Modes
    roster: tuple[MemberRole, ...]
    bans: tuple[BanInfo, ...]


def is_moderating(client: ArtpClient) -> bool:
    """True when ``MODERATION`` events reach this session (the requests work either way)."""
    return "moderation" in client.features


async def channel_info(client: ArtpClient, channel: str) -> ChannelDetails:
    """§14.16: topic, modes, members with roles (and bans, for operators)."""
    ok = await client.request(build_request(ChannelInfoRequest, channel=channel))
    return ChannelDetails(
        channel=ok.channel if isinstance(ok.channel, str) else channel,
        topic=ok.topic if isinstance(ok.topic, str) else "",
        modes=ok.modes if isinstance(ok.modes, Modes) else Modes(),
        roster=() if ok.roster is UNSET else tuple(ok.roster),
        bans=() if ok.bans is UNSET else tuple(ok.bans),
    )


async def set_role(client: ArtpClient, channel: str, user: str, role: str) -> messages.Ok:
    """§14.16 ``ROLE``: ``operator``, ``voiced`` or ``member`` (which takes a role away)."""
    return await client.request(build_request(SetRole, channel=channel, user=user, role=role))


async def kick(client: ArtpClient, channel: str, user: str, reason: str = "") -> messages.Ok:
    """§14.18 ``KICK``: remove a member; they may JOIN again (unless invite-only)."""
    return await client.request(build_request(Kick, channel=channel, user=user, reason=reason))


async def ban(client: ArtpClient, channel: str, user: str, reason: str = "") -> messages.Ok:
    """§14.18 ``BAN``: remove a member (or keep out a non-member) until ``UNBAN``."""
    return await client.request(build_request(Ban, channel=channel, user=user, reason=reason))


async def unban(client: ArtpClient, channel: str, user: str) -> messages.Ok:
    return await client.request(build_request(Unban, channel=channel, user=user))


async def mute(
    client: ArtpClient, channel: str, user: str, seconds: int, reason: str = ""
) -> messages.Ok:
    """§14.18 ``MUTE`` for ``seconds`` (0 lifts it); ``OK`` carries ``until``."""
    return await client.request(
        build_request(Mute, channel=channel, user=user, seconds=seconds, reason=reason)
    )


async def set_modes(client: ArtpClient, channel: str, changes: dict[str, bool]) -> Modes:
    """§14.17 ``MODE``: only the modes in ``changes`` change; returns all of them after."""
    fields: dict[str, Any] = {name: changes[name] for name in MODE_NAMES if name in changes}
    ok = await client.request(build_request(SetMode, channel=channel, **fields))
    return ok.modes if isinstance(ok.modes, Modes) else Modes()


async def invite(client: ArtpClient, channel: str, user: str) -> messages.Ok:
    """§14.17 ``INVITE``: let ``user`` JOIN an invite-only channel once."""
    return await client.request(build_request(Invite, channel=channel, user=user))


async def block(client: ArtpClient, user: str, blocked: bool = True) -> messages.Ok:
    """§14.19 ``BLOCK``: their DMs are refused; this client hides their channel messages."""
    return await client.request(build_request(Block, user=user, blocked=blocked))


async def blocks(client: ArtpClient) -> list[str]:
    """§14.19 ``BLOCKS``: the users this account blocks."""
    ok = await client.request(Blocks())
    return [] if ok.blocks is UNSET else list(ok.blocks)
