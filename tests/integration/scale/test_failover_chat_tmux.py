"""The real ``aronanet chat A,B,C`` in a real terminal (tmux) against three node processes of
one community (issue 16): the node it is on is killed with SIGKILL, the chat says which node
it moved to, and the conversation goes on there: a line typed after the move reaches another
client exactly once. The first connection pinned the key for all three addresses."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.community import format_address_list
from aronanet.client.connection import ArtpClient
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.proto.messages import MsgEvent
from support.real_node import unique_name
from tui.terminal import Terminal, chat_command

from .cluster import ClusterNode
from .community import three_nodes  # noqa: F401 - the `community` fixture

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

PASSWORD = "correct horse battery staple"


async def member(node: ClusterNode, user: str, channel: str) -> ArtpClient:
    client = await ArtpClient.connect(node.tcp_address, device_key=X25519PrivateKey.generate())
    await client.auth(user, PASSWORD, register=True)
    await client.join(channel)
    return client


def log_in(terminal: Terminal, user: str) -> None:
    terminal.wait_for("Welcome, Sensei! New here?")
    terminal.send(user, literal=True)
    terminal.send("Tab")
    terminal.send(PASSWORD, literal=True)
    terminal.send("Enter")
    terminal.wait_for("First visit to this node")
    terminal.send("y")
    terminal.wait_for("Talk to Arona")


async def test_the_chat_moves_to_another_node_and_the_conversation_goes_on(
    community: list[ClusterNode], tmp_path: Path
) -> None:
    first, second, third = community
    addresses = [node.tcp_address for node in community]
    channel, me = f"#{unique_name('fo')}", unique_name("sensei")
    await (await member(second, me, channel)).close()
    peer = await member(third, unique_name("hoshino"), channel)
    config_dir = tmp_path / "cfg"
    terminal = Terminal(chat_command(format_address_list(addresses), config_dir))
    try:
        log_in(terminal, me)
        known = KnownNodes(ClientPaths.at(config_dir).known_nodes)
        assert known.entries() == dict.fromkeys(addresses, peer.fingerprint)
        terminal.send(f"/join {channel}", literal=True)
        terminal.send("Enter")
        terminal.wait_for(f"{me}@{first.tcp_address}")
        await peer.send_message("channel", channel, "before the move")
        terminal.wait_for("before the move")

        first.kill()
        moved = re.search(r"Moved to (\S+), Sensei", terminal.wait_for("Moved to "))
        assert moved is not None
        now_on = moved.group(1)
        assert now_on in (second.tcp_address, third.tcp_address)
        screen = terminal.wait_for(f"{me}@{now_on}")
        assert "● online" in screen

        await peer.send_message("channel", channel, "while you moved")
        terminal.wait_for("while you moved")
        terminal.send("after the move", literal=True)
        terminal.send("Enter")
        mine = await wait_for_message(peer, channel, "after the move")
        assert mine.from_.casefold() == me.casefold()
        history = await peer.history("channel", channel, limit=200)
        assert [m.content for m in history].count("after the move") == 1
    finally:
        terminal.close()
    # The list is remembered: a start without an address signs in by device, skipping the
    # dead first address for one of the others (each client tries them in its own order).
    again = Terminal([*chat_command(addresses[0], config_dir)[:4], "--config-dir", str(config_dir)])
    try:
        screen = again.wait_for(f"{me}@127.0.0.1:")
        on = re.search(rf"{me}@(\S+)", screen)
        assert on is not None and on.group(1) in (second.tcp_address, third.tcp_address), screen
        assert "● online" in screen and "Log in" not in screen
    finally:
        again.close()
        await peer.close()


async def wait_for_message(client: ArtpClient, channel: str, content: str) -> MsgEvent:
    """The live ``MSG`` with ``content`` in ``channel``, as the other client gets it."""
    async with asyncio.timeout(20):
        async for event in client.events():
            if isinstance(event, MsgEvent) and event.dest == channel and event.content == content:
                return event
    raise AssertionError(f"the session ended before {content!r} arrived")
