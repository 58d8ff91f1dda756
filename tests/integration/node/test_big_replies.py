"""Every request gets its one reply, however many channels or members there are (§6), and
the limits on channels per user and channel creation, at their edges (§9).

Thousands of channels and members are put straight into the node's store (then its cache is
reloaded): the wire would take minutes to build them, and the state is what is tested.
"""

from __future__ import annotations

import asyncio

from aronanet.config import MAX_PLAINTEXT
from aronanet.errors import ErrorCode
from aronanet.proto import codec
from aronanet.proto.messages import Join, ListChannels, Part
from aronanet.server.handlers import fitting_count
from aronanet.server.node import Node
from aronanet.server.store.rows import ChannelRow, UserRow

#: 32 characters after "#", the longest name: 2,000 of them are 72 KB of JSON.
CHANNEL_NAMES = [f"#c{i:05d}".ljust(33, "x") for i in range(2000)]


async def add_members(node: Node, channel: str, users: list[str], *, make_users: bool) -> None:
    if make_users:
        await asyncio.gather(*(node.store.create_user(UserRow(u, "unused", 0)) for u in users))
    row = ChannelRow(channel, "", 0)
    await asyncio.gather(*(node.store.join_channel(row, user) for user in users))


async def test_a_user_in_two_thousand_channels_gets_the_login_reply_and_every_list_page(
    node, connect
):
    client = await connect(node)
    await client.login("collector")
    for name in CHANNEL_NAMES:
        await node.store.join_channel(ChannelRow(name, "", 0), "collector")
    await node.services.channels.load()
    again = await connect(node)
    reply = await again.login("collector", register=False)
    assert reply.channel_count == 2000
    assert (
        1000 < len(reply.channels) < 2000 and reply.channels == CHANNEL_NAMES[: len(reply.channels)]
    )
    assert len(codec.encode(reply)) <= MAX_PLAINTEXT
    listed, pages = [], 0
    while page := (
        await again.ok(ListChannels(**({"after": listed[-1]} if listed else {})))
    ).channel_list:
        listed += [info.name for info in page]
        pages += 1
    assert listed == CHANNEL_NAMES and pages >= 2


async def test_joining_a_channel_of_three_thousand_members_gets_its_reply(node, connect):
    crowd = [f"member{i:04d}".ljust(32, "x") for i in range(3000)]  # 105 KB of names
    await add_members(node, "#crowd", crowd, make_users=True)
    await node.services.channels.load()
    client = await connect(node)
    await client.login("latecomer")
    reply = await client.ok(Join(channel="#crowd"))
    assert reply.member_count == 3001
    assert 1000 < len(reply.members) < 3001
    assert reply.members == sorted([*crowd, "latecomer"], key=str.lower)[: len(reply.members)]


async def test_channels_per_user_are_limited_at_the_edge(start_node, connect):
    node = await start_node(rate_limit_enabled=False, max_channels_per_user=3)
    client = await connect(node)
    await client.login("joiner")
    for name in ("#one", "#two", "#three"):
        await client.ok(Join(channel=name))
    error = await client.error(Join(channel="#four"))
    assert error.code == ErrorCode.TOO_LARGE and "limit of 3" in error.message
    await client.ok(Join(channel="#three"))  # already a member: not a new membership
    await client.ok(Part(channel="#one"))
    await client.ok(Join(channel="#four"))


async def test_channel_creation_is_rate_limited_per_user_at_the_edge(start_node, connect):
    node = await start_node(
        rate_limit_enabled=False, channel_creation_burst=2, channel_creations_per_second=0.01
    )
    creator, other = await connect(node), await connect(node)
    await creator.login("creator")
    await other.login("other")
    await creator.ok(Join(channel="#new1"))
    await creator.ok(Join(channel="#new2"))
    error = await creator.error(Join(channel="#new3"))
    assert error.code == ErrorCode.RATE_LIMITED and error.retry_after_ms > 0
    await other.ok(Join(channel="#new3"))  # another user's budget
    await creator.ok(Join(channel="#new3"))  # joining an existing channel creates nothing


def test_fitting_count_keeps_exactly_what_fits():
    items = ["#ab", "#cd", "#ef"]  # 5 bytes of JSON each, 6 with the comma
    assert fitting_count(items, 18) == 3
    assert fitting_count(items, 17) == 2
    assert fitting_count(items, 0) == 0
