"""The input line and commands inside the app, fed from reducer state (no node needed)."""

from __future__ import annotations

from tui_helpers import open_chat, snapshot_app

from aronanet.tui.theme import DARK, LIGHT
from aronanet.tui.widgets.chat_input import ChatInput, candidates_for


def test_candidates_pick_commands_channels_or_nicks_by_prefix() -> None:
    vocabulary = (["hoshino", "Hina"], ["#general", "#lounge"], ["/join", "/me", "/msg"])
    assert candidates_for("/m", True, vocabulary) == ["/me", "/msg"]
    assert candidates_for("#l", False, vocabulary) == ["#lounge"]
    assert candidates_for("h", False, vocabulary) == ["Hina", "hoshino"]
    assert candidates_for("/m", False, vocabulary) == []


async def test_tab_completes_nicks_then_cycles() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        await open_chat(pilot)
        chat_input = pilot.app.screen.query_one(ChatInput)
        await pilot.press("h", "o", "tab")
        assert chat_input.value == "hoshino: "
        chat_input.value = "ping #lo"
        chat_input.cursor_position = len(chat_input.value)
        await pilot.press("tab")
        assert chat_input.value == "ping #lounge "
        chat_input.value = ""
        await pilot.press("/", "j", "o", "tab")
        assert chat_input.value == "/join "


async def test_up_and_down_walk_the_input_history() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await pilot.press(*"/clear", "enter", *"/names", "enter", *"draft")
        chat_input = app.screen.query_one(ChatInput)
        await pilot.press("up")
        assert chat_input.value == "/names"
        await pilot.press("up", "up")
        assert chat_input.value == "/clear"
        await pilot.press("down", "down")
        assert chat_input.value == "draft"


async def test_unknown_command_and_bad_arguments_get_a_helpful_line() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await pilot.press(*"/jion #x", "enter", *"/msg", "enter")
        errors = [line.text for line in app.state.current.lines if line.kind == "error"]
        assert errors[-2].startswith("unknown command /jion (did you mean /join?)")
        assert errors[-1] == "usage: /msg NAME TEXT — send TEXT to a user or channel"


async def test_typed_action_is_pending_until_the_node_confirms_it() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await pilot.press(*"/me waves", "enter")
        line = next(x for x in reversed(app.state.current.lines) if x.kind == "action")
        assert (line.text, line.delivery.value) == ("waves", "queued")


async def test_f2_and_theme_command_switch_between_light_and_dark() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await pilot.press("f2")
        assert app.theme == DARK
        await pilot.press(*"/theme light", "enter")
        assert app.theme == LIGHT
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Arona: light theme", "Arona: dark theme"} <= set(commands)
