"""The Python client library's ``moderation`` (§14.16-14.20) against a real node: the
``ArtpClient`` requests, their refusals as ``ClientError`` codes, and the events."""

from __future__ import annotations

import pytest
from client_support import NodeProcess, unique_name
from test_sync_session import peer

from aronanet.errors import ClientError
from aronanet.proto.messages import PartEvent
from aronanet.proto.moderation import ModerationEvent


async def test_the_client_moderates(node: NodeProcess) -> None:
    channel = f"#{unique_name('c')}"
    owner_name, guest_name = unique_name("ow"), unique_name("gu")
    owner, guest = await peer(node, owner_name), await peer(node, guest_name)
    try:
        assert owner.moderation and guest.moderation
        assert (await owner.join(channel)).role == "owner"
        await guest.join(channel)
        info = await guest.channel_info(channel)
        assert {m.user: m.role for m in info.roster} == {owner_name: "owner", guest_name: "member"}
        with pytest.raises(ClientError) as refused:
            await guest.kick(channel, owner_name)
        assert refused.value.code == "NOT_OPERATOR"
        await owner.set_modes(channel, moderated=True)
        with pytest.raises(ClientError) as quiet:
            await guest.send_message("channel", channel, "may I?")
        assert quiet.value.code == "NOT_VOICED"
        await owner.set_role(channel, guest_name, "voiced")
        await guest.send_message("channel", channel, "thanks")
        await owner.mute(channel, guest_name, 60, "one minute")
        with pytest.raises(ClientError) as muted:
            await guest.send_message("channel", channel, "hm")
        assert muted.value.code == "MUTED"
        await owner.ban(channel, guest_name, "enough")
        events = guest.events()
        seen: list[str] = []
        async for event in events:
            if isinstance(event, ModerationEvent):
                seen.append(event.action)
            if isinstance(event, PartEvent) and event.from_ == guest_name:
                break
        assert seen[-1] == "ban" and "mute" in seen and "role" in seen
        with pytest.raises(ClientError) as banned:
            await guest.join(channel)
        assert banned.value.code == "BANNED"
        await owner.unban(channel, guest_name)
        await guest.join(channel)
        assert await owner.block(guest_name) and await owner.blocks() == [guest_name]
        with pytest.raises(ClientError) as blocked:
            await guest.send_message("user", owner_name, "psst")
        assert blocked.value.code == "BLOCKED"
        with pytest.raises(ClientError) as not_admin:
            await owner.audit()
        assert not_admin.value.code == "NOT_ADMIN"
    finally:
        await owner.close()
        await guest.close()
