"""Chaos in scale-out: three nodes of one community, one SIGKILLed every few seconds under load.

Issue 16: "a test kills one node with SIGKILL every few seconds under load and checks at the
end that every client's history equals the store's and that every acknowledged message is
there."

Three real ``aronanet serve`` processes share one PostgreSQL schema, one Redis prefix and one
key. Eight ``SyncSession`` clients (one user on two devices, on two nodes) type into three
channels and some DMs for ``SEND_SECONDS``, a few messages a second each, while a killer
SIGKILLs the nodes in turn and restarts each after a second or two, so two are always up.
Each client is given every node's address, starts on its home node and moves to the next
one when its node dies (``SyncOptions.addresses``), sending there what it typed meanwhile.
At the end, once every client has settled, the PostgreSQL tables are the truth: every typed
message is there exactly once, every ``OK`` names its row, and every client holds every
conversation it is in exactly as stored. Nothing is timed; the schedule is seeded
(``CHAOS_SEED`` picks another).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from aronanet.client.outbox import OutboxEntry
from aronanet.client.sync_session import SyncSession
from aronanet.server.store.rows import dm_conversation
from support import sync_chaos as chaos
from support.sync_chaos import Member, Stored

from .cluster import ClusterNode, start_cluster

SEED = int(os.environ.get("CHAOS_SEED", "16"))
NODES = 3
#: How long the clients type, and how often each one does (about 3 a second).
SEND_SECONDS = 22.0
SEND_EVERY = 0.35
#: A node is SIGKILLed every ``KILL_EVERY`` s (kill to kill) and restarted ``DOWN`` s later.
KILL_EVERY = (3.0, 5.0)
DOWN = (1.0, 2.0)
MIN_KILLS = 4
SETTLE_SECONDS = 60.0

pytestmark = pytest.mark.timeout(180)

#: Client i starts on node i % NODES; arona's two devices start on two different nodes.
MEMBERS = (
    Member("arona", "tablet"),
    Member("arona", "phone"),
    Member("plana", "laptop"),
    Member("hoshino", "phone"),
    Member("shiroko", "desktop"),
    Member("nonomi", "laptop"),
    Member("serika", "phone"),
    Member("ayane", "tablet"),
)
CHANNELS = {
    "#chaos-all": {"arona", "plana", "hoshino", "shiroko", "nonomi", "serika", "ayane"},
    "#chaos-east": {"arona", "plana", "hoshino", "shiroko"},
    "#chaos-west": {"hoshino", "nonomi", "serika", "ayane"},
}
DM_PAIRS = (("arona", "plana"), ("hoshino", "shiroko"), ("nonomi", "serika"), ("ayane", "arona"))
USERS = sorted({member.user for member in MEMBERS})


def channels_of(user: str) -> list[str]:
    return sorted(name for name, members in CHANNELS.items() if user in members)


def peers_of(user: str) -> list[str]:
    return sorted({b if a == user else a for a, b in DM_PAIRS if user in (a, b)})


def destination(user: str) -> chaos.Destination:
    """Every third message a DM to one of the user's peers, the rest into their channels."""
    channels, peers = channels_of(user), peers_of(user)

    def pick(number: int, rng: random.Random) -> tuple[str, str]:
        if number % 3 == 0:
            return ("user", rng.choice(peers))
        return ("channel", rng.choice(channels))

    return pick


