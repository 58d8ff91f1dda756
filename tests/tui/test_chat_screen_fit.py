"""The chat screen at any width, scrolled anywhere, and the words around switching buffers."""

from __future__ import annotations

from tui_helpers import open_chat, snapshot_app

from aronanet.client.state import MessageQueued, Noted, RosterLoaded, sidebar_order
from aronanet.tui import voice
from aronanet.tui.app import AronaApp
from aronanet.tui.theme import LIGHT
from aronanet.tui.widgets.bars import HaloHeader
from aronanet.tui.widgets.buffer_list import BufferList
from aronanet.tui.widgets.member_list import MemberList
from aronanet.tui.widgets.message_log import MORE_BELOW, MessageLog


def text_width(app: AronaApp) -> int:
    return app.screen.query_one(MessageLog).size.width


async def test_side_panels_fold_away_on_a_narrow_terminal() -> None:
    async with snapshot_app(LIGHT).run_test(size=(60, 24)) as pilot:
        app = await open_chat(pilot)
        assert not app.screen.query_one(BufferList).display
        assert not app.screen.query_one(MemberList).display
        assert text_width(app) >= 56
    async with snapshot_app(LIGHT).run_test(size=(90, 24)) as pilot:
        app = await open_chat(pilot)
        assert app.screen.query_one(BufferList).display
        assert not app.screen.query_one(MemberList).display
    async with snapshot_app(LIGHT).run_test(size=(120, 24)) as pilot:
        app = await open_chat(pilot)
        assert app.screen.query_one(MemberList).display
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        assert not app.screen.query_one(BufferList).display


async def test_a_log_scrolled_up_says_there_is_more_below() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 20)) as pilot:
        app = await open_chat(pilot)
        for n in range(40):
            app.dispatch(Noted(f"line {n}", app.now(), key="#general"))
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        bottom = log.size.height - 1
        assert MORE_BELOW.strip() not in log.render_line(bottom).text
        await pilot.press("pageup")
        await pilot.pause()
        assert MORE_BELOW.strip() in log.render_line(bottom).text
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert MORE_BELOW.strip() not in log.render_line(bottom).text


async def test_the_sidebar_shows_each_buffers_alt_number() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        sidebar = app.screen.query_one(BufferList).render().plain.splitlines()
        numbered = [row.split() for row in sidebar if row[:2].strip().isdigit()]
        names = [b.name if b.kind != "status" else "Arona" for b in sidebar_order(app.state)]
        assert [(int(row[0]), row[1] if row[1] != "✧" else row[2]) for row in numbered] == [
            (n, name) for n, name in enumerate(names, 1)
        ]


async def test_msg_sends_without_leaving_the_buffer() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        await pilot.press(*"/msg momoi see you at lunch", "enter")
        assert app.state.active == "#general"
        dm = app.state.buffers["momoi"]
        assert [line.text for line in dm.lines] == ["see you at lunch"]
        assert app.state.current.lines[-1].text == "→ momoi: see you at lunch"


def test_no_hint_calls_the_command_palette_key_the_previous_buffer() -> None:
    assert "Ctrl+P" not in voice.no_channel_here("topic")
    assert "Ctrl+B" in voice.SWITCH_KEYS


async def test_wrapped_and_multi_line_messages_continue_under_the_text_column() -> None:
    async with snapshot_app(LIGHT).run_test(size=(110, 32)) as pilot:
        app = await open_chat(pilot)
        app.dispatch(MessageQueued("#general", "first line\nsecond line", app.now()))
        await pilot.pause()
        log = app.screen.query_one(MessageLog)
        rows = [log.render_line(y).text for y in range(log.size.height)]
        first = next(i for i, row in enumerate(rows) if "first line" in row)
        column = rows[first].index("first line")
        assert rows[first + 1].index("second line") == column
        assert rows[first + 1][:column].strip() == ""
        assert rows[first][:column].split() == ["09:30", "sensei"]


async def test_a_big_channels_member_list_fits_its_panel_and_is_not_sorted_per_message() -> None:
    crowd = tuple(f"m{n:04d}" for n in range(1500))
    roster = (("sensei", "owner"), *((name, "member") for name in crowd))
    async with snapshot_app(LIGHT).run_test(size=(120, 24)) as pilot:
        app = await open_chat(pilot)
        app.dispatch(RosterLoaded("#general", roster, frozenset()))
        await pilot.pause()
        panel = app.screen.query_one(MemberList)
        rows = panel.render().plain.splitlines()
        assert rows[0] == "1501 here" and rows[1].endswith("sensei")
        assert len(rows) == panel.size.height and rows[-1] == f"+{1501 - (len(rows) - 2)} more"
        ordered = panel._members
        app.dispatch(Noted("a line", app.now(), key="#general"))
        await pilot.pause()
        assert panel._members is ordered  # the same members: not ordered again


async def test_a_state_rendered_while_the_screen_is_torn_down_is_ignored() -> None:
    """A reconnect or catch-up finishing during shutdown renders a state after the screen's
    widgets are gone: nothing to show it in, and no error (the app would exit with one)."""
    async with snapshot_app(LIGHT).run_test(size=(110, 20)) as pilot:
        app = await open_chat(pilot)
        screen = app.screen
        assert screen.showing_newest()  # type: ignore[attr-defined]
        await screen.query_one(HaloHeader).remove()  # as shutdown removes every widget
        await screen.query_one(MessageLog).remove()
        assert not screen.showing_newest()  # type: ignore[attr-defined]
        app.dispatch(Noted("after the log went", app.now(), key="#general"))
        await pilot.pause()
