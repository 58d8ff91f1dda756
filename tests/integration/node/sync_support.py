"""Shared pieces of the ArTP/1.1 capability tests: the node they run against (one
``aronanet serve`` process, or in ``scale`` mode a community of three on PostgreSQL and
Redis), sessions that ask for features, and sentences the tests repeat (send with a cid,
list conversations).

Each test file runs one node (``sync_node``...) per mode and gives every test fresh user
names, so the tests of a file share a node without seeing each other. In scale mode every
session a test opens goes to the next node of the community (docs/SCALE-OUT.md §7).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from scale.community import Community, running_community

from aronanet.proto.messages import (
    Auth,
    ConversationInfo,
    Conversations,
    DestType,
    SendMsg,
)
from support.real_node import RealNode, unique_name

from .driver import PASSWORD, TestClient

SYNC = ("sync",)
#: The modes the capability tests run in: one node process, and a community of three.
SINGLE, SCALE = "single", "scale"
NODE_MODES = (SINGLE, SCALE)

#: What a capability test talks to: one node, or a community that poses as one.
Served = RealNode | Community


@dataclass(frozen=True)
class Serve:
    """Starts the node of a test file (or of one test) in the file's mode:
    ``with serve("name", flags=..., limits=...) as node`` (``RealNode`` fields)."""

    mode: str
    root: Path

    def __call__(self, name: str, **options: Any) -> AbstractContextManager[Served]:
        if self.mode == SCALE:
            return running_community(self.root / name, **options)
        return RealNode(self.root / name, **options)


def is_community(node: Served) -> bool:
    """Scale mode: budgets that hold per account across nodes apply (ArTP §14.13, §14.15)."""
    return isinstance(node, Community)


def entry_node(node: Served) -> RealNode:
    """The node process the next client connects to: in scale mode, the next one in turn."""
    return node.next_node() if isinstance(node, Community) else node


def entry_port(node: Served, *, ws: bool = False) -> int:
    """The TCP (or WebSocket) port of ``entry_node(node)``."""
    target = entry_node(node)
    port = target.ws_port if ws else target.port
    assert isinstance(port, int), "this node runs without WebSocket"
    return port


def store_rows(node: Served, query: str, *parameters: object) -> list[tuple[Any, ...]]:
    """Rows of ``query`` (``?`` placeholders) read straight from the node's store: its
    SQLite file, or the community's PostgreSQL schema (what an operator would look at)."""
    if isinstance(node, Community):
        with psycopg.connect(node.store_url) as conn:
            return list(conn.execute(query.replace("?", "%s"), parameters))  # type: ignore[arg-type]
    with contextlib.closing(sqlite3.connect(node.data_dir / "aronanet.sqlite3")) as db:
        return list(db.execute(query, parameters))


@pytest.fixture
async def session() -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """``await session(node, user, ...)``: a handshaken session, logged in unless ``user`` is
    None. By default it asks for ``sync`` and logs in with the test password (``password``
    None: a device sign-in); ``register`` creates the account first. In scale mode each
    session goes to the next node of the community."""
    clients: list[TestClient] = []

    async def open_session(
        node: Served,
        user: str | None = None,
        *,
        ws: bool = False,
        key: X25519PrivateKey | None = None,
        features: Sequence[str] = SYNC,
        register: bool = False,
        password: str | None = PASSWORD,
        device_name: str | None = None,
    ) -> TestClient:
        client = await TestClient.connect(
            entry_port(node, ws=ws), ws=ws, key=key, features=features, client_name="sync-test/1.0"
        )
        clients.append(client)
        if user is not None:
            await client.ok(auth(user, password, register=register, device_name=device_name))
        return client

    yield open_session
    for client in clients:
        await client.close()


def auth(
    user: str, password: str | None, *, register: bool = False, device_name: str | None = None
) -> Auth:
    """AUTH with a password, or without one (a device sign-in, §14.3)."""
    fields: dict[str, object] = {"user": user, "register": register}
    if password is not None:
        fields["password"] = password
    if device_name is not None:
        fields["device_name"] = device_name
    return Auth(**fields)  # type: ignore[arg-type]


def fresh_user(prefix: str = "u") -> str:
    return unique_name(prefix)


def say(dest: str, content: str, *, cid: str | None = None) -> SendMsg:
    """A MSG to a channel (``#...``) or a user, with a client id if given."""
    dest_type: DestType = "channel" if dest.startswith("#") else "user"
    if cid is None:
        return SendMsg(dest_type=dest_type, dest=dest, content=content)
    return SendMsg(dest_type=dest_type, dest=dest, content=content, cid=cid)


async def all_conversations(client: TestClient) -> list[ConversationInfo]:
    """Every conversation, following ``next`` until a reply has none (§14.5)."""
    listed: list[ConversationInfo] = []
    reply = await client.ok(Conversations())
    pages = 1
    while True:
        assert isinstance(reply.conversations, list)
        listed += reply.conversations
        if not isinstance(reply.next, str):
            return listed
        reply = await client.ok(Conversations(cursor=reply.next))
        pages += 1
        assert pages < 1000, "CONVERSATIONS paging does not end"


def by_dest(conversations: Sequence[ConversationInfo]) -> dict[str, ConversationInfo]:
    return {c.dest: c for c in conversations}