@dataclass
class Killer:
    """SIGKILLs the nodes in turn (from a seeded start), each restarted on its data and ports
    after a seeded ``DOWN``; one node at most is down at a time."""

    nodes: list[ClusterNode]
    rng: random.Random
    sessions: list[SyncSession]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    #: The index of the node of every kill, in order.
    kills: list[int] = field(default_factory=list)
    #: For every kill, the indexes of the sessions signed in on that node at the time.
    cut: list[list[int]] = field(default_factory=list)

    async def run(self, load_done: asyncio.Event) -> None:
        """Until the load is done and there were ``MIN_KILLS`` kills, or until ``stop``."""
        turn = self.rng.randrange(len(self.nodes))
        loop = asyncio.get_running_loop()
        next_kill = loop.time() + self.rng.uniform(*KILL_EVERY)
        while not await self._over_before(next_kill, load_done):
            node = self.nodes[turn % len(self.nodes)]
            self.cut.append(self.online_at(node))
            node.kill()
            self.kills.append(turn % len(self.nodes))
            turn += 1
            next_kill = loop.time() + self.rng.uniform(*KILL_EVERY)
            await asyncio.sleep(self.rng.uniform(*DOWN))
            # Restarted even when told to stop: the test then stops every node it started.
            await asyncio.to_thread(node.start)

    def online_at(self, node: ClusterNode) -> list[int]:
        return [
            index
            for index, session in enumerate(self.sessions)
            if session.client is not None and session.current_address == node.tcp_address
        ]

    async def _over_before(self, moment: float, load_done: asyncio.Event) -> bool:
        """Wait until ``moment`` (loop time); True as soon as the chaos is over instead."""
        loop = asyncio.get_running_loop()
        while True:
            if self.stop.is_set() or (load_done.is_set() and len(self.kills) >= MIN_KILLS):
                return True
            if loop.time() >= moment:
                return False
            await asyncio.sleep(min(0.1, moment - loop.time()))


def home_of(index: int) -> int:
    return index % NODES


def start_clients(nodes: list[ClusterNode], root: Path) -> list[SyncSession]:
    """One session per member, starting on its home node, with every node's address."""
    everyone = tuple(node.tcp_address for node in nodes)
    return [
        chaos.open_session(nodes[home_of(i)].tcp_address, member, root, addresses=everyone)
        for i, member in enumerate(MEMBERS)
    ]


async def test_sigkilling_nodes_in_turn_loses_and_duplicates_nothing(
    tmp_path: Path, postgres_url: str, redis_prefix: str
) -> None:
    print(f"chaos seed {SEED} (CHAOS_SEED=<n> runs another schedule)")
    rng = random.Random(SEED)
    clock = Phases()
    nodes = await asyncio.to_thread(start_cluster, tmp_path, postgres_url, redis_prefix, NODES)
    sessions: list[SyncSession] = []
    killer = Killer(nodes, random.Random(rng.random()), sessions)
    killing: asyncio.Task[None] | None = None
    try:
        for user in USERS:
            await chaos.register(nodes[0].tcp_address, user, channels_of(user))
        sessions += start_clients(nodes, tmp_path / "clients")
        clock.mark("start")
        load_done = asyncio.Event()
        killing = asyncio.create_task(killer.run(load_done))
        typed = await asyncio.gather(
            *(
                chaos.type_on_schedule(
                    lambda session=session: session,
                    member,
                    destination(member.user),
                    random.Random(rng.random()),
                    seconds=SEND_SECONDS,
                    every=SEND_EVERY,
                )
                for member, session in zip(MEMBERS, sessions, strict=True)
            )
        )
        load_done.set()
        clock.mark("load")
        await killing
        clock.mark("kills")
        await asyncio.gather(*(session.settle(SETTLE_SECONDS) for session in sessions))
        clock.mark("settle")
        check_against_the_store(postgres_url, sessions, [e for some in typed for e in some])
    finally:
        killer.stop.set()
        if killing is not None:
            await asyncio.gather(killing, return_exceptions=True)  # a restart under way ends
        for session in sessions:
            await session.close()
        for node in nodes:
            node.stop()
    check_the_chaos_was_real(killer, sessions)
    for node in nodes:  # a peer killed mid-request is no reason for a node to crash or trace
        assert "Traceback" not in node.log_text(), node.log_path
    print(
        f"{sum(map(len, typed))} messages, {len(killer.kills)} kills of nodes {killer.kills} "
        f"cutting {[len(online) for online in killer.cut]} clients, "
        f"{sum(s.sign_ins for s in sessions)} sign-ins, "
        f"{sum(s.failovers for s in sessions)} failovers, "
        f"{sum(s.duplicates for s in sessions)} resends answered as duplicates; {clock}"
    )


