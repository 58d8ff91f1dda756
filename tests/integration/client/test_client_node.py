"""ArtpClient against the real node (``aronanet serve``), over TCP and over WebSocket."""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

import pytest
from client_support import PASSWORD, NodeProcess, unique_name
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient, KnownNodes, NodeError
from aronanet.errors import ClientError, KeyChangedError
from aronanet.proto import messages


async def connect(address: str, **options: object) -> ArtpClient:
    return await ArtpClient.connect(
        address,
        device_key=X25519PrivateKey.generate(),
        **options,  # type: ignore[arg-type]
    )


async def registered(address: str, name: str | None = None) -> ArtpClient:
    client = await connect(address)
    await client.auth(name or unique_name("u"), PASSWORD, register=True)
    return client


async def next_message(client: ArtpClient) -> messages.MsgEvent:
    """The next MSG event (JOIN/PART of others may come first), or fail within 10 s."""
    async with asyncio.timeout(10):
        async for event in client.events():
            if isinstance(event, messages.MsgEvent):
                return event
    raise AssertionError("the connection closed before a MSG arrived")


async def test_hello_names_the_node_and_its_limits(logged_in: ArtpClient) -> None:
    assert logged_in.hello.limits.max_frame == 65535
    assert logged_in.fingerprint.startswith("SHA256:")
    assert logged_in.user is not None


async def test_login_after_registration_lists_the_channels_joined_before(
    node: NodeProcess,
) -> None:
    name, channel = unique_name("u"), f"#{unique_name('c')}"
    first = await registered(node.tcp_address, name)
    await first.join(channel)
    await first.close()
    second = await connect(node.ws_address)
    welcome = await second.auth(name, PASSWORD)
    assert welcome.user == name
    assert channel in welcome.channels  # type: ignore[operator]
    await second.close()


async def test_a_wrong_password_is_auth_failed(node: NodeProcess) -> None:
    name = unique_name("u")
    await (await registered(node.tcp_address, name)).close()
    client = await connect(node.tcp_address)
    with pytest.raises(NodeError) as caught:
        await client.auth(name, "not the password")
    assert caught.value.code == "AUTH_FAILED"
    await client.close()


async def test_registering_a_taken_name_is_user_exists(node: NodeProcess) -> None:
    name = unique_name("u")
    await (await registered(node.tcp_address, name)).close()
    client = await connect(node.tcp_address)
    with pytest.raises(NodeError, match="USER_EXISTS"):
        await client.auth(name, PASSWORD, register=True)
    await client.close()


async def test_requests_before_login_are_not_authenticated(node: NodeProcess) -> None:
    client = await connect(node.tcp_address)
    with pytest.raises(NodeError, match="NOT_AUTHENTICATED"):
        await client.join("#general")
    await client.close()


async def test_a_channel_message_reaches_the_other_member_with_the_ok_id_and_time(
    node: NodeProcess,
) -> None:
    channel = f"#{unique_name('c')}"
    sender, reader = await registered(node.tcp_address), await registered(node.ws_address)
    await reader.join(channel)
    await sender.join(channel)
    ok = await sender.send_message("channel", channel, "Hello Arona!")
    received = await next_message(reader)
    assert (received.id, received.timestamp) == (ok.msg_id, ok.timestamp)
    assert (received.from_, received.dest, received.content) == (
        sender.user,
        channel,
        "Hello Arona!",
    )
    await sender.close()
    await reader.close()


async def test_history_pages_before_and_after_a_message(logged_in: ArtpClient) -> None:
    channel = f"#{unique_name('c')}"
    await logged_in.join(channel)
    ids = [(await logged_in.send_message("channel", channel, f"m{n}")).msg_id for n in range(5)]
    latest = await logged_in.history("channel", channel, limit=3)
    after = await logged_in.history("channel", channel, after=ids[0], limit=2)  # type: ignore[arg-type]
    before = await logged_in.history("channel", channel, before=ids[4], limit=2)  # type: ignore[arg-type]
    assert [m.content for m in latest] == ["m2", "m3", "m4"]
    assert [m.id for m in after] == ids[1:3]
    assert [m.id for m in before] == ids[2:4]


