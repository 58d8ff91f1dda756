"""Fast input through a real terminal: the real ``aronanet chat`` in tmux, a real node, and a
second, scripted client that reads what actually went out.

Every burst is one ``tmux send-keys`` call (the keys reach the client in one write, with no
delay between them), as a password manager, a paste or a fast typist delivers them. The
scripted client checks that each message arrived exactly once, in order, with its exact text.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from terminal import Terminal, chat_command
from tui_helpers import PASSWORD, Node

from aronanet.client.connection import ArtpClient
from aronanet.proto.messages import MsgEvent

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

CHANNEL = "#general"
SENSEI_PASSWORD = "password1"
#: How long to keep listening after the last expected message: a repeat would show by then.
QUIET_SECONDS = 0.7


class Inbox:
    """What the scripted client hoshino receives: (where, text), in arrival order."""

    def __init__(self, client: ArtpClient) -> None:
        self.received: list[tuple[str, str]] = []
        self._task = asyncio.create_task(self._collect(client))

    async def _collect(self, client: ArtpClient) -> None:
        async for event in client.events():
            if isinstance(event, MsgEvent):
                where = event.dest if event.dest_type == "channel" else "dm"
                self.received.append((where, event.content))

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[tuple[str, str]]:
        """The messages once ``count`` have arrived and no more came for a moment."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(QUIET_SECONDS)
        return list(self.received)

    async def close(self) -> None:
        self._task.cancel()


@pytest.fixture
async def hoshino(node: Node) -> AsyncIterator[ArtpClient]:
    """The other end: in #general, reading every message; sensei exists and is in #general."""
    sensei = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await sensei.auth("sensei", SENSEI_PASSWORD, register=True)
    await sensei.join(CHANNEL)
    await sensei.close()
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await client.auth("hoshino", PASSWORD, register=True)
    await client.join(CHANNEL)
    yield client
    await client.close()


@pytest.fixture
def terminal(node: Node, tmp_path: Path) -> Iterator[Terminal]:
    running = Terminal(chat_command(node.address, tmp_path / "cfg"))
    yield running
    running.close()


async def keys(terminal: Terminal, *sent: str, literal: bool = False) -> None:
    """One burst: every key in one ``send-keys`` call, no pause after it."""
    await asyncio.to_thread(terminal.send, *sent, literal=literal, pause=0)


async def shows(terminal: Terminal, text: str) -> str:
    return await asyncio.to_thread(terminal.wait_for, text)


async def test_bursts_pastes_and_alt_digits_send_every_line_once_in_order(
    hoshino: ArtpClient, terminal: Terminal
) -> None:
    inbox = Inbox(hoshino)
    try:
        await shows(terminal, "user name")
        # a password manager: user name, Tab, password, Enter in one write
        await keys(terminal, "sensei", "Tab", SENSEI_PASSWORD, "Enter")
        await shows(terminal, "First visit to this node")
        await keys(terminal, "y")
        await shows(terminal, "Talk to Arona")
        await shows(terminal, f"2 {CHANNEL}")  # the sidebar numbers buffers, Arona is 1

        # Alt+2 (ESC 2 from tmux) switches to #general, then lines typed in one burst
        await keys(terminal, "M-2", "k", "Enter", "thx", "Enter")
        await keys(terminal, "quick one", "Enter", "quick two", "Enter")
        # pastes the terminal does not bracket: typed lines, with CR or LF line ends
        await asyncio.to_thread(terminal.paste, "p1\rp2\rp3\r", bracketed=False)
        await keys(terminal, "n1\nn2\n", literal=True)
        # a bracketed paste of three lines: one message of three lines
        await asyncio.to_thread(terminal.paste, "line one\nline two\nline three", bracketed=True)
        await keys(terminal, "Enter")
        # /msg sends a DM without leaving #general; then Alt+3 (the DM) and back with Alt+2
        await keys(terminal, "/msg hoshino psst", "Enter", "still here", "Enter")
        await keys(terminal, "M-3", "in private", "Enter", "M-2", "back", "Enter")

        received = await inbox.wait_for(15)
    finally:
        await inbox.close()

    channel = [text for where, text in received if where == CHANNEL]
    private = [text for where, text in received if where == "dm"]
    assert channel == [
        "k",
        "thx",
        "quick one",
        "quick two",
        "p1",
        "p2",
        "p3",
        "n1",
        "n2",
        "line one\nline two\nline three",
        "still here",
        "back",
    ]
    assert private == ["psst", "in private"]
    assert received.index((CHANNEL, "still here")) > received.index(("dm", "psst"))
    assert "™" not in terminal.screen()
