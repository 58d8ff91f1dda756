"""Invitation links and password reset tokens for tests (§14.21), made by the real
``aronanet admin invite`` / ``reset-password`` on a (running) node's data directory, as an
operator would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aronanet.client.invite_link import InviteLink, parse_invite_link


def admin_invite(data_dir: Path, address: str, *, uses: int = 1) -> str:
    """The ``aronanet://HOST:PORT/?fp=...&invite=...`` link ``aronanet admin invite`` prints."""
    command = [sys.executable, "-m", "aronanet.cli", "admin", "--data-dir", str(data_dir)]
    printed = subprocess.run(
        [*command, "invite", "--address", address, "--uses", str(uses), "--no-qr"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return next(line for line in printed.splitlines() if line.startswith("aronanet://"))


def admin_invite_link(data_dir: Path, address: str) -> InviteLink:
    return parse_invite_link(admin_invite(data_dir, address))


def admin_reset_token(data_dir: Path, user: str) -> str:
    """The one-time token ``aronanet admin reset-password USER`` prints (its last line)."""
    command = [sys.executable, "-m", "aronanet.cli", "admin", "--data-dir", str(data_dir)]
    printed = subprocess.run(
        [*command, "reset-password", user],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return printed.strip().splitlines()[-1]
