"""The real ``aronanet chat`` process in a real terminal (tmux), against a real node."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Node
from terminal import Terminal, chat_command

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
