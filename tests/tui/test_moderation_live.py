"""Moderation (ArTP/1.1 §14.16-14.21) in the terminal client, driven by Pilot against a real
node: the operator's commands (checked on the node through a second, scripted client,
hoshino), MODERATION events from others rendered in Arona's words, role marks in the member
list, refusals explained, blocks hiding messages, and registration by an invitation link."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, notes, register, type_line
from textual.pilot import Pilot
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.client.moderation import channel_details
from aronanet.client.state import Delivery
from aronanet.errors import ClientError
from aronanet.proto.messages import Event
from aronanet.proto.moderation import ModerationEvent
from aronanet.tui.app import AronaApp
from aronanet.tui.screens.login import RegisterScreen
from aronanet.tui.widgets.chat_input import ChatInput
from aronanet.tui.widgets.member_list import MemberList
from support.invitations import admin_invite_link


class Inbox:
    """The MODERATION events the peer receives, collected in the background."""

    def __init__(self, client: ArtpClient) -> None:
        self.events: list[Event] = []
        self._task = asyncio.create_task(self._collect(client))

    async def _collect(self, client: ArtpClient) -> None:
        async for event in client.events():
            self.events.append(event)

    def actions(self) -> list[str]:
        return [e.action for e in self.events if isinstance(e, ModerationEvent)]

    def close(self) -> None:
        self._task.cancel()


@pytest.fixture
async def inbox(peer: ArtpClient) -> AsyncIterator[Inbox]:
    collected = Inbox(peer)
    yield collected
    collected.close()


def member_panel(app: AronaApp) -> str:
    return app.screen.query_one(MemberList).render().plain


async def until_note(pilot: Pilot[int], app: AronaApp, text: str) -> None:
    await wait_for(pilot, lambda: any(text in line for line in notes(app)))


async def roles_on_node(peer: ArtpClient, channel: str) -> dict[str, str]:
    details = await channel_details(peer, channel)
    return {member.user: member.role for member in details.roster}


async def test_an_owner_moderates_with_slash_commands_and_sees_marks_and_lines(
    node: Node, peer: ArtpClient, inbox: Inbox, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#mods")  # created: sensei owns it
        await peer.join("#mods")
        await wait_for(pilot, lambda: "hoshino" in app.state.current.members)
        await wait_for(pilot, lambda: "~sensei" in member_panel(app))
        assert " hoshino" in member_panel(app)

        await type_line(pilot, "/voice hoshino")
        await until_note(pilot, app, "sensei made hoshino voiced of #mods")
        assert (await roles_on_node(peer, "#mods"))["hoshino"] == "voiced"
        await wait_for(pilot, lambda: "+hoshino" in member_panel(app))
        await type_line(pilot, "/op hoshino")
        await wait_for(pilot, lambda: "@hoshino" in member_panel(app))
        assert (await roles_on_node(peer, "#mods"))["hoshino"] == "operator"
        panel = member_panel(app).splitlines()
        assert panel.index("~sensei") < panel.index("@hoshino")  # strongest first
        await type_line(pilot, "/names")
        await until_note(pilot, app, "#mods (2): ~sensei, @hoshino")
        await type_line(pilot, "/deop hoshino")
        await wait_for(pilot, lambda: " hoshino" in member_panel(app))

        await type_line(pilot, "/mode +m +t")
        await until_note(pilot, app, "sensei set #mods to moderated")
        details = await channel_details(peer, "#mods")
        assert (details.modes.moderated, details.modes.topic_locked) == (True, True)
        with pytest.raises(ClientError) as refused:
            await peer.send_message("channel", "#mods", "can I talk?")
        assert refused.value.code == "NOT_VOICED"
        await type_line(pilot, "/mode -m")
        await until_note(pilot, app, "sensei set #mods to topic locked")

        await type_line(pilot, "/mute hoshino 10m flooding")
        await until_note(pilot, app, "hoshino was muted in #mods by sensei until")
        with pytest.raises(ClientError) as muted:
            await peer.send_message("channel", "#mods", "hello?")
        assert muted.value.code == "MUTED"
        await type_line(pilot, "/unmute hoshino")
        await until_note(pilot, app, "hoshino may speak again in #mods")
        await peer.send_message("channel", "#mods", "thank you")

        await type_line(pilot, "/kick hoshino spam")
        await until_note(pilot, app, "hoshino was kicked from #mods by sensei: spam")
        await wait_for(pilot, lambda: "hoshino" not in app.state.current.members)
        await wait_for(pilot, lambda: "kick" in inbox.actions())
        kicked = next(
            e for e in inbox.events if isinstance(e, ModerationEvent) and e.action == "kick"
        )
        assert (kicked.user, kicked.by, kicked.reason) == ("hoshino", "sensei", "spam")

        await peer.join("#mods")
        await type_line(pilot, "/ban hoshino spam again")
        await until_note(pilot, app, "hoshino was banned from #mods by sensei: spam again")
        with pytest.raises(ClientError) as banned:
            await peer.join("#mods")
        assert banned.value.code == "BANNED"
        await type_line(pilot, "/mode")
        await until_note(pilot, app, "banned: hoshino by sensei: spam again")
        await type_line(pilot, "/unban hoshino")
        await until_note(pilot, app, "hoshino was unbanned from #mods by sensei")
        await peer.join("#mods")

        await type_line(pilot, "/mode +i")
        await until_note(pilot, app, "invite-only")
        await type_line(pilot, "/kick hoshino")
        await until_note(pilot, app, "hoshino was kicked from #mods by sensei")
        with pytest.raises(ClientError) as closed:
            await peer.join("#mods")
        assert closed.value.code == "INVITE_ONLY"
        await type_line(pilot, "/invite hoshino")
        await until_note(pilot, app, "sensei invited hoshino to #mods")
        await peer.join("#mods")


async def test_moderation_by_others_is_told_in_aronas_words_and_refusals_explained(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    await peer.join("#theirs")  # hoshino owns it
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#theirs")
        await wait_for(pilot, lambda: "~hoshino" in member_panel(app))

        await type_line(pilot, "/kick hoshino")
        await until_note(pilot, app, "only the channel's operators (and its owner) can do that")
        assert any("NOT_OPERATOR" in line for line in notes(app))

        await peer.set_modes("#theirs", moderated=True)
        await until_note(pilot, app, "hoshino set #theirs to moderated")
        await type_line(pilot, "may I speak?")
        await wait_for(
            pilot,
            lambda: any(
                x.delivery is Delivery.FAILED and "only voiced members" in x.failure
                for x in app.state.current.lines
            ),
        )

        await peer.set_role("#theirs", "sensei", "operator")
        await until_note(pilot, app, "hoshino made you an operator of #theirs")
        await wait_for(pilot, lambda: "@sensei" in member_panel(app))

        await peer.kick("#theirs", "sensei", "time to go")
        await wait_for(pilot, lambda: "#theirs" not in app.state.buffers)
        status = [line.text for line in app.state.buffers["*arona*"].lines]
        assert "you were kicked from #theirs by hoshino: time to go" in status


async def test_a_blocked_users_channel_messages_are_hidden_until_unblocked(
    node: Node, peer: ArtpClient, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await peer.join("#general")
        await join(pilot, app, "#general")
        await peer.send_message("channel", "#general", "buy my stuff")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "buy my stuff")

        await type_line(pilot, "/block hoshino")
        await until_note(pilot, app, "Blocked hoshino")
        assert not any(x.sender == "hoshino" for x in app.state.current.lines)
        assert await (await _same_user(node)).blocks() == ["hoshino"]
        await peer.send_message("channel", "#general", "still selling")
        with pytest.raises(ClientError) as refused:
            await peer.send_message("user", "sensei", "psst")
        assert refused.value.code == "BLOCKED"
        await type_line(pilot, "/block")
        await until_note(pilot, app, "you block: hoshino")
        assert not any(x.text == "still selling" for x in app.state.current.lines)

        await type_line(pilot, "/unblock hoshino")
        await until_note(pilot, app, "hoshino is no longer blocked")
        await peer.send_message("channel", "#general", "sorry")
        await wait_for(pilot, lambda: app.state.current.lines[-1].text == "sorry")


async def _same_user(node: Node) -> ArtpClient:
    """sensei on a second, scripted session (what the node stored for the account)."""
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await client.auth("sensei", PASSWORD)
    return client


@pytest.fixture
def invite_node(tmp_path: Path) -> Iterator[Node]:
    with Node(tmp_path / "node", flags=("--registration", "invite")) as running:
        yield running


async def test_an_invitation_link_pins_the_key_and_registers_with_its_token(
    invite_node: Node, tmp_path: Path
) -> None:
    link = admin_invite_link(invite_node.data_dir, invite_node.address)
    fingerprint, token = link.fingerprint, link.token
    app = make_app(invite_node, tmp_path / "cfg", user="", invite=link)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RegisterScreen))
        assert "invited" in str(app.screen.query_one("#account-title").render())
        await pilot.press(*"mika", "tab", *PASSWORD, "tab", *PASSWORD, "enter")
        # no trust question: the link's key is pinned as it is
        await wait_for(pilot, lambda: isinstance(app.focused, ChatInput))
        assert app.state.me == "mika"
        assert fingerprint in (tmp_path / "cfg" / "known_nodes").read_text()
    with pytest.raises(ClientError) as spent:  # single use: the token is gone
        client = await ArtpClient.connect(
            invite_node.address, device_key=X25519PrivateKey.generate()
        )
        await client.auth("yuuka", PASSWORD, register=True, invite=token)
    assert spent.value.code == "REGISTRATION_CLOSED"


async def test_an_invitation_link_naming_another_key_is_refused(
    invite_node: Node, tmp_path: Path
) -> None:
    real = admin_invite_link(invite_node.data_dir, invite_node.address)
    forged = "SHA256:" + "A" * 43
    token = real.token
    link = dataclasses.replace(real, fingerprint=forged)
    app = make_app(invite_node, tmp_path / "cfg", user="", invite=link)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RegisterScreen))
        await pilot.press(*"mika", "tab", *PASSWORD, "tab", *PASSWORD, "enter")
        error = app.screen.query_one("#account-error")
        await wait_for(pilot, lambda: "KEY_MISMATCH" in str(error.render()))
        assert app.state.me is None
    assert (
        not (tmp_path / "cfg" / "known_nodes").exists()
        or forged not in (tmp_path / "cfg" / "known_nodes").read_text()
    )
    # the token was not spent: registering with it still works
    client = await ArtpClient.connect(invite_node.address, device_key=X25519PrivateKey.generate())
    ok = await client.auth("mika", PASSWORD, register=True, invite=token)
    assert ok.user == "mika"
    await client.close()
