"""Empty channels expire (§9 ``empty_channel_ttl``): not before the ttl, and with their
history, so that a name taken again starts afresh; a channel with a member never does."""

from __future__ import annotations

import asyncio

from aronanet.proto.messages import History, Join, ListChannels, Part, SendMsg

TTL = 0.6


async def listed(client) -> list[str]:
    return [info.name for info in (await client.ok(ListChannels())).channel_list]


async def test_an_empty_channel_goes_after_its_ttl_with_its_history(start_node, connect):
    node = await start_node(rate_limit_enabled=False, empty_channel_ttl=TTL)
    client = await connect(node)
    await client.login("visitor")
    for name in ("#ephemeral", "#lived-in"):
        await client.ok(Join(channel=name))
    await client.ok(SendMsg(dest_type="channel", dest="#ephemeral", content="echo"))
    await client.ok(Part(channel="#ephemeral"))
    await asyncio.sleep(TTL / 3)
    assert await listed(client) == ["#ephemeral", "#lived-in"]  # not before its ttl
    await asyncio.sleep(TTL * 1.25 + 0.3)
    assert await listed(client) == ["#lived-in"]
    await client.ok(Join(channel="#ephemeral"))
    history = await client.ok(History(dest_type="channel", dest="#ephemeral"))
    assert history.messages == []


async def test_empty_channels_stay_when_the_ttl_is_zero(start_node, connect):
    node = await start_node(rate_limit_enabled=False, empty_channel_ttl=0)
    client = await connect(node)
    await client.login("keeper")
    await client.ok(Join(channel="#forever"))
    await client.ok(Part(channel="#forever"))
    await asyncio.sleep(0.3)
    assert await listed(client) == ["#forever"]
