"""The real ``aronanet chat`` process in a real terminal (tmux), against a real node."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from terminal import Terminal, chat_command
from tui_helpers import PASSWORD, Node

from aronanet.client.connection import ArtpClient

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def terminal(node: Node, tmp_path: Path) -> Iterator[Terminal]:
    running = Terminal(chat_command(node.address, tmp_path / "cfg"))
    yield running
    running.close()


def test_real_chat_process_registers_joins_and_sends(terminal: Terminal) -> None:
    terminal.wait_for("Welcome, Sensei! New here?")
    terminal.send("C-r")
    terminal.wait_for("Choose a name")
    terminal.send("sensei", literal=True)
    terminal.send("Tab")
    terminal.send("password1", literal=True)
    terminal.send("Tab")
    terminal.send("password1", literal=True)
    terminal.send("Enter")
    terminal.wait_for("First visit to this node")
    terminal.send("y")
    terminal.wait_for("Talk to Arona")
    terminal.send("/join #general", literal=True)
    terminal.send("Enter")
    terminal.wait_for("Sensei, you are connected to")
    terminal.send("hello from tmux", literal=True)
    terminal.send("Enter")
    screen = terminal.wait_for("hello from tmux")
    assert "● online" in screen
    assert "#general" in screen


async def test_a_second_start_signs_in_with_the_device_without_a_password(
    node: Node, tmp_path: Path
) -> None:
    """Issue 11: the password once per device; the next ``aronanet chat`` goes straight in."""
    other = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await other.auth("sensei", PASSWORD, register=True)
    await other.close()
    command = chat_command(node.address, tmp_path / "cfg")
    first = Terminal(command)
    try:
        first.wait_for("Welcome, Sensei! New here?")
        first.send("sensei", literal=True)
        first.send("Tab")
        first.send(PASSWORD, literal=True)
        first.send("Enter")
        first.wait_for("First visit to this node")
        first.send("y")
        first.wait_for("Talk to Arona")
    finally:
        first.close()
    second = Terminal(command)
    try:
        # no key typed: no login screen, no trust question
        screen = second.wait_for("Welcome back, Sensei sensei!")
        assert "Talk to Arona" in screen
        assert "Log in" not in screen
    finally:
        second.close()
