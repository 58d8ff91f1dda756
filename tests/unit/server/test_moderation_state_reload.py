"""``ModerationState`` across nodes: two states on one real SQLite store, joined by a wire
that carries one's changes to the other (what Redis does between nodes). Reads of the
store are held at a gate, so the order of a load and a change is the test's choice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from aronanet.server.moderation_state import ModerationState
from aronanet.server.store.moderation_rows import AuditRecord, ChannelModeration
from aronanet.server.store.rows import ChannelRow, UserRow
from aronanet.server.store.sqlite import SqliteStore

CHANNEL = "#gated"
OWNER = "owner"


class GatedStore(SqliteStore):
    """``channel_moderation`` reads at once, then holds its answer until the test opens
    that read's gate (when ``holding``)."""

    holding = False

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gates: list[asyncio.Event] = []

    async def channel_moderation(self, channel: str) -> ChannelModeration:
        found = await super().channel_moderation(channel)
        if self.holding:
            gate = asyncio.Event()
            self.gates.append(gate)
            await gate.wait()
        return found


class Wire:
    """A change feed that hands each published change to the other side when told."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.receivers: list[Callable[[bytes], None]] = []
        self.published_calls = 0

    def publish_change(self, change: bytes) -> None:
        self.sent.append(change)

    def subscribe_changes(
        self, on_change: Callable[[bytes], None], on_resync: Callable[[], Awaitable[None]]
    ) -> None:
        self.receivers.append(on_change)

    async def published(self) -> None:
        self.published_calls += 1

    async def caught_up(self) -> None:
        self.deliver()

    def deliver(self) -> None:
        """Everything sent so far reaches the subscribers (the other node)."""
        for change in self.sent:
            for receive in self.receivers:
                receive(change)
        self.sent.clear()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GatedStore]:
    opened = GatedStore(tmp_path / "node.sqlite3")
    await opened.open()
    await opened.create_user(UserRow(OWNER, "hash", 1))
    await opened.join_channel(ChannelRow(CHANNEL, "", 1), OWNER)
    await opened.joined(CHANNEL, OWNER)  # its creator owns it
    yield opened
    await opened.close()


async def make_invite_only(store: SqliteStore, invite_only: bool = True) -> None:
    record = AuditRecord(at=1, by=OWNER, action="mode", channel=CHANNEL)
    await store.set_modes(CHANNEL, {"invite_only": invite_only}, record)


async def gates_reached(store: GatedStore, count: int) -> None:
    """Wait until ``count`` reads are held at their gates (the store reads in a thread)."""
    async with asyncio.timeout(5):
        while len(store.gates) < count:
            await asyncio.sleep(0.005)


async def test_a_load_older_than_a_change_is_not_kept(store: GatedStore) -> None:
    wire = Wire()
    here = ModerationState(store, wire, admins=())
    change = await other_node_change(store)
    store.holding = True
    early = asyncio.create_task(here.of(CHANNEL))  # reads "open", then waits at gate 0
    await gates_reached(store, 1)
    await make_invite_only(store)  # another node changes the channel...
    wire.sent.append(change)
    wire.deliver()  # ...and this node hears of it: a reload reads, waits at gate 1
    await gates_reached(store, 2)
    store.gates[1].set()  # the reload lands first
    async with asyncio.timeout(5):
        while CHANNEL not in here.invite_only:
            await asyncio.sleep(0.005)
    store.gates[0].set()  # then the load that began before the change
    assert (await early).invite_only is False  # its own request saw the state of its time
    store.holding = False
    assert (await here.of(CHANNEL)).invite_only is True
    assert CHANNEL in here.invite_only


async def test_readers_wait_for_the_reload_after_a_change(store: GatedStore) -> None:
    wire = Wire()
    here = ModerationState(store, wire, admins=())
    assert (await here.of(CHANNEL)).invite_only is False  # cached
    change = await other_node_change(store)
    await make_invite_only(store)
    wire.sent.append(change)
    store.holding = True
    wire.deliver()
    reader = asyncio.create_task(here.of(CHANNEL))
    listing = asyncio.create_task(here.settled())
    await gates_reached(store, 1)
    await asyncio.sleep(0.05)
    assert not reader.done() and not listing.done()  # nothing answered from the old state
    assert CHANNEL not in here.invite_only
    store.gates[0].set()
    assert (await reader).invite_only is True
    await listing
    assert CHANNEL in here.invite_only


async def test_a_change_made_here_waits_for_the_feed_and_reloads(store: GatedStore) -> None:
    wire = Wire()
    here = ModerationState(store, wire, admins=())
    assert (await here.of(CHANNEL)).invite_only is False
    await make_invite_only(store)
    assert (await here.changed(CHANNEL)).invite_only is True
    assert wire.published_calls == 1 and len(wire.sent) == 1
    await make_invite_only(store, False)
    await here.changed(CHANNEL)
    assert CHANNEL not in here.invite_only


async def other_node_change(store: SqliteStore) -> bytes:
    """The bytes another node's ``changed(CHANNEL)`` publishes."""
    wire = Wire()
    await ModerationState(store, wire, admins=()).changed(CHANNEL)
    return wire.sent[0]
