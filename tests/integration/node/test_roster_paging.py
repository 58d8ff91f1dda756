"""§14.16: a channel's roster longer than one message is paged with ``cursor``/``next``, and
the Python client's ``channel_details`` gathers every page."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient
from aronanet.client.moderation import ChannelDetails, channel_details
from aronanet.config import MAX_PLAINTEXT
from aronanet.proto.codec import encode
from aronanet.proto.messages import Join
from aronanet.proto.moderation import Ban, ChannelInfoRequest
from support.real_node import RealNode

from .driver import PASSWORD, TestClient
from .sync_support import auth, fresh_user

MODERATION = ("moderation", "sync")
#: 1,500 members of 32-character names cannot fit one 65519-byte plaintext (~50 bytes each).
MEMBERS = [f"m{n:04d}{'x' * 27}" for n in range(1500)]


@contextlib.asynccontextmanager
async def signed_in(
    node: RealNode, user: str, *, register: bool = False
) -> AsyncIterator[TestClient]:
    client = await TestClient.connect(node.port, features=MODERATION)
    try:
        await client.ok(auth(user, PASSWORD, register=register))
        yield client
    finally:
        await client.close()


async def details_of(node: RealNode, user: str, channel: str) -> ChannelDetails:
    """``channel_details`` through the Python client library, as the terminal client asks."""
    client = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
    try:
        await client.auth(user, PASSWORD)
        return await channel_details(client, channel)
    finally:
        await client.close()


def seat(database: Path, channel: str, names: list[str]) -> None:
    """Members written into the stopped node's store (the node loads memberships at start),
    which no registration rate or channel limit gets in the way of."""
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.executemany(
            "INSERT INTO users (name_key, name, password_hash, created) VALUES (?, ?, 'x', 1)",
            [(name.lower(), name) for name in names],
        )
        db.executemany(
            "INSERT INTO memberships (channel, user_key) VALUES (?, ?)",
            [(channel, name.lower()) for name in names],
        )


@pytest.mark.single_node("writes 1,500 members into its own stopped node's SQLite file")
async def test_a_roster_longer_than_a_message_is_paged_and_gathered(tmp_path: Path) -> None:
    owner, spammer = fresh_user("own"), fresh_user("spam")
    channel = f"#{fresh_user('r').lower()}"
    node = RealNode(tmp_path / "big")
    with node:
        async with (
            signed_in(node, owner, register=True) as first,
            signed_in(node, spammer, register=True) as banned,
        ):
            await first.ok(Join(channel=channel))
            await banned.ok(Join(channel=channel))
            await first.ok(Ban(channel=channel, user=spammer, reason="spam"))
    seat(node.data_dir / "aronanet.sqlite3", channel, MEMBERS)
    everyone = sorted([owner, *MEMBERS], key=str.lower)

    with node:
        async with signed_in(node, owner) as me:
            page = await me.ok(ChannelInfoRequest(channel=channel))
            assert page.member_count == len(everyone)
            assert 0 < len(page.roster) < len(everyone) and isinstance(page.next, str)
            assert len(encode(page)) <= MAX_PLAINTEXT
            assert [b.user for b in page.bans] == [spammer]
            listed = [m.user for m in page.roster]
            while isinstance(page.next, str):
                page = await me.ok(ChannelInfoRequest(channel=channel, cursor=page.next))
                assert page.bans is msgspec.UNSET  # bans come with the first page only
                assert page.member_count == len(everyone)
                listed += [m.user for m in page.roster]
            assert listed == everyone  # each member once, in order

            bad = await me.error(ChannelInfoRequest(channel=channel, cursor="NOT A CURSOR"))
            assert bad.code == "INVALID"

        details = await details_of(node, owner, channel)
        assert [m.user for m in details.roster] == everyone
        roles = {m.user: m.role for m in details.roster}
        assert roles[owner] == "owner" and roles[MEMBERS[-1]] == "member"
        assert [b.user for b in details.bans] == [spammer]
        assert "Traceback" not in node.log_text()


@pytest.mark.single_node("writes 300 bans into its own stopped node's SQLite file")
async def test_bans_that_do_not_fit_a_message_are_trimmed_to_the_newest(tmp_path: Path) -> None:
    owner = fresh_user("own")
    channel = f"#{fresh_user('b').lower()}"
    node = RealNode(tmp_path / "bans")
    with node:
        async with signed_in(node, owner, register=True) as first:
            await first.ok(Join(channel=channel))
    # 300 bans with the longest reasons (390 characters): ~130 KB, two messages' worth.
    with contextlib.closing(sqlite3.connect(node.data_dir / "aronanet.sqlite3")) as db, db:
        db.executemany(
            "INSERT INTO channel_bans (channel, user_key, user_name, by_name, reason, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(channel, f"b{n:03d}", f"b{n:03d}", owner, "r" * 390, 1000 + n) for n in range(300)],
        )
    with node:
        async with signed_in(node, owner) as me:
            page = await asyncio.wait_for(me.ok(ChannelInfoRequest(channel=channel)), 10)
            assert len(encode(page)) <= MAX_PLAINTEXT
            assert page.ban_count == 300 and 0 < len(page.bans) < 300
            assert [b.user for b in page.bans] == [f"b{n:03d}" for n in range(300)][
                -len(page.bans) :
            ]
            assert [m.user for m in page.roster] == [owner]  # the roster still fits beside them
        details = await details_of(node, owner, channel)
        assert details.ban_count == 300 and details.bans == tuple(page.bans)
        assert "Traceback" not in node.log_text()
