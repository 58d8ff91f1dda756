"""The real ``aronanet chat`` started with an invitation link (§14.21), in tmux, against a
real node that registers by invitation only: no trust question (the link pins the key), the
registration form, the account created with the token of the link ``aronanet admin invite``
printed, then a moderation command."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal import Terminal, chat_command
from tui_helpers import PASSWORD, Node

from aronanet.client.invite_link import parse_invite_link
from support.invitations import admin_invite

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def invite_node(tmp_path: Path) -> Iterator[Node]:
    with Node(tmp_path / "node", flags=("--registration", "invite")) as running:
        yield running


def test_chat_with_an_invitation_link_registers_without_the_trust_question(
    invite_node: Node, tmp_path: Path
) -> None:
    link = admin_invite(invite_node.data_dir, invite_node.address)
    fingerprint = parse_invite_link(link).fingerprint
    terminal = Terminal(chat_command(link, tmp_path / "cfg"))
    try:
        terminal.wait_for("You're invited, Sensei!")
        terminal.send("hina", literal=True)
        terminal.send("Tab")
        terminal.send(PASSWORD, literal=True)
        terminal.send("Tab")
        terminal.send(PASSWORD, literal=True)
        terminal.send("Enter")
        screen = terminal.wait_for("Talk to Arona")
        assert "First visit to this node" not in screen
        terminal.send("/join #prefects", literal=True)
        terminal.send("Enter")
        terminal.wait_for("Sensei, you are connected to")
        terminal.wait_for("~hina")  # the creator owns the channel: the member list says so
        terminal.send("/mode +i", literal=True)
        terminal.send("Enter")
        terminal.wait_for("hina set #prefects to invite-only")
    finally:
        terminal.close()
    assert fingerprint in (tmp_path / "cfg" / "known_nodes").read_text()
