"""``aronanet move-to-postgres``: a community built on a SQLite node (accounts, a channel with
edits, reactions, a read marker, a ban, a DM, an image) moved by the real command into
PostgreSQL, then served from there by a node on the same data directory: the same
passwords sign in, HISTORY and search see the same messages, the image downloads, the ban
holds, and new ids and change numbers follow the old ones. And its refusals: a target that
already holds a community, a node running on the data directory."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PIL import Image

from aronanet.client import ArtpClient
from aronanet.client.search import search
from aronanet.client.sync import conversations, mark_read
from aronanet.client.transfers import download_image, upload_image
from aronanet.config import Limits
from aronanet.errors import ClientError
from aronanet.proto.messages import Attachment
from aronanet.server.node import Node
from aronanet.server.settings import NodeSettings, PasswordHashing
from support.real_node import RealNode

PASSWORD = "correct horse battery"
CHANNEL = "#moving"


def settings(data_dir: Path, store: str = "sqlite") -> NodeSettings:
    return NodeSettings(
        data_dir=data_dir,
        port=0,
        ws_port=None,
        web_dir=None,
        store=store,
        hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
        limits=Limits(rate_limit_enabled=False),
    )


@asynccontextmanager
async def running(node_settings: NodeSettings) -> AsyncIterator[Callable[..., object]]:
    node = Node(node_settings)
    await node.start()
    opened: list[ArtpClient] = []

    async def sign_in(user: str, *, register: bool = False) -> ArtpClient:
        client = await ArtpClient.connect(
            f"127.0.0.1:{node.tcp_port}", device_key=X25519PrivateKey.generate()
        )
        await client.auth(user, PASSWORD, register=register)
        opened.append(client)
        return client

    try:
        yield sign_in
    finally:
        for client in opened:
            await client.close()
        await node.stop()


def move(data_dir: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aronanet.cli", "move-to-postgres", str(data_dir), url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 200, 255)).save(out, "PNG")
    return out.getvalue()


async def test_a_community_moves_to_postgres_whole(tmp_path: Path, postgres_url: str) -> None:
    data_dir = tmp_path / "node"
    picture = tmp_path / "arona.png"
    picture.write_bytes(png())
    async with running(settings(data_dir)) as sign_in:
        ann = await sign_in("ann", register=True)
        bob = await sign_in("bob", register=True)
        spammer = await sign_in("spammer", register=True)
        for client in (ann, bob, spammer):
            await client.join(CHANNEL)
        first = await ann.send_message("channel", CHANNEL, "the first word: lighthouse")
        await bob.send_message("channel", CHANNEL, "a reply from bob")
        await ann.edit(first.msg_id, "the first word: lighthouse, edited")
        await bob.react(first.msg_id, "🌸")
        shared = await upload_image(ann, picture, "channel", CHANNEL, content="a picture")
        await ann.send_message("user", "bob", "a private word")
        await ann.ban(CHANNEL, "spammer", "spam")
        before = await bob.history("channel", CHANNEL)
        await mark_read(bob, "channel", CHANNEL, before[-1].id)

    done = move(data_dir, postgres_url)
    assert done.returncode == 0, done.stderr
    assert "moved 3 accounts, 1 channel, 4 messages and 1 image to" in done.stdout
    assert "messages: 4 rows" in done.stderr and "images: 1 of 1" in done.stderr
    assert "Traceback" not in done.stderr
    with psycopg.connect(postgres_url) as moved:  # indexed as moved, not at the first search
        unindexed = moved.execute("SELECT count(*) FROM messages WHERE search_vector IS NULL")
        assert unindexed.fetchone() == (0,)

    async with running(settings(data_dir, postgres_url)) as sign_in:
        bob = await sign_in("bob")  # the same password, from its Argon2id hash
        after = await bob.history("channel", CHANNEL)
        assert [(m.id, m.from_, m.content, m.edited, m.rev) for m in after] == [
            (m.id, m.from_, m.content, m.edited, m.rev) for m in before
        ]
        assert [r.emoji for r in after[0].reactions or []] == ["🌸"]
        found = await search(bob, "lighthouse")
        assert [hit.id for hit in found.results] == [first.msg_id]
        [pictured] = [m for m in after if m.id == shared.msg_id]
        assert isinstance(pictured.attachment, Attachment)
        fetched = await download_image(bob, pictured.attachment, tmp_path / "cache")
        assert hashlib.sha256(fetched.read_bytes()).hexdigest() == shared.image
        states = {c.dest: c for c in await conversations(bob)}
        assert states[CHANNEL].read == before[-1].id and states[CHANNEL].unread == 0
        assert states["ann"].unread == 1  # the DM, not read yet
        newer = await bob.send_message("channel", CHANNEL, "after the move")
        assert int(newer.msg_id) > max(int(m.id) for m in before)
        [stored] = [m for m in await bob.history("channel", CHANNEL) if m.id == newer.msg_id]
        assert int(str(stored.rev)) > max(int(str(m.rev)) for m in after)
        spammer = await sign_in("spammer")
        with pytest.raises(ClientError) as refused:
            await spammer.join(CHANNEL)
        assert refused.value.code == "BANNED"

    again = move(data_dir, postgres_url)
    assert again.returncode == 1
    assert "already holds a community" in again.stderr and "Traceback" not in again.stderr


def test_no_move_while_a_node_runs_on_the_data_directory(tmp_path: Path, postgres_url: str) -> None:
    with RealNode(tmp_path / "node") as node:  # ``aronanet serve``, holding the node lock
        refused = move(node.data_dir, postgres_url)
    assert refused.returncode == 1
    assert "refused: another node" in refused.stderr and "Traceback" not in refused.stderr


async def test_a_database_of_another_version_is_refused_until_upgraded(
    tmp_path: Path, postgres_url: str
) -> None:
    data_dir = tmp_path / "node"
    async with running(settings(data_dir)) as sign_in:
        await sign_in("ann", register=True)
    database = sqlite3.connect(data_dir / "aronanet.sqlite3")
    with database:
        database.execute("UPDATE schema_migrations SET version = 1 WHERE component = 'lifecycle'")
    database.close()
    refused = move(data_dir, postgres_url)
    assert refused.returncode == 1
    assert "start the node once with this version" in refused.stderr
    assert "Traceback" not in refused.stderr
