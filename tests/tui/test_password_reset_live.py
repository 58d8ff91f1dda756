"""A forgotten password in the terminal client (§14.21), against a real node: the admin's
real ``aronanet admin reset-password`` prints a token, the user enters it with a new
password on the login screen (Ctrl+T) and is in; the old password is dead, and the spent
token is refused in Arona's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from live_app import SIZE, make_app, notes
from textual.pilot import Pilot
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client.connection import ArtpClient
from aronanet.errors import ClientError
from aronanet.tui.app import AronaApp
from aronanet.tui.screens.login import LoginScreen, ResetScreen
from aronanet.tui.screens.trust import TrustScreen
from aronanet.tui.widgets.chat_input import ChatInput
from support.invitations import admin_reset_token

NEW_PASSWORD = "a brand new horse"


async def log_in(node: Node, password: str) -> ArtpClient:
    client = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    try:
        await client.auth("sensei", password)
    except BaseException:
        await client.close()
        raise
    return client


async def submit_reset(pilot: Pilot[int], new_password: str) -> None:
    """On the reset form, token already typed: the new password twice, Enter, trust once."""
    await pilot.press("tab", *new_password, "tab", *new_password, "enter")


def error_line(app: AronaApp) -> str:
    return str(app.screen.query_one("#account-error").render())


async def test_a_reset_token_sets_a_new_password_once(node: Node, tmp_path: Path) -> None:
    old_device = await ArtpClient.connect(node.address, device_key=X25519PrivateKey.generate())
    await old_device.auth("sensei", PASSWORD, register=True)
    await old_device.close()
    token = admin_reset_token(node.data_dir, "sensei")

    app = make_app(node, tmp_path / "cfg", sign_in_by_device=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ResetScreen))
        assert app.focused is app.screen.query_one("#token")  # address and name kept
        await pilot.press(*token)
        app.save_screenshot("reset_form.svg", str(tmp_path))
        await submit_reset(pilot, NEW_PASSWORD)
        await wait_for(pilot, lambda: isinstance(app.screen, TrustScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.focused, ChatInput))
        assert app.state.me == "sensei"
        assert any("new password is set" in line for line in notes(app))

    with pytest.raises(ClientError) as refused:
        await log_in(node, PASSWORD)
    assert refused.value.code == "AUTH_FAILED"
    client = await log_in(node, NEW_PASSWORD)
    await client.close()

    # ``aronanet chat --reset-token TOKEN``: the form opens filled in; the token is spent
    again = make_app(node, tmp_path / "cfg2", sign_in_by_device=False, reset_token=token)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(again.screen, ResetScreen))
        assert again.screen.query_one("#token").value == token  # type: ignore[attr-defined]
        assert again.focused is again.screen.query_one("#password")
        await pilot.press(*"another password", "tab", *"another password", "enter")
        await wait_for(pilot, lambda: isinstance(again.screen, TrustScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: "AUTH_FAILED" in error_line(again))
        assert "unknown, used or expired" in error_line(again)
        assert "ask your node's admin for a new one" in error_line(again)
        assert again.state.me is None
        again.save_screenshot("reset_refused.svg", str(tmp_path))
    client = await log_in(node, NEW_PASSWORD)  # the refused attempt changed nothing
    await client.close()


async def test_the_reset_form_checks_before_sending(node: Node, tmp_path: Path) -> None:
    app = make_app(node, tmp_path / "cfg", sign_in_by_device=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#to-reset")
        await wait_for(pilot, lambda: isinstance(app.screen, ResetScreen))
        await pilot.press("enter")
        assert "reset token" in error_line(app)
        await pilot.press(*"tok", "tab", *"12345678", "tab", *"12345679", "enter")
        assert "differ" in error_line(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