@dataclass
class Phases:
    """When each phase of the run ended, for the summary line (never asserted)."""

    started: float = field(default_factory=time.monotonic)
    ends: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, phase: str) -> None:
        self.ends.append((phase, time.monotonic() - self.started))

    def __str__(self) -> str:
        return ", ".join(f"{phase} done at {seconds:.1f} s" for phase, seconds in self.ends)


# ---------------------------------------------------------------------------- checks


def store_rows(postgres_url: str) -> dict[str, list[Stored]]:
    """Every stored message by conversation key, in the store's order (by id, as HISTORY)."""
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            "SELECT conversation, id, sender, content, cid FROM messages ORDER BY id"
        ).fetchall()
    by_conversation: dict[str, list[Stored]] = defaultdict(list)
    for conversation, msg_id, sender, content, cid in rows:
        by_conversation[conversation].append(Stored(str(msg_id), sender, content, cid))
    return by_conversation


def store_key(user: str, dest_type: str, dest: str) -> str:
    """The store's conversation key of a client's view ``(dest_type, dest)``."""
    return dest if dest_type == "channel" else dm_conversation(user, dest)


def conversations_of(user: str, stored: dict[str, list[Stored]]) -> set[str]:
    """The conversations ``user`` is in: their channels, and every stored DM with them."""
    dms = {key for key in stored if key.startswith("@") and user in key[1:].split("/")}
    return set(channels_of(user)) | dms


def check_against_the_store(
    postgres_url: str, sessions: list[SyncSession], typed: list[OutboxEntry]
) -> None:
    stored = store_rows(postgres_url)
    every_row = [line for lines in stored.values() for line in lines]
    named = [(member.name, session) for member, session in zip(MEMBERS, sessions, strict=True)]
    chaos.check_settled(named)
    chaos.check_exactly_once(every_row, typed)
    per_sender = Counter((line.sender, line.cid) for line in every_row)
    assert max(per_sender.values()) == 1, "a (sender, cid) is stored twice"
    assert chaos.check_acknowledged(named, every_row) > 0
    for name, session in named:
        user = session.options.user
        held = {
            store_key(user, *key): chaos.held_lines(view)
            for key, view in session.views.items()
            if view.ids
        }
        expected = conversations_of(user, stored)
        assert set(held) == expected, f"{name} holds {sorted(held)}, is in {sorted(expected)}"
        for conversation in sorted(expected):
            chaos.check_view(name, conversation, held[conversation], stored[conversation])


def check_the_chaos_was_real(killer: Killer, sessions: list[SyncSession]) -> None:
    """Every node was killed, kills cut clients off, and each of them failed over: signed in
    again at another node. The first kill always finds the clients whose home it is; later
    ones find those who moved there (clients spread over the live nodes, so a kill may
    find a node nobody moved to yet)."""
    assert len(killer.kills) >= MIN_KILLS, killer.kills
    assert set(killer.kills) == set(range(NODES)), killer.kills
    assert killer.cut[0], f"the first kill cut no client off: {killer.cut}"
    assert sum(map(bool, killer.cut)) >= MIN_KILLS // 2, f"kills cut too few off: {killer.cut}"
    for index, (member, session) in enumerate(zip(MEMBERS, sessions, strict=True)):
        cut = sum(index in online for online in killer.cut)
        seen = f"{member.name}: cut off {cut}x, {session.failovers} failovers"
        assert session.failovers >= cut, seen
        assert session.sign_ins >= 1 + cut, f"{seen}, {session.sign_ins} sign-ins"
