"""ArTP/1.1 §14.1 against a real node: features are negotiated in the handshake, and a
client that asks for nothing gets ArTP/1.0 exactly (no features, no new events)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from aronanet.proto.codec import encode
from aronanet.proto.messages import (
    History,
    Join,
    MarkRead,
    MsgEvent,
    ReadEvent,
)

from .driver import PASSWORD, TestClient
from .sync_support import Serve, Served, auth, entry_port, fresh_user, say


@pytest.fixture(scope="module")
def sync_node(serve: Serve) -> Iterator[Served]:
    with serve("features") as node:
        yield node


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_hello_lists_the_features_asked_for_and_supported(sync_node, ws) -> None:
    port = entry_port(sync_node, ws=ws)
    client = await TestClient.connect(port, ws=ws, features=["sync", "teleport", "batch"])
    try:
        assert client.hello is not None
        # "teleport" is unknown: left out; the others come back sorted.
        assert client.hello.features == ["batch", "sync"]
        assert client.conn.features == frozenset({"batch", "sync"})
    finally:
        await client.close()


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "websocket"])
async def test_a_client_asking_nothing_gets_an_empty_feature_list(sync_node, ws) -> None:
    port = entry_port(sync_node, ws=ws)
    client = await TestClient.connect(port, ws=ws)
    try:
        assert client.hello is not None and client.hello.features == []
    finally:
        await client.close()


async def test_a_1_0_client_sees_no_read_events(sync_node, session) -> None:
    user, channel = fresh_user(), f"#{fresh_user('c')}"
    old = await session(sync_node, user, features=(), register=True)
    new = await session(sync_node, user, features=("sync",))
    await old.ok(Join(channel=channel))
    sent = await old.ok(say(channel, "hello"))
    await new.next_event_of(MsgEvent)
    reply = await new.ok(MarkRead(dest_type="channel", dest=channel, up_to=sent.msg_id))
    assert reply.read == sent.msg_id
    await old.no_event(ReadEvent, wait=0.5)  # §14.1: a new event type only for `sync`
    # The 1.0 session keeps working as before, in the same order of replies.
    page = await old.ok(History(dest_type="channel", dest=channel))
    assert [m.content for m in page.messages] == ["hello"]


async def test_a_login_reply_without_sync_has_no_device(sync_node, session) -> None:
    user = fresh_user()
    client = await session(sync_node, features=())
    reply = await client.ok(auth(user, PASSWORD, register=True))
    assert json.loads(encode(reply)) == {
        "type": "OK",
        "re": reply.re,
        "user": user,
        "channels": [],
        "channel_count": 0,
        "version": "1.0",
    }


async def test_a_sync_login_reply_names_the_device(sync_node, session) -> None:
    client = await session(sync_node)
    reply = await client.ok(auth(fresh_user(), PASSWORD, register=True))
    assert reply.device == client.fingerprint_of_key()


async def test_auth_without_password_is_invalid_without_sync(sync_node, session) -> None:
    user = fresh_user()
    await session(sync_node, user, register=True)
    client = await session(sync_node, features=())
    refused = await client.error(auth(user, None))
    assert refused.code == "INVALID"
    assert "sync" in refused.message


def test_refusals_never_log_a_traceback(sync_node) -> None:
    assert "Traceback" not in sync_node.log_text()
