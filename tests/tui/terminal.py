"""A real terminal for the real ``aronanet chat``: one detached tmux session.

Keys go in through ``tmux send-keys`` (several in one call arrive as one burst, as from a
password manager or a fast typist), pastes through ``paste-buffer`` (bracketed or not), and
the screen comes back from ``capture-pane``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path


def chat_command(address: str, config_dir: Path) -> list[str]:
    """The real ``aronanet chat`` of this virtual environment, with its own config dir."""
    return [sys.executable, "-m", "aronanet.cli", "chat", address, "--config-dir", str(config_dir)]


class Terminal:
    """One detached tmux session on a tmux server of its own (``-L``): a test never meets a
    shared server that is just exiting after another test's last session closed ("server
    exited unexpectedly"), nor anybody's own tmux sessions."""

    def __init__(self, command: list[str], *, width: int = 120, height: int = 36) -> None:
        self.name = f"arona-{uuid.uuid4().hex[:8]}"
        # The shell tmux starts the command with may carry COLUMNS=80 and LINES=24 (seen when
        # pytest starts the tmux server), and Textual takes those over the real window size:
        # the client drew 80x24 in any window. Without them it reads the window's size.
        shell_command = " ".join(["env", "-u", "COLUMNS", "-u", "LINES", *command])
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell_command
        )

    def _tmux(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.name, *args],
            check=True,
            capture_output=True,
            text=True,
            input=stdin,
        )
        return result.stdout

    def send(self, *keys: str, literal: bool = False, pause: float = 0.2) -> None:
        """``tmux send-keys``: every key of one call reaches the client in one write."""
        flags = ["-l"] if literal else []
        self._tmux("send-keys", "-t", self.name, *flags, *keys)
        time.sleep(pause)  # lets a person-paced test breathe; bursts pass pause=0

    def paste(self, text: str, *, bracketed: bool) -> None:
        """Paste ``text`` as a terminal does: wrapped in ESC[200~ ... ESC[201~ when the
        client asked for bracketed paste and ``bracketed``, else as bare keys."""
        buffer = f"{self.name}-paste"
        self._tmux("load-buffer", "-b", buffer, "-", stdin=text)
        self._tmux(
            "paste-buffer", "-d", "-b", buffer, "-t", self.name, *(["-p"] if bracketed else [])
        )

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.05)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.name, "kill-server"], check=False, capture_output=True)
