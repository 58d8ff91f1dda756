"""The real ``aronanet chat`` process in a real terminal (tmux), against a real node."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Node

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One detached tmux session: send keys, read the screen."""

    def __init__(self, command: list[str]) -> None:
        self.name = f"arona-{uuid.uuid4().hex[:8]}"
        shell_command = " ".join(command)
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "36", shell_command],
            check=True,
        )

    def send(self, *keys: str, literal: bool = False) -> None:
        flags = ["-l"] if literal else []
        subprocess.run(["tmux", "send-keys", "-t", self.name, *flags, *keys], check=True)
        time.sleep(0.2)  # a key per read, as a person types; not an assertion

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


@pytest.fixture
def terminal(node: Node, tmp_path: Path) -> Iterator[Terminal]:
    command = [
        sys.executable,
        "-m",
        "aronanet.cli",
        "chat",
        node.address,
        "--config-dir",
        str(tmp_path / "cfg"),
    ]
    running = Terminal(command)
    yield running
    running.close()


def test_real_chat_process_registers_joins_and_sends(terminal: Terminal) -> None:
    terminal.wait_for("Welcome back, Sensei!")
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
