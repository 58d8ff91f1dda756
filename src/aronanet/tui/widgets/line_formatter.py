"""What each row of the message log says: the text of a line, its quote, its reactions, a day.

Apart from the log widget, which lays these texts out in rows and scrolls them, because the
wording and colouring of every kind of line (a message, an action, a join, a note from
Arona, a delivery still pending) is a concern of its own: it needs only the stylesheet's
roles, the time zone, who the user is and how wide the nick column is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from aronanet.client.state import Delivery, Line
from aronanet.tui.theme import nick_colour

#: Turns a Unix timestamp into an aware local datetime; injected so snapshots use UTC.
TimeZone = dt.tzinfo | None

#: Cells of the time column ("09:30 "); an image lines up with the text, after the nicks.
TIME_COLUMN = 6
#: The nick column (right-aligned, as in WeeChat) is as wide as the longest name in the
#: buffer, within these bounds; a longer name is cut with an ellipsis.
NICK_COLUMN_MIN, NICK_COLUMN_MAX = 6, 16


@dataclass(frozen=True, slots=True)
class DaySeparator:
    day: dt.date

    @property
    def id(self) -> str:
        return f"day:{self.day.isoformat()}"


class LineFormatter:
    """Formats one log's rows; the log keeps ``me`` and ``nick_width`` with its buffer."""

    def __init__(
        self, style: Callable[[str], Style], dark: Callable[[], bool], tz: TimeZone
    ) -> None:
        """``style``: a role's colour from the log's stylesheet (``message-log--ROLE``);
        ``dark``: whether the theme is dark now, for the nick colours."""
        self._style = style
        self._dark = dark
        self.tz = tz
        self.me: str | None = None
        self.nick_width = NICK_COLUMN_MIN

    def format_quote(self, line: Line) -> Text:
        """``↳ kei: lunch?`` -- the message this one answers (§14.9)."""
        quote = line.reply
        assert quote is not None
        style = self._style("quote")
        text = Text("↳ ", style=style, end="")
        if quote.deleted:
            text.append("message deleted", style=self._style("deleted"))
        elif not quote.sender and not quote.text:
            text.append("an earlier message", style=style)
        else:
            text.append(quote.sender, style=self._nick(quote.sender) + Style(bold=False))
            first_line = quote.text.split("\n", 1)[0]
            text.append(f": {first_line}", style=style)
        return text

    def format_reactions(self, line: Line) -> Text:
        """``👍 2  🎉 1``; the ones the user gave stand out."""
        text = Text(end="")
        mine = (self.me or "").casefold()
        for index, reaction in enumerate(line.reactions):
            if index:
                text.append("  ")
            given = any(user.casefold() == mine for user in reaction.users)
            style = self._style("reactions") + Style(bold=given, underline=given)
            text.append(f"{reaction.emoji} {reaction.count}", style=style)
        return text

    def format_day(self, row: DaySeparator, width: int) -> Text:
        label = f" {row.day.strftime('%A %d %B %Y')} "
        return Text(label.center(width, "─"), style=self._style("day"), no_wrap=True)

    def format_line(self, line: Line) -> Text:
        """The text of one line: time, who, what, and how its delivery stands."""
        moment = dt.datetime.fromtimestamp(line.timestamp, self.tz).strftime("%H:%M")
        text = Text(end="")
        text.append(f"{moment} ", style=self._style("time"))
        _FORMATTERS[line.kind](self, text, line)
        if line.deleted:
            text.append("message deleted", style=self._style("deleted"))
        elif line.edited:
            text.append(" (edited)", style=self._style("edited"))
        if line.attachment is not None and not line.text:
            # the InlineImage laid under this line shows the name, size and dimensions
            text.append("sent an image", style=self._style("info"))
        if line.delivery in (Delivery.QUEUED, Delivery.SENDING):
            text.stylize(self._style("pending"), len(moment) + 1)
            text.append("  ⋯ pending", style=self._style("pending"))
        elif line.delivery is Delivery.FAILED:
            text.append(f"  ✗ not sent: {line.failure}", style=self._style("failed"))
        if line.highlight:
            text.stylize(self._style("highlight"))
        return text

    def _nick(self, name: str) -> Style:
        return Style(color=nick_colour(name, dark=self._dark()), bold=True)

    def _prefix(self, text: Text, label: str, style: Style) -> None:
        """The nick column: ``label`` right-aligned, so every line's text starts together."""
        width = self.nick_width
        fitted = label if len(label) <= width else label[: width - 1] + "…"
        text.append(fitted.rjust(width), style=style)
        text.append("  ")

    def _message(self, text: Text, line: Line) -> None:
        self._prefix(text, line.sender, self._nick(line.sender))
        text.append(line.text)

    def _action(self, text: Text, line: Line) -> None:
        self._prefix(text, "*", self._style("event"))
        text.append(line.sender, style=self._nick(line.sender))
        text.append(f" {line.text}", style=Style(italic=True))

    def _note(self, text: Text, line: Line) -> None:
        style = self._style("error" if line.kind == "error" else "info")
        self._prefix(text, "✦", style)
        text.append(line.text, style=style)


def nick_column(lines: tuple[Line, ...], members: tuple[str, ...], at_least: int) -> int:
    """The nick column's width for ``lines`` and ``members``: never below ``at_least`` (a
    column only grows while lines are appended), within the column's bounds."""
    longest = max(
        (len(name) for name in (*members, *(line.sender for line in lines)) if name), default=0
    )
    return max(NICK_COLUMN_MIN, at_least, min(NICK_COLUMN_MAX, longest))


def _event_formatter(arrow: str, verb: str) -> Callable[[LineFormatter, Text, Line], None]:
    def append(formatter: LineFormatter, text: Text, line: Line) -> None:
        formatter._prefix(text, arrow, formatter._style("event"))
        text.append(line.sender, style=formatter._nick(line.sender))
        text.append(f" {verb}", style=formatter._style("event"))
        if line.kind == "topic":
            text.append(f": {line.text}")

    return append


_FORMATTERS: dict[str, Callable[[LineFormatter, Text, Line], None]] = {
    "message": LineFormatter._message,
    "action": LineFormatter._action,
    "join": _event_formatter("→", "joined"),
    "part": _event_formatter("←", "left"),
    "topic": _event_formatter("✎", "set the topic"),
    "info": LineFormatter._note,
    "error": LineFormatter._note,
}
