"""What the chaos tests share: synced clients that type on a schedule, and the final checks.

A chaos test (one node killed and restarted, ``tests/integration/test_sync_chaos.py``; a
community whose nodes are SIGKILLed in turn, ``tests/integration/scale/test_chaos_sigkill.py``)
runs real ``SyncSession`` clients against real nodes while it breaks things, then checks the
one promise of ArTP/1.1 sync (§14): every message typed is stored exactly once, every ``OK``
names the stored message, and every client holds every conversation exactly as stored.

The checks take plain ``Stored`` lines, so a test may read the store through ``HISTORY``
(``full_history``) or straight from its database. Their failures say who, where, and from
which index on the two sides differ: a chaos failure must be debuggable from its report.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.connection import ArtpClient
from aronanet.client.conversation_view import ConversationView
from aronanet.client.outbox import OutboxEntry
from aronanet.client.sync_options import SyncOptions
from aronanet.client.sync_session import SyncSession
from aronanet.proto.messages import MsgEvent

PASSWORD = "correct horse battery"
#: A session's name in a report, and the session.
NamedSession = tuple[str, SyncSession]
#: Where the next message goes (``dest_type``, ``dest``), given its number and the typist's rng.
Destination = Callable[[int, random.Random], tuple[str, str]]


@dataclass(frozen=True)
class Member:
    """One client: a user on one device (its own config directory), over one transport."""

    user: str
    device: str
    transport: str = "tcp"  # or "ws"

    @property
    def name(self) -> str:
        return f"{self.user}/{self.device}"


@dataclass(frozen=True)
class Stored:
    """One message as a check compares it: what a reader sees of it, and its cid."""

    id: str
    sender: str
    content: str
    cid: str | None

    @classmethod
    def of(cls, message: MsgEvent) -> Stored:
        cid = message.cid if isinstance(message.cid, str) else None
        return cls(message.id, message.from_, message.content, cid)


def open_session(address: str, member: Member, root: Path, **options: Any) -> SyncSession:
    """A started session of ``member`` (config in ``root``), impatient as chaos needs: quick
    retries, and whole histories (``backfill``) so its views can be compared in full.
    ``options`` are more ``SyncOptions`` fields."""
    session = SyncSession(
        SyncOptions(
            **options,
            address=address,
            user=member.user,
            config_dir=root / f"{member.user}-{member.device}",
            password=lambda: PASSWORD,
            register=True,
            device_name=member.device,
            backfill=True,
            retry_initial=0.05,
            retry_maximum=0.5,
            timeout=5.0,
        )
    )
    session.start()
    return session


async def register(address: str, user: str, channels: Iterable[str]) -> None:
    """``user`` exists and is in ``channels`` before the chaos starts."""
    client = await ArtpClient.connect(address, device_key=X25519PrivateKey.generate())
    await client.auth(user, PASSWORD, register=True)
    for channel in channels:
        await client.join(channel)
    await client.close()


async def full_history(client: ArtpClient, dest_type: str, dest: str) -> list[MsgEvent]:
    """Every stored message of a conversation, oldest first, paging ``before`` until empty."""
    page = await client.history(dest_type, dest, limit=200)
    messages = list(page)
    while page:
        page = await client.history(dest_type, dest, before=messages[0].id, limit=200)
        messages = list(page) + messages
    return messages


async def type_on_schedule(
    session_of: Callable[[], SyncSession],
    member: Member,
    destination: Destination,
    rng: random.Random,
    *,
    seconds: float,
    every: float,
) -> list[OutboxEntry]:
    """Queue a numbered message every ~``every`` s (jittered by ``rng``) for ``seconds``,
    whatever the links do; returns what was typed. ``session_of`` is asked each time, so a
    test may replace the member's session (a client restart) halfway."""
    typed: list[OutboxEntry] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        number = len(typed) + 1
        dest_type, dest = destination(number, rng)
        typed.append(session_of().send(dest_type, dest, f"{member.name} #{number}"))
        await asyncio.sleep(every * (0.5 + rng.random()))
    return typed


# ---------------------------------------------------------------------------- checks


def check_exactly_once(stored: Sequence[Stored], typed: Iterable[OutboxEntry]) -> None:
    """Every typed message is stored once (by cid): none lost, none twice, none invented."""
    counts = Counter(line.cid for line in stored)
    twice = {cid: n for cid, n in counts.items() if n > 1}
    assert not twice, f"stored more than once (cid: copies): {twice}"
    typed_by_cid = {entry.cid: entry for entry in typed}
    lost = [
        f"{entry.content!r} to {entry.dest}"
        for cid, entry in typed_by_cid.items()
        if cid not in counts
    ]
    assert not lost, f"{len(lost)} typed messages never stored, e.g. {lost[:5]}"
    invented = [line for line in stored if line.cid not in typed_by_cid]
    assert not invented, f"stored but never typed: {invented[:5]}"


def check_acknowledged(sessions: Iterable[NamedSession], stored: Sequence[Stored]) -> int:
    """Every ``OK`` a session got names the message stored with its cid; returns how many."""
    by_cid = {line.cid: line for line in stored}
    count = 0
    for name, session in sessions:
        for cid, msg_id in session.acknowledged.items():
            line = by_cid.get(cid)
            assert line is not None, f"{name}: acknowledged {cid} as {msg_id}, not stored"
            assert line.id == msg_id, f"{name}: OK said {cid} is {msg_id}, stored as {line}"
            count += 1
    return count


def check_settled(sessions: Iterable[NamedSession]) -> None:
    """Nothing refused, nothing left in an outbox, nobody gave up."""
    for name, session in sessions:
        assert session.failure is None, f"{name} gave up: {session.failure}"
        assert not session.refused, f"{name}: the node refused {session.refused}"
        assert not session.outbox.pending(), f"{name} still has {session.outbox.pending()}"


def held_lines(view: ConversationView) -> list[Stored]:
    """A client's view of a conversation, in its order."""
    return [Stored.of(view.messages[msg_id]) for msg_id in view.ids]


def check_view(
    who: str, conversation: str, held: Sequence[Stored], stored: Sequence[Stored]
) -> None:
    """``held`` (a client's view) is ``stored`` line for line: ids, senders, contents, order.
    The failure names the first index where they part and shows both sides around it."""
    if list(held) == list(stored):
        return
    index = next(
        (i for i, (mine, theirs) in enumerate(zip(held, stored, strict=False)) if mine != theirs),
        min(len(held), len(stored)),
    )
    window = slice(max(0, index - 1), index + 3)
    raise AssertionError(
        f"{who}'s view of {conversation} differs from the store at index {index} "
        f"(held {len(held)}, stored {len(stored)}):\n"
        f"  held:   {held[window]}\n  stored: {stored[window]}"
    )
