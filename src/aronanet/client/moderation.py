"""ArTP/1.1 ``moderation`` (§14.16): a channel's details as a UI wants them.

The requests themselves are ``ArtpClient``'s (``kick``, ``ban``, ``mute``, ``set_role``,
``set_modes``, ``invite``, ``block``, ``blocks``, ``channel_info``); this module turns the
``OK`` of ``CHANNEL_INFO`` into one typed value, so that no UI reads its optional fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import UNSET

from aronanet.client.connection import ArtpClient
from aronanet.proto.moderation import BanInfo, MemberRole, Modes


@dataclass(frozen=True, slots=True)
class ChannelDetails:
    """§14.16 ``CHANNEL_INFO``: what a member (and, for ``bans``, an operator) may see."""

    channel: str
    topic: str
    modes: Modes
    roster: tuple[MemberRole, ...]
    #: The newest bans (the node sends those that fit half a message), oldest first.
    bans: tuple[BanInfo, ...]
    #: How many bans there are in all.
    ban_count: int


async def channel_details(client: ArtpClient, channel: str) -> ChannelDetails:
    """§14.16: topic, modes, every member with their role (page after page, while the node
    says ``next``), and bans, for operators."""
    ok = await client.channel_info(channel)
    roster = [] if ok.roster is UNSET else list(ok.roster)
    page = ok
    while isinstance(page.next, str) and page.roster:
        page = await client.channel_info(channel, page.next)
        roster += [] if page.roster is UNSET else page.roster
    return ChannelDetails(
        channel=ok.channel if isinstance(ok.channel, str) else channel,
        topic=ok.topic if isinstance(ok.topic, str) else "",
        modes=ok.modes if isinstance(ok.modes, Modes) else Modes(),
        roster=tuple(roster),
        bans=() if ok.bans is UNSET else tuple(ok.bans),
        ban_count=ok.ban_count if isinstance(ok.ban_count, int) else len(ok.bans or ()),
    )
