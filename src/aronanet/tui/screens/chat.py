"""The main screen: sidebar, topic, log, members, input. It renders state, nothing more.

Key presses become messages to the app (``LineEntered``) or actions on the reducer
(switching buffers); the app calls ``show(state)`` after every state change.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input

from aronanet.client.state import ChatState
from aronanet.tui.widgets.bars import HaloHeader, StatusLine, TopicBar
from aronanet.tui.widgets.buffer_list import BufferList
from aronanet.tui.widgets.chat_input import ChatInput, Vocabulary
from aronanet.tui.widgets.inline_image import ImageUpload, Renderer
from aronanet.tui.widgets.member_list import MemberList
from aronanet.tui.widgets.message_log import MessageLog, TimeZone


class ChatScreen(Screen[None]):
    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        Binding("ctrl+n", "cycle(1)", "Next buffer"),
        Binding("ctrl+b", "cycle(-1)", "Prev buffer"),
        Binding("pageup", "page(-1)", "Older", show=False),
        Binding("pagedown", "page(1)", "Newer", show=False),
        Binding("f2", "app.toggle_theme", "Light/dark"),
        Binding("ctrl+r", "command('/retry')", "Retry failed"),
        Binding("ctrl+o", "command('/open')", "Open image"),
        Binding("escape", "cancel_upload", "Cancel upload", show=False),
        *(Binding(f"alt+{n}", f"jump({n - 1})", show=False) for n in range(1, 10)),
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
        self, vocabulary: Vocabulary, *, tz: TimeZone = None, renderer: Renderer = "auto"
    ) -> None:
        super().__init__()
        self._vocabulary = vocabulary
        self._tz = tz
        self._renderer = renderer
        self._keys: list[str] = []
        self._active = ""
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
                yield ChatInput(self._vocabulary, id="input")
            yield MemberList(id="members")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._mounted = True
        self.query_one(ChatInput).focus()
        if self._waiting is not None:
            self.show(self._waiting)

    def show(self, state: ChatState) -> None:
        """Push ``state`` into the widgets; each one skips work when its part is unchanged."""
        if not self._mounted:
            self._waiting = state
            return
        self._keys, self._active = list(state.buffers), state.active
        buffer = state.current
        self.query_one(HaloHeader).show(state)
        self.query_one(BufferList).show(state)
        self.query_one(TopicBar).show(buffer)
        self.query_one(MessageLog).show(buffer, state.me)
        self.query_one(MemberList).show(buffer)
        self.query_one(StatusLine).show(state)

    def showing_newest(self) -> bool:
        """True when the active buffer's newest line is on screen (ArTP/1.1 §14.6: read)."""
        return self._mounted and self.query_one(MessageLog).at_end

    def show_upload(self, widget: ImageUpload) -> None:
        """Put an upload's progress bar above the input line."""
        self.query_one("#uploads", Vertical).mount(widget)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chat_input = self.query_one(ChatInput)
        chat_input.remember(event.value)
        chat_input.value = ""
        self.post_message(self.LineEntered(event.value))

    def on_buffer_list_selected(self, event: BufferList.Selected) -> None:
        self.post_message(self.SwitchTo(event.key))
        self.query_one(ChatInput).focus()

    def action_command(self, line: str) -> None:
        """A key that stands for a command (Ctrl+R is ``/retry``): one path for both."""
        self.post_message(self.LineEntered(line))

    def action_cancel_upload(self) -> None:
        self.post_message(self.CancelUpload())

    def action_cycle(self, step: int) -> None:
        if self._keys:
            index = self._keys.index(self._active) if self._active in self._keys else 0
            self.post_message(self.SwitchTo(self._keys[(index + step) % len(self._keys)]))

    def action_jump(self, index: int) -> None:
        if index < len(self._keys):
            self.post_message(self.SwitchTo(self._keys[index]))

    def action_page(self, direction: int) -> None:
        log = self.query_one(MessageLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)
