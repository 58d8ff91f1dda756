"""The sidebar: every channel and private conversation with unread and highlight marks.

Buffers are numbered as in WeeChat, in the order shown (``sidebar_order``): Alt+N jumps to
the one numbered N, and Ctrl+N / Ctrl+B walk the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from aronanet.client.state import Buffer, ChatState, sidebar_order


class BufferList(Widget):
    """Renders the buffers in sidebar order, numbered; a click posts ``BufferList.Selected``."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own convention
        "buffer-list--active",
        "buffer-list--unread",
        "buffer-list--highlight",
        "buffer-list--section",
    }

    class Selected(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._buffers: Sequence[Buffer] = ()
        self._view: tuple[object, ...] = ()
        self._active = ""
        self._rows: list[str | None] = []  # buffer key per rendered row (None: a heading)

    def show(self, state: ChatState) -> None:
        """Repaint only when something the sidebar shows changed.

        A busy channel replaces its ``Buffer`` with every batch of messages; comparing the
        buffers themselves would repaint all 50 entries 30 times a second for nothing.
        """
        buffers = sidebar_order(state)
        view = (state.active, *(_shown(buffer) for buffer in buffers))
        if view == self._view:
            return
        self._view, self._buffers, self._active = view, buffers, state.active
        self.refresh()  # a fixed-size panel: its content never changes the layout

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        self._rows = []
        headings = {"channel": "Channels", "user": "Private"}
        previous_kind = ""
        for number, buffer in enumerate(self._buffers, 1):
            heading = headings.get(buffer.kind)
            if heading and buffer.kind != previous_kind:
                self._line(text, f"{heading}\n", self._style("section"), None)
            previous_kind = buffer.kind
            for part, style in self._entry(number, buffer):
                text.append(part, style=style)
            self._line(text, "\n", Style(), buffer.key)
        text.rstrip()
        return text

    def _entry(self, number: int, buffer: Buffer) -> list[tuple[str, Style]]:
        """``#lounge (3) @1``: unread messages, then those that mention the user, apart.

        A private conversation is addressed to the user as a whole: its unread count is
        shown in the mention colour, without a second number saying the same."""
        label = "✧ Arona" if buffer.kind == "status" else buffer.name
        active = self._style("active") if buffer.key == self._active else Style()
        parts = [(f"{number:>2} {label}", active)]
        if buffer.unread:
            kind = "highlight" if buffer.kind == "user" else "unread"
            parts.append((f" ({buffer.unread})", self._style(kind) + active))
        if buffer.highlights and buffer.kind != "user":
            parts.append((f" @{buffer.highlights}", self._style("highlight") + active))
        if buffer.unread or buffer.highlights:
            parts[0] = (parts[0][0], self._style("unread") + active)
        return parts

    def _line(self, text: Text, label: str, style: Style, key: str | None) -> None:
        text.append(label, style=style)
        self._rows.append(key)

    def _style(self, name: str) -> Style:
        """Resolved in full so translucent colours blend; the background only when active."""
        full = self.get_component_rich_style(f"buffer-list--{name}", partial=False)
        background = full.bgcolor if name == "active" else None
        return Style(color=full.color, bgcolor=background, bold=full.bold, italic=full.italic)

    def on_click(self, event: events.Click) -> None:
        row = event.y + int(self.scroll_y)
        if 0 <= row < len(self._rows) and self._rows[row] is not None:
            self.post_message(self.Selected(self._rows[row]))  # type: ignore[arg-type]


def _shown(buffer: Buffer) -> tuple[str, str, str, int, int]:
    """What the sidebar shows of ``buffer``: its place, its name, its marks."""
    return (buffer.key, buffer.kind, buffer.name, buffer.unread, buffer.highlights)
