"""The member list of the active channel, each name in its stable colour."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from aronanet.client.state import Buffer
from aronanet.tui.theme import nick_colour


class MemberList(Widget):
    """Shown for a channel unless ``folded`` (a narrow terminal). ``display`` is set here,
    at once, not through a style class: the log's width then changes in the same layout as
    its content, and a log that follows its newest line never passes through the top."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._members: tuple[str, ...] = ()
        self._channel = False
        self._folded = False

    def fold(self, folded: bool) -> None:
        self._folded = folded
        self.display = self._channel and not folded

    def show(self, buffer: Buffer) -> None:
        members = buffer.members if buffer.kind == "channel" else ()
        self._channel = buffer.kind == "channel"
        self.display = self._channel and not self._folded
        if members != self._members:
            self._members = members
            self.refresh()  # a fixed-size panel: its content never changes the layout

    def render(self) -> Text:
        dark = self.app.current_theme.dark
        text = Text(f"{len(self._members)} here\n", style="bold", no_wrap=True)
        for name in self._members:
            text.append(f"{name}\n", style=nick_colour(name, dark=dark))
        text.rstrip()
        return text
