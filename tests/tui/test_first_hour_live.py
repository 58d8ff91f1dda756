"""A newcomer's first minutes in the real app against a real node: the words they meet."""

from __future__ import annotations

from pathlib import Path

from live_app import SIZE, join, make_app, notes, register, type_line
from tui_helpers import Node, snapshot_app, wait_for

from aronanet.client.state import STATUS_KEY, Delivery, LinkStatus
from aronanet.tui import voice
from aronanet.tui.screens.login import LoginScreen
from aronanet.tui.theme import LIGHT


def title(screen: object) -> str:
    assert isinstance(screen, LoginScreen)
    return str(screen.query_one("#account-title").render())


async def test_the_first_launch_welcomes_instead_of_welcoming_back() -> None:
    async with snapshot_app(LIGHT).run_test(size=SIZE) as pilot:  # nothing saved yet
        assert "Welcome back" not in title(pilot.app.screen)
        assert "New here?" in title(pilot.app.screen)
    returning = snapshot_app(LIGHT)
    returning.settings = returning.settings.__class__(address="127.0.0.1:7777", user="sensei")
    async with returning.run_test(size=SIZE) as pilot:
        assert title(pilot.app.screen) == "Welcome back, Sensei!"


async def test_a_new_account_is_greeted_and_its_own_topic_change_shows(
    node: Node, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        greeting = [line.text for line in app.state.buffers[STATUS_KEY].lines]
        assert any(text.startswith("Welcome, Sensei sensei!") for text in greeting)
        assert not any("Welcome back" in text for text in greeting)
        await join(pilot, app, "#general")
        await type_line(pilot, "/topic Budget week!")
        await wait_for(pilot, lambda: app.state.current.topic == "Budget week!")
        assert notes(app)[-1] == "You set the topic of #general: Budget week!"


async def test_reconnect_now_leaves_a_line_in_each_buffer_and_comes_back(
    node: Node, tmp_path: Path
) -> None:
    app = make_app(node, tmp_path / "cfg")
    async with app.run_test(size=SIZE) as pilot:
        await register(pilot)
        await join(pilot, app, "#general")
        await type_line(pilot, "/reconnect")
        await wait_for(pilot, lambda: voice.back_online() in notes(app))
        shown = notes(app)
        assert shown.index(voice.disconnected()) < shown.index(voice.back_online())
        assert app.state.link.status is LinkStatus.ONLINE
        await type_line(pilot, "still here")
        await wait_for(pilot, lambda: app.state.current.lines[-1].delivery is Delivery.SENT)
