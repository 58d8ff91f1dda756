"""Replies, edits and reactions (ArTP/1.1 §14.9-14.12) typed into the real ``aronanet chat``
in tmux at 80x24, each gesture one burst of keys (one ``send-keys``: no delay between them);
the scripted client hoshino checks what the node stored (``HISTORY``)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal import Terminal, chat_command
from test_tmux_input import CHANNEL, SENSEI_PASSWORD, hoshino, keys, shows
from tui_helpers import Node

from aronanet.client.connection import ArtpClient
from aronanet.proto.messages import MsgEvent

SIZE = (80, 24)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

__all__ = ["hoshino"]  # the fixture, shared with test_tmux_input


@pytest.fixture
def small_terminal(node: Node, tmp_path: Path) -> Iterator[Terminal]:
    running = Terminal(chat_command(node.address, tmp_path / "cfg"), width=SIZE[0], height=SIZE[1])
    yield running
    running.close()


async def _stored(client: ArtpClient, content: str, timeout: float = 15.0) -> MsgEvent:
    """hoshino's view of the message whose text is (now) ``content``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = await client.history("channel", CHANNEL, limit=50)
        found = [m for m in page if m.content == content]
        if found or asyncio.get_running_loop().time() > deadline:
            assert found, f"{content!r} not in {[m.content for m in page]}"
            return found[-1]
        await asyncio.sleep(0.1)


async def _reactions(client: ArtpClient, msg_id: str, expected: list[tuple[str, int]]) -> None:
    for _ in range(150):
        page = await client.history("channel", CHANNEL, limit=50)
        message = next(m for m in page if m.id == msg_id)
        got = [(r.emoji, r.count) for r in message.reactions or []]
        if got == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"reactions {got} != {expected}")


async def test_up_edits_alt_up_replies_and_reacts_in_bursts(
    hoshino: ArtpClient, small_terminal: Terminal
) -> None:
    terminal = small_terminal
    await shows(terminal, "user name")
    await keys(terminal, "sensei", "Tab", SENSEI_PASSWORD, "Enter")
    await shows(terminal, "First visit to this node")
    await keys(terminal, "y")
    await shows(terminal, "Talk to Arona")
    await keys(terminal, "M-2")
    await shows(terminal, f"{CHANNEL}  no topic yet")
    asked = await hoshino.send_message("channel", CHANNEL, "lunch at noon?")
    await shows(terminal, "hoshino  lunch at noon?")

    # a typo, sent; then Up on the empty line, fix it, Enter: one burst
    await keys(terminal, "see you at noom", "Enter")
    sent = await _stored(hoshino, "see you at noom")
    await keys(terminal, "Up", "BSpace", "n", "Enter")
    edited = await _stored(hoshino, "see you at noon")
    assert edited.id == sent.id and isinstance(edited.edited, int)
    await shows(terminal, "see you at noon (edited)")

    # Alt+Up twice selects hoshino's question; r, the text, Enter: a reply, one burst
    await keys(terminal, "M-Up", "M-Up", "r", "yes, the usual place", "Enter")
    reply = await _stored(hoshino, "yes, the usual place")
    assert reply.reply_to == asked.msg_id
    await shows(terminal, "↳ hoshino: lunch at noon?")

    # select the question again and react with + and an emoji; then /react takes it back
    await keys(terminal, "M-Up", "M-Up", "M-Up", "+", "🎉", "Enter")
    await _reactions(hoshino, asked.msg_id, [("🎉", 1)])
    await shows(terminal, "🎉 1")
    await keys(terminal, "M-Up", "M-Up", "M-Up", "Escape", "/react 👍", "Enter")
    newest = await _stored(hoshino, "yes, the usual place")
    await _reactions(hoshino, newest.id, [("👍", 1)])
    await keys(terminal, "/react 👍", "Enter")
    await _reactions(hoshino, newest.id, [])
    # the 80x24 screen: the reply's quote above it, the reaction under the question, and
    # the selection's keys in the input's border
    await keys(terminal, "M-Up")
    screen = await shows(terminal, "r reply · e edit · d delete · + react")
    rows = [row.rstrip() for row in screen.splitlines()]
    assert len(rows) == SIZE[1] and max(len(row) for row in rows) <= SIZE[0]
    quote = next(i for i, row in enumerate(rows) if "↳ hoshino: lunch at noon?" in row)
    assert "sensei  yes, the usual place" in rows[quote + 1]
    assert "hoshino  lunch at noon?" in rows[quote - 3] and "🎉 1" in rows[quote - 2]
    assert "Traceback" not in screen
