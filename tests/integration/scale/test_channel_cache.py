"""The channel cache of two nodes sharing one PostgreSQL: it follows the store, not memory.

Node 2's broker is never started, so it hears nothing from node 1: the situation of a node
that has not yet received a change (or lost Redis for a while). It must still answer from
the store on a cache miss, and catch up completely when it reloads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aronanet.server.broker.redis import RedisBroker
from aronanet.server.channels import Channels
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import UserRow

from .services import REDIS_URL


@pytest.fixture
async def nodes(
    postgres_url: str, redis_prefix: str
) -> AsyncIterator[tuple[Channels, Channels, RedisBroker]]:
    stores = [PostgresStore(postgres_url), PostgresStore(postgres_url)]
    brokers = [RedisBroker(REDIS_URL, prefix=redis_prefix) for _ in stores]
    for store in stores:
        await store.open()
    await stores[0].create_user(UserRow("Hina", "h", 1))
    first, second = (Channels(s, b) for s, b in zip(stores, brokers, strict=True))
    await brokers[0].start()
    for channels in (first, second):
        await channels.load()
    yield first, second, brokers[0]
    for broker in brokers:
        await broker.close()
    for store in stores:
        await store.close()


async def test_a_node_that_missed_a_join_finds_the_member_in_the_store(nodes) -> None:
    first, second, _ = nodes
    channel, added = await first.join("#desk", "Hina", 10)
    assert added and channel.member_names() == ["Hina"]
    assert second.cached_member_channel("#desk", "hina") is None  # never told
    confirmed = await second.confirm_member_channel("#desk", "hina")
    assert confirmed is not None and confirmed.member_names() == ["Hina"]
    assert second.cached_member_channel("#desk", "HINA") is confirmed  # now cached
    assert await second.of_user("hina") == ["#desk"]  # AUTH's list comes from the store


async def test_joining_again_through_another_node_is_not_a_new_join(nodes) -> None:
    first, second, _ = nodes
    await first.join("#desk", "Hina", 10)
    channel, added = await second.join("#desk", "hina", 11)
    assert not added and channel.member_names() == ["Hina"] and channel.created == 10


async def test_a_node_that_reloads_catches_up_with_every_change(nodes) -> None:
    first, second, _ = nodes
    await first.join("#a", "Hina", 1)
    await first.join("#b", "Hina", 2)
    await first.set_topic("#a", "agenda")
    await first.part("#b", "Hina")
    await second.load()  # what the broker triggers after reconnecting
    channel_a, channel_b = second.get("#a"), second.get("#b")
    assert channel_a is not None and channel_a.topic == "agenda" and channel_a.has_member("hina")
    assert channel_b is not None and not channel_b.has_member("hina")
    assert [c.name for c in second.all()] == ["#a", "#b"]


async def test_alone_a_node_trusts_its_cache_and_never_asks_the_store(tmp_path) -> None:
    from aronanet.server.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "alone.sqlite3")
    await store.open()
    await store.create_user(UserRow("Hina", "h", 1))
    channels = Channels(store)
    await channels.load()
    assert not channels.shared
    await channels.join("#solo", "Hina", 1)
    commits = store.commits
    _, added = await channels.join("#solo", "hina", 2)
    assert not added and store.commits == commits  # a known member costs no write
    assert await channels.confirm_member_channel("#solo", "nobody") is None
    assert await channels.of_user("HINA") == ["#solo"]
    await store.close()


async def test_an_expired_channel_is_gone_for_every_node_but_not_one_joined_elsewhere(
    nodes,
) -> None:
    first, second, _ = nodes
    for name in ("#gone", "#busy"):
        await first.join(name, "Hina", 1)
        await first.part(name, "Hina")
    await second.join("#busy", "hina", 2)  # first never hears of it: its cache says empty
    assert await first.expire_empty(0) == ["#gone"]  # the store refuses to delete #busy
    assert first.get("#gone") is None and first.get("#busy") is not None
    await second.load()
    assert second.get("#gone") is None
    assert await first.expire_empty(0) == []  # #busy no longer counts as empty here