async def test_a_dm_to_an_offline_user_waits_in_their_history(node: NodeProcess) -> None:
    recipient_name = unique_name("u")
    await (await registered(node.tcp_address, recipient_name)).close()
    sender = await registered(node.ws_address)
    ok = await sender.send_message("user", recipient_name, "see you later")
    await sender.close()
    recipient = await connect(node.tcp_address)
    await recipient.auth(recipient_name, PASSWORD)
    stored = await recipient.history("user", sender.user)  # type: ignore[arg-type]
    assert [(m.id, m.from_, m.content) for m in stored] == [
        (ok.msg_id, sender.user, "see you later")
    ]
    await recipient.close()


async def test_ping_returns_the_round_trip_in_seconds(logged_in: ArtpClient) -> None:
    assert 0 < await logged_in.ping() < 30


async def test_a_timed_out_request_leaves_the_session_usable(logged_in: ArtpClient) -> None:
    with pytest.raises(ClientError, match="TIMEOUT"):
        await logged_in.request(messages.Ping(), timeout=0)
    channel = f"#{unique_name('c')}"
    assert (await logged_in.join(channel)).channel == channel


async def test_events_end_when_the_client_closes(logged_in: ArtpClient) -> None:
    events = asyncio.create_task(anext(logged_in.events(), None))
    await logged_in.close()
    assert await events is None
    assert logged_in.closed


async def test_the_node_key_is_pinned_and_a_changed_key_refused(
    fresh_node: NodeProcess, known_nodes: KnownNodes
) -> None:
    client = await connect(fresh_node.tcp_address, known_nodes=known_nodes)
    await client.close()
    assert known_nodes.lookup(fresh_node.tcp_address) == client.fingerprint
    await (await connect(fresh_node.tcp_address, known_nodes=known_nodes)).close()
    fresh_node.stop()
    fresh_node.data_dir = fresh_node.data_dir.with_name("another-node")
    fresh_node.start()
    with pytest.raises(KeyChangedError) as caught:
        await connect(fresh_node.tcp_address, known_nodes=known_nodes)
    assert caught.value.pinned == client.fingerprint
    assert caught.value.presented != client.fingerprint


async def test_a_quiet_session_outlives_the_idle_timeout_by_answering_node_pings(
    tmp_path: Path,
) -> None:
    quick_pings = ("--idle-ping", "0.2", "--idle-timeout", "0.6")
    impatient = NodeProcess(tmp_path / "impatient", extra_args=quick_pings).start()
    try:
        client = await registered(impatient.tcp_address)
        # Three idle timeouts of silence from the caller; only the automatic PONGs speak.
        await asyncio.sleep(1.8)
        assert not client.closed
        assert await client.ping() > 0
        await client.close()
    finally:
        impatient.stop()


async def test_history_after_pages_past_pages_the_node_trimmed_to_fit_a_frame(
    logged_in: ArtpClient,
) -> None:
    # 40 messages of 3,900 characters do not fit one 64 KiB frame, so the node trims each
    # 200-message page; a pager that stopped at the first short page would miss some.
    channel = f"#{unique_name('c')}"
    await logged_in.join(channel)
    first = await logged_in.send_message("channel", channel, "start")
    sent = [
        (await logged_in.send_message("channel", channel, f"{n:04d}" + "x" * 3896)).msg_id
        for n in range(40)
    ]
    one_page = await logged_in.history("channel", channel, after=first.msg_id, limit=200)
    assert 0 < len(one_page) < len(sent)  # the node really did trim
    got = [m.id async for m in logged_in.history_after("channel", channel, first.msg_id)]
    assert got == sent


def test_a_client_left_open_when_its_loop_ends_is_destroyed_quietly(node: NodeProcess) -> None:
    """A program whose loop ends with a client still connected: the client's read task is
    destroyed unfinished, and its cleanup must not await (Python would report "coroutine
    ignored GeneratorExit" and the exception it raised)."""
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(registered(node.tcp_address))
    loop.close()
    reported: list[str] = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda raised: reported.append(repr(raised))
    try:
        del client, loop
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert not reported, reported
