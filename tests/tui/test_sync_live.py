"""ArTP/1.1 sync in the real terminal client against a real node: conversations on login,
/devices, /password, read markers across devices, and the outbox across a restart."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, join, make_app, notes, register, type_line
from textual.pilot import Pilot
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client import sync
from aronanet.client.connection import ArtpClient
from aronanet.client.state import Delivery, LinkStatus
from aronanet.tui.app import AronaApp
from aronanet.tui.screens.password import PasswordScreen
from aronanet.tui.screens.trust import TrustScreen
from aronanet.tui.widgets.chat_input import ChatInput

NEW_PASSWORD = "a brand new password"


async def device(node: Node, user: str, *, register: bool = False) -> ArtpClient:
    """Another device (its own key) signed in as ``user`` with the password."""
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await client.auth(user, PASSWORD, register=register)
    return client


async def log_in(pilot: Pilot[int], password: str = PASSWORD, *, trust: bool = True) -> None:
    """Log in from the login screen with Enter in the password field (empty: by device)."""
    field = pilot.app.screen.query_one("#password")
    field.value = password  # type: ignore[attr-defined]
    field.focus()
    await pilot.press("enter")
    if trust:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TrustScreen))
        await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(pilot.app.focused, ChatInput))


def texts(app: AronaApp, key: str) -> list[str]:
    return [line.text for line in app.state.buffers[key].lines if line.sender]


async def test_a_dm_that_arrived_offline_is_listed_on_login_with_its_counts(
    node: Node, tmp_path: Path
) -> None:
    sensei = await device(node, "sensei", register=True)
    await sensei.join("#general")
    await sensei.close()
    hoshino = await device(node, "hoshino", register=True)
    await hoshino.join("#general")
    await hoshino.send_message("user", "sensei", "are you awake?")
    await hoshino.send_message("user", "sensei", "sensei!")
    await hoshino.send_message("channel", "#general", "@sensei the meeting moved")
    await hoshino.send_message("channel", "#general", "lunch, anyone?")
    await hoshino.close()
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot)
        await wait_for(pilot, lambda: "hoshino" in app.state.buffers)
        await wait_for(pilot, lambda: len(texts(app, "hoshino")) == 2)
        await wait_for(pilot, lambda: app.state.buffers["hoshino"].unread == 2)
        dm, channel = app.state.buffers["hoshino"], app.state.buffers["#general"]
        assert (dm.kind, dm.unread, dm.highlights) == ("user", 2, 2)
        assert texts(app, "hoshino") == ["are you awake?", "sensei!"]
        assert (channel.unread, channel.highlights) == (2, 1)


async def test_viewing_a_buffer_marks_it_read_on_every_device(node: Node, tmp_path: Path) -> None:
    other = await device(node, "sensei", register=True)
    await other.join("#general")
    hoshino = await device(node, "hoshino", register=True)
    await hoshino.join("#general")
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot)
        sent = await hoshino.send_message("channel", "#general", "hello sensei")
        await wait_for(pilot, lambda: app.state.buffers["#general"].unread == 1)
        # Another device reads it: the count here clears (READ event).
        await sync.mark_read(other, "channel", "#general", str(sent.msg_id))
        await wait_for(pilot, lambda: app.state.buffers["#general"].unread == 0)
        assert app.state.buffers["#general"].read == sent.msg_id
        # A new message, read here by switching to the buffer: the node records it.
        second = await hoshino.send_message("channel", "#general", "second")
        await wait_for(pilot, lambda: app.state.buffers["#general"].unread == 1)
        await pilot.press("alt+2")
        await wait_for(pilot, lambda: app.state.buffers["#general"].read == second.msg_id)
        [info] = [c for c in await sync.conversations(other) if c.dest == "#general"]
        assert (info.read, info.unread) == (second.msg_id, 0)
    await other.close()
    await hoshino.close()


async def test_devices_lists_renames_and_revokes_another_device(node: Node, tmp_path: Path) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        other = await device(node, "sensei")
        await type_line(pilot, "/devices")
        await wait_for(pilot, lambda: any("2 device(s)" in text for text in notes(app)))
        listing = notes(app)[-2:]
        assert sum("← this one" in line for line in listing) == 1
        other_number = "2" if "← this one" in listing[0] else "1"
        await type_line(pilot, f"/devices rename {other_number} old laptop")
        await wait_for(pilot, lambda: "is now called 'old laptop'" in notes(app)[-1])
        await type_line(pilot, "/devices")
        await wait_for(pilot, lambda: any("old laptop" in line for line in notes(app)[-2:]))
        await type_line(pilot, f"/devices revoke {other_number}")
        await wait_for(pilot, lambda: "is signed out" in notes(app)[-1])
        await wait_for(pilot, lambda: other.closed)
        await type_line(pilot, "/devices nonsense")
        assert "usage: /devices" in notes(app)[-1]


async def test_password_change_signs_out_the_other_devices(node: Node, tmp_path: Path) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        other = await device(node, "sensei")
        await type_line(pilot, "/password")
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordScreen))
        for field, value in (("old", PASSWORD), ("new", NEW_PASSWORD), ("again", NEW_PASSWORD)):
            app.screen.query_one(f"#{field}").value = value  # type: ignore[attr-defined]
        await pilot.click("#change")
        await wait_for(pilot, lambda: "password is changed" in notes(app)[-1])
        await wait_for(pilot, lambda: other.closed)
    fresh = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    assert (await fresh.auth("sensei", NEW_PASSWORD)).user == "sensei"
    await fresh.close()


async def test_a_line_typed_offline_survives_a_restart_and_is_sent_once(
    node: Node, tmp_path: Path
) -> None:
    config = tmp_path / "cfg"
    app = make_app(node, config)
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        node.stop()
        await wait_for(pilot, lambda: app.state.link.status is not LinkStatus.ONLINE)
        await type_line(pilot, "typed before the restart")
        [pending] = [line for line in app.state.current.lines if line.sender]
        assert (pending.text, pending.delivery) == ("typed before the restart", Delivery.QUEUED)
    assert list((config / "outbox").iterdir())  # on disk, waiting
    node.start()
    again = make_app(node, config)
    async with again.run_test(size=SIZE) as pilot:
        # by device, by itself: no login screen and no password this time
        await wait_for(pilot, lambda: isinstance(pilot.app.focused, ChatInput))
        await wait_for(pilot, lambda: "#general" in again.state.buffers)
        await wait_for(
            pilot,
            lambda: (
                [
                    (line.text, line.delivery)
                    for line in again.state.buffers["#general"].lines
                    if line.sender
                ]
                == [("typed before the restart", Delivery.SENT)]
            ),
        )
    reader = await device(node, "hoshino", register=True)
    await reader.join("#general")
    history = await reader.history("channel", "#general")
    await reader.close()
    assert [m.content for m in history] == ["typed before the restart"]
    assert isinstance(history[0].cid, str)


async def test_an_unknown_device_without_a_password_is_told_to_use_it(
    node: Node, tmp_path: Path
) -> None:
    await (await device(node, "sensei", register=True)).close()
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#password")
        field.value = ""  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen))
        await pilot.press("y")

        def error_text() -> str:
            labels = app.screen.query("#account-error")
            return str(labels.first().render()) if labels else ""

        await wait_for(pilot, lambda: "log in with your password" in error_text())


async def test_a_revoked_device_stays_signed_out_instead_of_reusing_the_password(
    node: Node, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        other = await device(node, "sensei")
        [this_one] = [d for d in await sync.devices(other) if d.id != other.device]
        await sync.revoke_device(other, this_one.id)
        await wait_for(pilot, lambda: app.state.link.status is LinkStatus.OFFLINE)
        status = app.state.buffers["*arona*"]
        assert "log in with your password" in status.lines[-1].text
        assert [d.id for d in await sync.devices(other)] == [other.device]
        await other.close()
