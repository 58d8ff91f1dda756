"""The main screen: sidebar, topic, log, members, input. It renders state, nothing more.

The input line turns key presses into messages (a line, a buffer switch) that reach the app
in the order the keys were typed; the app calls ``show(state)`` after every state change.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from aronanet.client.state import ChatState, Line, last_own_message
from aronanet.tui.widgets.bars import HaloHeader, StatusLine, TopicBar, TypingLine
from aronanet.tui.widgets.buffer_list import BufferList
from aronanet.tui.widgets.chat_input import (
    JUMP_KEYS,
    NEXT_BUFFER_KEY,
    PREVIOUS_BUFFER_KEY,
    ChatInput,
    Vocabulary,
)
from aronanet.tui.widgets.inline_image import ImageUpload, Renderer
from aronanet.tui.widgets.line_formatter import TimeZone
from aronanet.tui.widgets.member_list import MemberList
from aronanet.tui.widgets.message_log import MessageLog

#: Below this many columns the member list folds away, below the second the sidebar too:
#: at 60 columns they left 18 for the text. The status line still counts unread elsewhere
#: and Alt+N still switches.
MEMBERS_MIN_COLUMNS, SIDEBAR_MIN_COLUMNS = 100, 80


class ChatScreen(Screen[None]):
    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        # the input line binds these keys itself (in order with typing); these serve when
        # the focus is elsewhere (the log, the sidebar)
        Binding(NEXT_BUFFER_KEY, "cycle(1)", "Next buffer", show=False),
        Binding(PREVIOUS_BUFFER_KEY, "cycle(-1)", "Prev buffer", show=False),
        *JUMP_KEYS,
        Binding("pageup", "page(-1)", "Older", show=False),
        Binding("pagedown", "page(1)", "Newer", show=False),
        Binding("f2", "app.toggle_theme", "Light/dark"),
        Binding("ctrl+r", "command('/retry')", "Retry failed"),
        Binding("ctrl+o", "command('/open')", "Open image"),
        Binding("escape", "cancel_upload", "Cancel upload", show=False),
    ]

    class LineEntered(Message):
        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class SwitchTo(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class CancelUpload(Message):
        """Escape: cancel the newest upload (or clear finished ones)."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        tz: TimeZone = None,
        renderer: Renderer = "auto",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._vocabulary = vocabulary
        self._clock = clock
        self._state: ChatState | None = None
        self._tz = tz
        self._renderer = renderer
        self._mounted = False
        self._waiting: ChatState | None = None  # state that arrived before the widgets

    def compose(self) -> ComposeResult:
        yield HaloHeader(id="halo")
        with Horizontal(id="main"):
            yield BufferList(id="buffers")
            with Vertical(id="centre"):
                yield TopicBar(id="topic")
                yield MessageLog(tz=self._tz, renderer=self._renderer, id="log")
                yield Vertical(id="uploads")
                yield ChatInput(self._vocabulary, picker=LogPicker(self), id="input")
                yield TypingLine(self._clock, id="typing")
            yield MemberList(id="members")
        yield StatusLine(id="status")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_width(event.size.width)

    def fit_width(self, columns: int) -> None:
        """Fold the side panels away on a narrow terminal, so the text keeps the room."""
        self.query_one(MemberList).fold(columns < MEMBERS_MIN_COLUMNS)
        self.set_class(columns < SIDEBAR_MIN_COLUMNS, "-no-sidebar")

    def on_mount(self) -> None:
        self.fit_width(self.app.size.width)
        self._mounted = True
        self.query_one(ChatInput).focus()
        if self._waiting is not None:
            self.show(self._waiting)

    def on_unmount(self) -> None:
        # The app may still render a state while it tears the screen down (a reconnect
        # finishing during shutdown): from here on there are no widgets to show it in.
        self._mounted = False

    def show(self, state: ChatState) -> None:
        """Push ``state`` into the widgets; each one skips work when its part is unchanged."""
        if not self._mounted:
            self._waiting = state
            return
        if not self.query(HaloHeader):  # being torn down: the widgets are already gone
            return
        self._state = state
        buffer = state.current
        self.query_one(HaloHeader).show(state)
        self.query_one(BufferList).show(state)
        self.query_one(TopicBar).show(buffer)
        self.query_one(MessageLog).show(buffer, state.me)
        self.query_one(MemberList).show(buffer)
        self.query_one(StatusLine).show(state)
        self.query_one(TypingLine).show(state)

    def select(self, line_id: str | None) -> Line | None:
        """Show message ``line_id`` selected (a jump lands here); None: no selection."""
        return self.query_one(MessageLog).select(line_id)

    @property
    def state(self) -> ChatState | None:
        """The state shown last."""
        return self._state

    def showing_newest(self) -> bool:
        """True when the active buffer's newest line is on screen (ArTP/1.1 §14.6: read);
        False while the screen is torn down (its widgets gone, as in ``show``)."""
        if not self._mounted:
            return False
        logs = self.query(MessageLog)
        return bool(logs) and logs.first().at_end

    def show_upload(self, widget: ImageUpload) -> None:
        """Put an upload's progress bar above the input line."""
        self.query_one("#uploads", Vertical).mount(widget)

    def on_buffer_list_selected(self, event: BufferList.Selected) -> None:
        self.post_message(self.SwitchTo(event.key))
        self.query_one(ChatInput).focus()

    def action_command(self, line: str) -> None:
        """A key that stands for a command (Ctrl+R is ``/retry``): one path for both."""
        self.post_message(self.LineEntered(line))

    def action_cancel_upload(self) -> None:
        self.post_message(self.CancelUpload())

    def action_cycle(self, step: int) -> None:
        self.post_message(ChatInput.Cycle(step))

    def action_jump(self, number: int) -> None:
        self.post_message(ChatInput.Jump(number))

    def action_page(self, direction: int) -> None:
        log = self.query_one(MessageLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)


class LogPicker:
    """The ``MessagePicker`` of the input line: the log's selection and the shown state."""

    def __init__(self, screen: ChatScreen) -> None:
        self._screen = screen

    def _log(self) -> MessageLog:
        return self._screen.query_one(MessageLog)

    def move(self, step: int) -> Line | None:
        return self._log().move_selection(step)

    def selected(self) -> Line | None:
        return self._log().selected_line

    def clear(self) -> None:
        self._log().select(None)

    def last_own(self) -> Line | None:
        state = self._screen.state
        return last_own_message(state.current, state.me) if state is not None else None

    def mine(self, line: Line) -> bool:
        state = self._screen.state
        me = state.me if state is not None else None
        return bool(me) and line.sender.casefold() == (me or "").casefold()
