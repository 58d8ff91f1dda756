"""``/search``: the results of a ``SEARCH`` (ArTP/1.1 §14.15) in a screen of their own.

Each result is one row (where, who, when, the text with the matched words marked); Enter
closes the screen with the chosen result so that the app shows it in its conversation
(``HISTORY around``), Escape goes back. ``next`` pages are fetched by the "more" row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from aronanet.client.search import SearchPage, marked_spans
from aronanet.client.state import buffer_key
from aronanet.proto.messages import SearchHit

MORE_ID = "more"


@dataclass(frozen=True, slots=True)
class Found:
    """The result the user chose: message ``msg_id`` of the buffer ``key`` (named ``name``)."""

    key: str
    name: str
    kind: str
    msg_id: str


Searcher = Callable[[str | None], Awaitable[SearchPage]]


def conversation_of(hit: SearchHit, me: str) -> tuple[str, str]:
    """(name, kind) of the conversation a result belongs to: a channel, or a DM's peer."""
    if hit.dest_type == "channel":
        return hit.dest, "channel"
    ours = hit.from_.casefold() == me.casefold()
    return (hit.dest if ours else hit.from_), "user"


def marked(hit: SearchHit, style: Style) -> Text:
    """The result's text on one row, the matched words in ``style`` (``marked_spans``)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for piece, is_mark in marked_spans(hit):
        text.append(piece.replace("\n", " ⏎ "), style=style if is_mark else "")
    return text


class SearchScreen(Screen[Found | None]):
    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        Binding("escape", "dismiss(None)", "Back"),
    ]

    def __init__(
        self, query: str, search: Searcher, me: str, *, tz: dt.tzinfo | None = None
    ) -> None:
        super().__init__()
        self.query_text = query
        self._search = search
        self._me = me
        self._tz = tz
        self._hits: dict[str, SearchHit] = {}
        self._next: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="search-card"):
            yield Static(f"✧ Search: {self.query_text}", id="search-title")
            yield Static("Looking, Sensei…", id="search-status")
            yield OptionList(id="search-results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.run_worker(self._load(None), exclusive=True)

    async def _load(self, before: str | None) -> None:
        status = self.query_one("#search-status", Static)
        results = self.query_one(OptionList)
        try:
            page = await self._search(before)
        except Exception as error:
            from aronanet.tui import voice

            status.update(voice.lifecycle_failure("searching", error))
            status.add_class("error")
            return
        if results.option_count and results.get_option_at_index(-1).id == MORE_ID:
            results.remove_option(MORE_ID)
        results.add_options([self._option(hit) for hit in page.results])
        self._next = page.next
        if page.next:
            results.add_option(Option(Text("  ↓ more results…", style="italic"), id=MORE_ID))
        count = len(self._hits)
        if not count:
            status.update("Sensei, I found nothing for that. Fewer words, or word*, may help.")
        else:
            more = "+" if page.next else ""
            status.update(
                f"{count}{more} result(s), newest first — Enter shows one in its conversation, "
                "Esc goes back."
            )
        if before is None and results.option_count:
            results.highlighted = 0

    def _option(self, hit: SearchHit) -> Option:
        self._hits[hit.id] = hit
        name, _ = conversation_of(hit, self._me)
        moment = dt.datetime.fromtimestamp(hit.timestamp, self._tz).strftime("%Y-%m-%d %H:%M")
        row = Text(no_wrap=True, overflow="ellipsis", end="")
        row.append(f"{name:<14.14} ", style="bold")
        row.append(f"{moment} ", style="dim")
        row.append(f"{hit.from_}: ", style="bold")
        accent = self.app.current_theme.accent or "magenta"
        mark = Style(bold=True, underline=True, color=accent)
        row.append_text(marked(hit, mark))
        return Option(row, id=hit.id)

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id
        if option_id == MORE_ID:
            self.run_worker(self._load(self._next), exclusive=True)
            return
        hit = self._hits.get(option_id or "")
        if hit is None:
            return
        name, kind = conversation_of(hit, self._me)
        self.dismiss(Found(buffer_key(name), name, kind, hit.id))
