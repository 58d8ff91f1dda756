"""Shared pieces of the ArTP/1.1 sync tests: a real node process, sessions that ask for
features, and sentences the tests repeat (send with a cid, list conversations).

Each test file runs one ``aronanet serve`` process (``sync_node``) and gives every test
fresh user names, so the tests of a file share a node without seeing each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

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


@contextlib.contextmanager
def running_node(root: Path, **limits: int | float | bool) -> Iterator[RealNode]:
    """One ``aronanet serve`` for a whole test file, stopped at its end."""
    node = RealNode(root / "sync-node", limits=limits)
    with node:
        yield node


@pytest.fixture
async def session() -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """``await session(node, user, ...)``: a handshaken session, logged in unless ``user`` is
    None. By default it asks for ``sync`` and logs in with the test password (``password``
    None: a device sign-in); ``register`` creates the account first."""
    clients: list[TestClient] = []

    async def open_session(
        node: RealNode,
        user: str | None = None,
        *,
        ws: bool = False,
        key: X25519PrivateKey | None = None,
        features: Sequence[str] = SYNC,
        register: bool = False,
        password: str | None = PASSWORD,
        device_name: str | None = None,
    ) -> TestClient:
        port = node.ws_port if ws else node.port
        assert isinstance(port, int)
        client = await TestClient.connect(
            port, ws=ws, key=key, features=features, client_name="sync-test/1.0"
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
