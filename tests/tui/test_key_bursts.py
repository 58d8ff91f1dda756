"""Keys that arrive together (a paste, a password manager, tmux ``send-keys``) land once, in
order, in the field focused when each arrived. The keys are posted to the app in one go, as
the terminal driver posts a burst, with no pause for the app between them."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual._xterm_parser import XTermParser
from tui_helpers import open_chat, snapshot_app

from aronanet.client.state import Delivery
from aronanet.client.state.selectors import sidebar_order
from aronanet.tui import app as app_module
from aronanet.tui.app import AronaApp
from aronanet.tui.keys import read_escape_digit_as_alt
from aronanet.tui.screens.login import CredentialsSubmitted, LoginScreen
from aronanet.tui.theme import LIGHT
from aronanet.tui.widgets.chat_input import LINE_BREAK, ChatInput

SPECIAL = {"enter": "\r", "tab": "\t", "backspace": "\x7f", "up": None, "down": None}


def burst(app: AronaApp, *keys: str) -> None:
    """Post every key at once: a word is typed letter by letter, a key name pressed."""
    for key in keys:
        if key in SPECIAL or "+" in key:
            app.post_message(events.Key(key, SPECIAL.get(key)))
        else:
            for character in key:
                app.post_message(events.Key(character if character != " " else "space", character))


def queued_texts(app: AronaApp, key: str) -> list[str]:
    lines = app.state.buffers[key].lines
    return [line.text for line in lines if line.delivery is Delivery.QUEUED]


async def test_enter_in_a_burst_sends_each_line_once_with_its_own_text() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        before = queued_texts(app, "#general")
        burst(app, "k", "enter", "thx", "enter", "quick one", "enter", "quick two", "enter")
        await pilot.pause(0.2)
        assert queued_texts(app, "#general")[len(before) :] == [
            "k",
            "thx",
            "quick one",
            "quick two",
        ]
        assert app.screen.query_one(ChatInput).value == ""


async def test_backspace_and_history_keys_apply_where_they_were_typed() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        burst(app, "bax", "backspace", "c", "enter", "up", "!", "enter")
        await pilot.pause(0.2)
        assert queued_texts(app, "#general")[-2:] == ["bac", "bac!"]


async def test_alt_digits_and_lines_keep_their_order_in_a_burst() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        numbers = {b.key: n for n, b in enumerate(sidebar_order(app.state), 1)}
        lounge, general = numbers["#lounge"], numbers["#general"]
        burst(app, "here", "enter", f"alt+{lounge}", "there", "enter", f"alt+{general}", "x")
        await pilot.pause(0.2)
        assert queued_texts(app, "#general")[-1] == "here"
        assert queued_texts(app, "#lounge") == ["there"]
        assert app.state.active == "#general"


async def test_sidebar_numbers_follow_what_alt_n_and_ctrl_n_walk() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        order = [b.key for b in sidebar_order(app.state)]
        assert [b.kind for b in sidebar_order(app.state)] == sorted(
            (b.kind for b in sidebar_order(app.state)), key=("status", "channel", "user").index
        )
        await pilot.press("alt+1")
        assert app.state.active == order[0]
        await pilot.press("ctrl+n", "ctrl+n")
        assert app.state.active == order[2]
        await pilot.press("ctrl+b")
        assert app.state.active == order[1]


async def test_a_multi_line_paste_is_sent_whole_as_one_message() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        app.post_message(events.Paste("one\r\ntwo\nthree\n"))
        await pilot.pause(0.2)
        chat_input = app.screen.query_one(ChatInput)
        assert chat_input.value == f"one{LINE_BREAK}two{LINE_BREAK}three"
        notes = [line.text for line in app.state.current.lines if line.kind == "info"]
        assert "you pasted 3 lines" in notes[-1]
        await pilot.press("enter")
        assert queued_texts(app, "#general")[-1] == "one\ntwo\nthree"


class RecordingApp(AronaApp):
    """Keeps the submitted credentials instead of connecting."""

    CSS_PATH = str(Path(app_module.__file__).with_name("aronanet.tcss"))
    submitted: list[CredentialsSubmitted]

    async def on_credentials_submitted(self, message: CredentialsSubmitted) -> None:
        message.prevent_default()
        self.submitted.append(message)


async def test_a_password_manager_burst_fills_each_login_field() -> None:
    app = RecordingApp(snapshot_app(LIGHT).session._connector)
    submitted: list[CredentialsSubmitted] = []
    app.submitted = submitted
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        screen.query_one("#address").value = "127.0.0.1:7777"  # type: ignore[attr-defined]
        screen.query_one("#user").focus()
        await pilot.pause()
        burst(app, "bob", "tab", "bobpassword", "enter")
        await pilot.pause(0.3)
        assert screen.value("user") == "bob"
        assert screen.value("password") == "bobpassword"
        assert [m.credentials.user for m in submitted] == ["bob"]


def test_escape_then_a_digit_is_alt_digit_as_xterm_sends_it() -> None:
    read_escape_digit_as_alt()
    parser = XTermParser()
    keys = [*parser.feed("a\x1b2\x1b0"), *parser.feed("")]
    assert [key.key for key in keys] == ["a", "alt+2", "alt+0"]  # type: ignore[attr-defined]
    typed = [*XTermParser().feed("™£")]
    assert [key.character for key in typed] == ["™", "£"]  # type: ignore[attr-defined]
