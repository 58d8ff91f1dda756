"""ArtpClient against a scripted peer: behaviours the real node shows rarely or never on cue.

The peer speaks real ArTP (``proto.Connection`` as SERVER) over a real socket on 127.0.0.1.
"""

from __future__ import annotations

import asyncio

import pytest
from client_support import ScriptedNode, free_port
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client import ArtpClient, KnownNodes, NodeError
from aronanet.errors import ClientError, KeyChangedError
from aronanet.proto import messages
from aronanet.proto.connection import State

OTHER_KEY = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"


async def connect(peer: ScriptedNode, **options: object) -> ArtpClient:
    return await ArtpClient.connect(
        peer.address,
        device_key=X25519PrivateKey.generate(),
        **options,  # type: ignore[arg-type]
    )


async def test_client_answers_a_node_ping_with_pong_carrying_its_id(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    ping_task = asyncio.create_task(client.ping())
    request, session = await scripted_node.next_request()
    await session.send(messages.PongReply(re=request.id))  # type: ignore[union-attr]
    await ping_task
    await session.send(messages.PingEvent(id="node-ping-7"))
    answer, _ = await scripted_node.next_request()
    assert answer == messages.Pong(re="node-ping-7")
    await client.close()


async def test_replies_resolve_the_request_they_name_whatever_their_order(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    first = asyncio.create_task(client.join("#one"))
    second = asyncio.create_task(client.join("#two"))
    (join_one, session), (join_two, _) = [await scripted_node.next_request() for _ in range(2)]
    await session.send(messages.Ok(re=join_two.id, channel="#two"))  # type: ignore[union-attr]
    await session.send(messages.Ok(re=join_one.id, channel="#one"))  # type: ignore[union-attr]
    assert (await first).channel == "#one"
    assert (await second).channel == "#two"
    assert join_one.id != join_two.id  # type: ignore[union-attr]
    await client.close()


async def test_error_reply_raises_node_error_with_wire_code_and_extra_fields(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    sending = asyncio.create_task(client.send_message("channel", "#x", "hi"))
    request, session = await scripted_node.next_request()
    await session.send(
        messages.Error(
            re=request.id,  # type: ignore[union-attr]
            code="RATE_LIMITED",
            message="slow down",
            retry_after_ms=250,
        )
    )
    with pytest.raises(NodeError) as caught:
        await sending
    assert (caught.value.code, caught.value.message) == ("RATE_LIMITED", "slow down")
    assert caught.value.reply.retry_after_ms == 250
    await client.close()


def _slow_down(request: messages.Request, retry_after_ms: int = 20) -> messages.Error:
    return messages.Error(
        re=request.id,  # type: ignore[union-attr]
        code="RATE_LIMITED",
        message="slow down",
        retry_after_ms=retry_after_ms,
    )


async def test_a_rate_limited_message_is_sent_again_with_its_cid_after_the_wait(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    sending = asyncio.create_task(
        client.send_message_when_allowed("channel", "#x", "hi", cid="c-1", tries=3)
    )
    first, session = await scripted_node.next_request()
    await session.send(_slow_down(first, retry_after_ms=200))
    started = asyncio.get_running_loop().time()
    second, _ = await scripted_node.next_request()
    assert asyncio.get_running_loop().time() - started >= 0.15  # it waited retry_after_ms
    assert isinstance(first, messages.SendMsg) and isinstance(second, messages.SendMsg)
    assert (second.cid, second.content) == ("c-1", "hi") and second.id != first.id
    await session.send(messages.Ok(re=second.id, msg_id="m1", timestamp=1))
    assert (await sending).msg_id == "m1"
    await client.close()


async def test_a_message_still_rate_limited_after_every_try_raises_the_last_refusal(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    sending = asyncio.create_task(client.send_message_when_allowed("channel", "#x", "hi", tries=3))
    for _ in range(3):
        request, session = await scripted_node.next_request()
        await session.send(_slow_down(request))
    with pytest.raises(NodeError) as caught:
        await sending
    assert caught.value.code == "RATE_LIMITED"
    await session.send(messages.PingEvent(id="after"))  # no fourth SEND came first
    assert (await scripted_node.next_request())[0] == messages.Pong(re="after")
    await client.close()


async def test_any_other_refusal_is_not_sent_again(scripted_node: ScriptedNode) -> None:
    client = await connect(scripted_node)
    sending = asyncio.create_task(client.send_message_when_allowed("channel", "#x", "hi"))
    request, session = await scripted_node.next_request()
    await session.send(
        messages.Error(re=request.id, code="NOT_IN_CHANNEL", message="join first")  # type: ignore[union-attr]
    )
    with pytest.raises(NodeError) as caught:
        await sending
    assert caught.value.code == "NOT_IN_CHANNEL"
    await session.send(messages.PingEvent(id="after"))
    assert (await scripted_node.next_request())[0] == messages.Pong(re="after")
    await client.close()


async def test_request_times_out_and_a_late_reply_is_dropped(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    with pytest.raises(ClientError) as caught:
        await client.request(messages.Join(channel="#slow"), timeout=0.2)
    assert caught.value.code == "TIMEOUT"
    late, session = await scripted_node.next_request()
    await session.send(messages.Ok(re=late.id, channel="#slow"))  # type: ignore[union-attr]
    next_join = asyncio.create_task(client.join("#next"))
    request, _ = await scripted_node.next_request()
    await session.send(messages.Ok(re=request.id, channel="#next"))  # type: ignore[union-attr]
    assert (await next_join).channel == "#next"
    await client.close()


async def test_connection_loss_fails_every_pending_request_and_ends_events(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    pending = [asyncio.create_task(client.join(f"#c{n}")) for n in range(3)]
    events = asyncio.create_task(collect(client))
    _, session = await scripted_node.next_request()
    await session.drop()
    for task in pending:
        with pytest.raises(ClientError) as caught:
            await task
        assert caught.value.code == "DISCONNECTED"
    assert await events == []
    await client.wait_closed()
    assert client.closed
    with pytest.raises(ClientError, match="DISCONNECTED"):
        await client.ping()


async def collect(client: ArtpClient) -> list[messages.Event]:
    return [event async for event in client.events()]


async def test_events_without_re_reach_events_in_order(scripted_node: ScriptedNode) -> None:
    client = await connect(scripted_node)
    ping_task = asyncio.create_task(client.ping())
    request, session = await scripted_node.next_request()
    sent = [
        messages.JoinEvent(id=f"e{n}", from_="arona", channel="#general", timestamp=n)
        for n in range(5)
    ]
    for event in sent:
        await session.send(event)
    await session.send(messages.PongReply(re=request.id))  # type: ignore[union-attr]
    await ping_task
    await session.drop()
    assert await collect(client) == sent


async def test_stream_yields_each_reply_to_its_id_and_raises_on_error(
    scripted_node: ScriptedNode,
) -> None:
    client = await connect(scripted_node)
    image = "ab" * 32
    received: list[messages.Event] = []

    async def download() -> None:
        async for chunk in client.stream(messages.ImgGet(image=image)):
            received.append(chunk)

    task = asyncio.create_task(download())
    request, session = await scripted_node.next_request()
    chunks = [
        messages.ImgData(re=request.id, image=image, index=n, total=3, data="AA==")  # type: ignore[union-attr]
        for n in range(2)
    ]
    for chunk in chunks:
        await session.send(chunk)
    await session.send(
        messages.Error(re=request.id, code="NOT_FOUND", message="gone")  # type: ignore[union-attr]
    )
    with pytest.raises(NodeError, match="NOT_FOUND"):
        await task
    assert received == chunks
    await client.close()


async def test_a_changed_key_is_refused_before_the_client_reveals_its_identity(
    scripted_node: ScriptedNode, known_nodes: KnownNodes
) -> None:
    known_nodes.pin(scripted_node.address, OTHER_KEY)
    with pytest.raises(KeyChangedError) as caught:
        await connect(scripted_node, known_nodes=known_nodes)
    assert (caught.value.pinned, caught.value.presented) == (OTHER_KEY, scripted_node.fingerprint)
    assert known_nodes.lookup(scripted_node.address) == OTHER_KEY
    # Noise message 3 (the client's static key) was never sent: the node is still waiting.
    assert scripted_node.sessions[0].connection.state is State.HANDSHAKE


async def test_a_refused_new_node_raises_untrusted_and_is_not_pinned(
    scripted_node: ScriptedNode, known_nodes: KnownNodes
) -> None:
    asked: list[tuple[str, str]] = []

    def refuse(address: str, fingerprint: str) -> bool:
        asked.append((address, fingerprint))
        return False

    with pytest.raises(ClientError) as caught:
        await connect(scripted_node, known_nodes=known_nodes, trust_new=refuse)
    assert caught.value.code == "UNTRUSTED"
    assert asked == [(scripted_node.address, scripted_node.fingerprint)]
    assert known_nodes.entries() == {}


async def test_an_async_trust_callback_is_awaited_and_its_yes_pins_the_node(
    scripted_node: ScriptedNode, known_nodes: KnownNodes
) -> None:
    async def accept(address: str, fingerprint: str) -> bool:
        await asyncio.sleep(0)
        return True

    client = await connect(scripted_node, known_nodes=known_nodes, trust_new=accept)
    assert client.fingerprint == scripted_node.fingerprint
    assert client.hello.node == "scripted-node"
    assert known_nodes.lookup(scripted_node.address) == scripted_node.fingerprint
    await client.close()


async def test_connecting_to_a_port_nobody_listens_on_raises_connect() -> None:
    with pytest.raises(ClientError) as caught:
        await ArtpClient.connect(f"127.0.0.1:{free_port()}", device_key=X25519PrivateKey.generate())
    assert caught.value.code == "CONNECT"
    assert "is the node running" in caught.value.message


async def test_a_silent_server_fails_the_handshake_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(ClientError) as caught:
        await ArtpClient.connect(
            f"127.0.0.1:{port}", device_key=X25519PrivateKey.generate(), timeout=0.3
        )
    assert caught.value.code == "HANDSHAKE"
    server.close()


async def test_a_bad_address_raises_address_error() -> None:
    with pytest.raises(ClientError) as caught:
        await ArtpClient.connect("http://nope", device_key=X25519PrivateKey.generate())
    assert caught.value.code == "ADDRESS"
