"""What only a store shared by several nodes must get right: one PostgreSQL, two stores.

Each ``PostgresStore`` here stands for one node (its own connections and writer), both on
the same schema, as two ``aronanet serve --store postgresql://...`` processes would be.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator

import pytest

from aronanet.server.store.base import BackendUnavailableError
from aronanet.server.store.postgres import PostgresStore
from aronanet.server.store.rows import ChannelRow, HistoryQuery, NewMessage, UserRow


@pytest.fixture
async def two_stores(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await asyncio.gather(first.open(), second.open())  # migrations race, and must not fail
    yield first, second
    await asyncio.gather(first.close(), second.close())


def message(content: str) -> NewMessage:
    return NewMessage("#shared", "someone", "channel", "#shared", content, 1700000000)


async def test_ids_from_two_nodes_are_unique_and_become_visible_in_order(two_stores) -> None:
    """A reader never sees id N and later a smaller id appear: paging with ``after`` (§3)
    would skip it. Two writers race while a reader keeps taking snapshots."""
    first, second = two_stores
    snapshots: list[list[int]] = []
    writing = True

    async def write(store: PostgresStore, name: str) -> list[int]:
        rows = await asyncio.gather(*(store.append_message(message(f"{name}{n}")) for n in
                                      range(90)))  # fmt: skip
        return [row.id for row in rows]

    async def read() -> None:
        while writing:
            rows = await second.history(HistoryQuery("#shared", limit=200))
            snapshots.append([row.id for row in rows])

    reader = asyncio.create_task(read())
    written = await asyncio.gather(*(write(s, n) for s, n in ((first, "a"), (second, "b"))))
    writing = False
    await reader
    a_ids, b_ids = written
    assert len(set(a_ids) | set(b_ids)) == 180
    for earlier, later in itertools.pairwise(snapshots):
        assert later[: len(earlier)] == earlier, "an older id appeared after a newer one"
    from_first = await first.history(HistoryQuery("#shared", limit=200))
    from_second = await second.history(HistoryQuery("#shared", limit=200))
    assert from_first == from_second and len(from_first) == 180


async def test_a_change_through_one_node_is_read_by_the_other(two_stores) -> None:
    first, second = two_stores
    await first.create_user(UserRow("Kei", "h", 1))
    assert (await second.get_user("kei")) == UserRow("Kei", "h", 1)
    assert await second.join_channel(ChannelRow("#x", "", 3), "kei") is True
    assert await first.join_channel(ChannelRow("#x", "", 4), "KEI") is False
    found = await first.load_channel("#x")
    assert found is not None and found.members == ("Kei",) and found.channel.created == 3


async def test_a_store_that_cannot_reach_postgres_says_where_without_the_password() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = PostgresStore(f"postgresql://arona:s3cret-pw@127.0.0.1:{port}/test?connect_timeout=2")
    with pytest.raises(BackendUnavailableError) as caught:
        await store.open()
    assert f"127.0.0.1:{port}/test" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
