"""The one-line bars around the log: the halo header, the topic bar and the status line."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from aronanet.client.state import Buffer, ChatState, Link, LinkStatus, typists
from aronanet.tui import voice

_LINK_LABELS = {
    LinkStatus.OFFLINE: "○ offline",
    LinkStatus.CONNECTING: "◌ connecting…",
    LinkStatus.ONLINE: "● online",
    LinkStatus.WAITING: "◌ reconnecting",
}


class HaloHeader(Widget):
    """Arona's halo and the node's name: the first thing the eye meets."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._node = ""

    def show(self, state: ChatState) -> None:
        if state.node != self._node:
            self._node = state.node
            self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", justify="center")
        text.append(f"{voice.HALO}  ", style=self.app.current_theme.variables["arona-halo"])
        text.append("AronaNET", style="bold")
        if self._node:
            text.append(f"  ·  {self._node}")
        return text


class TopicBar(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = ("", "")

    def show(self, buffer: Buffer) -> None:
        if buffer.kind == "channel":
            content = (buffer.name, buffer.topic or "no topic yet — /topic TEXT sets one")
        elif buffer.kind == "user":
            content = (f"@{buffer.name}", "private conversation")
        else:
            content = ("Arona", "status and help — /join #channel to begin")
        if content != self._content:
            self._content = content
            self.refresh()

    def render(self) -> Text:
        name, topic = self._content
        return Text.assemble((name, "bold"), "  ", topic, no_wrap=True, overflow="ellipsis")


class StatusLine(Widget):
    """Connection state, who you are, and where unread messages wait."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own convention
        "status-line--offline",
        "status-line--connecting",
        "status-line--online",
        "status-line--waiting",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: tuple[Link, str | None, str, int] = (Link(), None, "", 0)

    def show(self, state: ChatState) -> None:
        elsewhere = sum(b.unread for b in state.buffers.values() if b.key != state.active)
        view = (state.link, state.me, state.address, elsewhere)
        if view != self._view:
            self._view = view
            self.refresh()

    def render(self) -> Text:
        link, me, address, elsewhere = self._view
        text = Text(no_wrap=True, overflow="ellipsis")
        label = _LINK_LABELS[link.status]
        if link.status is LinkStatus.WAITING and link.retry_in is not None:
            label += f" in {link.retry_in:.0f}s (try {link.attempt + 1})"
        if link.status is LinkStatus.OFFLINE and link.reason:
            label += f" ({link.reason})"
        style = self.get_component_rich_style(f"status-line--{link.status.value}")
        text.append(label, style=style)
        if me:
            text.append(f"  {me}@{address}")
        if elsewhere:
            text.append(f"  ✉ {elsewhere} unread elsewhere", style="bold")
        return text


def typing_words(names: list[str]) -> str:
    """``kei is typing…``, ``kei and yuuka are typing…``, ``kei, yuuka and 2 others…``."""
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is typing…"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} are typing…"
    if len(names) == 3:
        return f"{names[0]}, {names[1]} and {names[2]} are typing…"
    return f"{names[0]}, {names[1]} and {len(names) - 2} others are typing…"


#: How often the typing line looks at the clock while someone types: entries expire by
#: themselves (§14.13 ``expires_ms``) without an event saying so.
TYPING_TICK_SECONDS = 0.5


class TypingLine(Widget):
    """Under the input line: who is typing in the active buffer (§14.13), until it expires."""

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._state: ChatState | None = None
        self._words = ""

    def on_mount(self) -> None:
        self.set_interval(TYPING_TICK_SECONDS, self._tick)

    def show(self, state: ChatState) -> None:
        self._state = state
        self._tick()

    def _tick(self) -> None:
        state = self._state
        words = typing_words(typists(state, state.active, self._clock())) if state else ""
        if words != self._words:
            self._words = words
            self.refresh()

    @property
    def words(self) -> str:
        return self._words

    def render(self) -> Text:
        return Text(self._words, no_wrap=True, overflow="ellipsis")
