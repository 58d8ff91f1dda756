"""Signing in once per device in the real terminal client against a real node (issue 11):
the first start asks for the password, later starts with the same config directory sign in
by themselves (ArTP/1.1 §14.3), and a revoked device is sent back to the login screen with
the name filled in and the reason. Trust on first use and the changed-key refusal still run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from live_app import SIZE, make_app, type_line
from test_sync_live import device, log_in
from textual.pilot import Pilot
from textual.screen import Screen
from tui_helpers import PASSWORD, Node, wait_for

from aronanet.client import sync
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.tui.app import AronaApp
from aronanet.tui.screens.login import LoginScreen
from aronanet.tui.screens.trust import KeyChangedScreen, TrustScreen
from aronanet.tui.settings import load_settings
from aronanet.tui.widgets.chat_input import ChatInput

OTHER_FINGERPRINT = "SHA256:" + "A" * 43


def error_text(app: AronaApp) -> str:
    labels = app.screen.query("#account-error")
    return str(labels.first().render()) if labels else ""


async def watching(pilot: Pilot[int], condition: Callable[[], bool], seen: list[str]) -> None:
    """Run until ``condition()``, noting every screen on top meanwhile in ``seen``."""

    def check() -> bool:
        seen.append(type(pilot.app.screen).__name__)
        return condition()

    await wait_for(pilot, check)


async def reach(pilot: Pilot[int], kind: type[Screen[object]], seen: list[str]) -> None:
    await watching(pilot, lambda: isinstance(pilot.app.screen, kind), seen)


async def in_chat(pilot: Pilot[int], seen: list[str]) -> None:
    await watching(pilot, lambda: isinstance(pilot.app.focused, ChatInput), seen)


async def password_login(pilot: Pilot[int], app: AronaApp, user: str) -> None:
    """On the login screen, filled in with ``user``: the password signs in (and records the
    device), the node's key being known already."""
    assert app.screen.query_one("#user").value == user  # type: ignore[attr-defined]
    await log_in(pilot, trust=False)
    assert app.state.me == user


async def signed_in_once(node: Node, config: Path) -> None:
    """The first start on this device: the login screen, the password, trust."""
    await (await device(node, "sensei", register=True)).close()
    app = make_app(node, config)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await log_in(pilot)
    assert load_settings(config).devices == {node.address: "sensei"}


@pytest.fixture
async def config(node: Node, tmp_path: Path) -> Path:
    """A config directory whose device signed in as sensei, with the password, once."""
    directory = tmp_path / "cfg"
    await signed_in_once(node, directory)
    return directory


async def test_the_second_start_signs_in_with_the_device_without_the_login_screen(
    node: Node, config: Path
) -> None:
    assert PASSWORD not in (config / "chat.json").read_text(encoding="utf-8")
    again = make_app(node, config)
    seen: list[str] = []
    async with again.run_test(size=SIZE) as pilot:
        await in_chat(pilot, seen)
        assert again.state.me == "sensei"
        assert "LoginScreen" not in seen and "TrustScreen" not in seen


async def test_a_revoked_device_gets_the_login_screen_with_the_name_and_the_reason(
    node: Node, config: Path
) -> None:
    other = await device(node, "sensei")
    for signed_in in await sync.devices(other):  # the terminal's device among them
        if signed_in.id != other.device:
            await sync.revoke_device(other, signed_in.id)
    await other.close()
    again = make_app(node, config)
    seen: list[str] = []
    async with again.run_test(size=SIZE) as pilot:
        await reach(pilot, LoginScreen, seen)
        await wait_for(pilot, lambda: "could not sign you in as sensei" in error_text(again))
        assert "AUTH_FAILED" in error_text(again)
        await password_login(pilot, again, "sensei")
    assert load_settings(config).devices == {node.address: "sensei"}


async def test_login_flag_shows_the_login_screen_to_sign_in_as_someone_else(
    node: Node, config: Path
) -> None:
    await (await device(node, "hoshino", register=True)).close()
    again = make_app(node, config, user="hoshino", sign_in_by_device=False)
    async with again.run_test(size=SIZE) as pilot:
        assert isinstance(again.screen, LoginScreen)
        await password_login(pilot, again, "hoshino")
    assert load_settings(config).devices == {node.address: "hoshino"}


async def test_an_unknown_node_key_still_asks_before_the_device_signs_in(
    node: Node, config: Path
) -> None:
    KnownNodes(ClientPaths.at(config).known_nodes).forget(node.address)
    again = make_app(node, config)
    seen: list[str] = []
    async with again.run_test(size=SIZE) as pilot:
        await reach(pilot, TrustScreen, seen)
        await pilot.press("y")
        await in_chat(pilot, seen)
        assert "LoginScreen" not in seen


async def test_a_changed_node_key_is_refused_before_the_device_signs_in(
    node: Node, config: Path
) -> None:
    known = KnownNodes(ClientPaths.at(config).known_nodes)
    known.forget(node.address)
    known.pin(node.address, OTHER_FINGERPRINT)
    again = make_app(node, config)
    seen: list[str] = []
    async with again.run_test(size=SIZE) as pilot:
        await reach(pilot, KeyChangedScreen, seen)
        await pilot.press("escape")
        await reach(pilot, LoginScreen, seen)
        assert "KEY_CHANGED" in error_text(again)
        assert again.state.me is None
    assert known.lookup(node.address) == OTHER_FINGERPRINT


async def test_logout_signs_the_device_out_so_the_next_start_asks_for_the_password(
    node: Node, config: Path
) -> None:
    again = make_app(node, config)
    async with again.run_test(size=SIZE) as pilot:
        await in_chat(pilot, [])
        await type_line(pilot, "/logout")
        await wait_for(pilot, lambda: again.return_code == 0)
    assert load_settings(config).devices == {}
    third = make_app(node, config)
    async with third.run_test(size=SIZE) as pilot:
        assert isinstance(third.screen, LoginScreen)
        third.screen.query_one("#password").focus()
        await pilot.press("enter")  # an empty password: the device alone is refused now
        await wait_for(pilot, lambda: "AUTH_FAILED" in error_text(third))
