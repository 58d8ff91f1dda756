"""The message log: a virtualised view of one buffer's lines, with day separators.

Only the rows on screen are rendered (``render_line``), and rendered blocks are cached per
line, so 10,000 lines of scrollback cost nothing until they are looked at and a busy channel
costs one appended row per message. Heights are known without rendering for the common
single-row line (its cell length fits the width), so rebuilding the row index after a
scrollback page or a delivery change stays cheap.

Scrolling to the top posts ``MessageLog.NeedOlder`` so the app can load ``HISTORY before``.

Images stay inside that model: a line with an attachment is followed by ``IMAGE_ROWS`` rows
of its own (a fixed height, so the row index never waits for a picture), and an
``InlineImage`` widget is laid over those rows only while they are on screen, or within
``IMAGE_MARGIN`` rows of it. Mounting one posts ``MessageLog.ImageShown`` so that the app
fetches the picture then, not before; scrolled away, the widget is removed again.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from aronanet.client.state import Buffer, Delivery, Line
from aronanet.tui.theme import nick_colour
from aronanet.tui.widgets.inline_image import InlineImage, Renderer

#: Turns a Unix timestamp into an aware local datetime; injected so snapshots use UTC.
TimeZone = dt.tzinfo | None


@dataclass(frozen=True, slots=True)
class DaySeparator:
    day: dt.date

    @property
    def id(self) -> str:
        return f"day:{self.day.isoformat()}"


Row = Line | DaySeparator

#: Rows an image takes under its message line: a caption and up to IMAGE_ROWS - 1 of picture.
IMAGE_ROWS = 10
#: Images this many rows above or below the screen are mounted too, so scrolling shows them
#: already drawn.
IMAGE_MARGIN = IMAGE_ROWS
#: The last row of a log scrolled up: there is more under the screen.
MORE_BELOW = " ↓ more below · PageDown "
#: Below this many cells for the text, wrapped rows start at the left edge instead.
MIN_TEXT_COLUMNS = 16
#: Cells of the time column ("09:30 "); an image lines up with the text, after the nicks.
TIME_COLUMN = 6
#: The nick column (right-aligned, as in WeeChat) is as wide as the longest name in the
#: buffer, within these bounds; a longer name is cut with an ellipsis.
NICK_COLUMN_MIN, NICK_COLUMN_MAX = 6, 16


class MessageLog(ScrollView, can_focus=True):
    """Renders the active buffer; the app calls ``show`` after every state change."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own convention
        "message-log--time",
        "message-log--day",
        "message-log--info",
        "message-log--error",
        "message-log--event",
        "message-log--pending",
        "message-log--failed",
        "message-log--highlight",
        "message-log--quote",
        "message-log--deleted",
        "message-log--edited",
        "message-log--reactions",
        "message-log--selected",
    }

    DEFAULT_CSS = """
    MessageLog { overflow-x: hidden; }
    MessageLog > InlineImage { position: absolute; width: 1fr; }
    """

    class ImageShown(Message):
        """An image came into view: fetch its picture (``ImageLoader.show``)."""

        def __init__(self, widget: InlineImage) -> None:
            super().__init__()
            self.widget = widget

    class NeedOlder(Message):
        """The user reached the top of the buffer: load older history if there is some."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class ReachedNewest(Message):
        """The user scrolled down to the newest line: the buffer is read (ArTP/1.1 §14.6)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self, *, tz: TimeZone = None, renderer: Renderer = "auto", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.renderer = renderer
        self._images: dict[str, InlineImage] = {}  # line id -> widget laid over its rows
        self._sync_scheduled = False
        self.me: str | None = None
        self._key: str | None = None
        self._lines: tuple[Line, ...] = ()
        self._rows: list[Row] = []
        self._offsets: list[int] = [0]  # _offsets[i] = first y of row i; last = total
        # keyed by the line itself (frozen: an edit, a reaction, a delivery change is a new
        # value) or a day separator, and the widths it was laid out for
        self._blocks: LRUCache[tuple[Row, bool, int, int, int], list[Strip]] = LRUCache(2048)
        self._heights: dict[tuple[Line, int, int], int] = {}
        #: The message line the keys act on (Alt+Up/Down), if any: shown highlighted.
        self.selected: str | None = None
        self._nick_width = NICK_COLUMN_MIN
        self._style_cache: Style | None = None
        self._laid_out_width = 0  # the width the row index was computed for
        self._at_end = True  # showing the newest line: new lines and resizes keep it so

    # ----------------------------------------------------------------- state in

    def show(self, buffer: Buffer, me: str | None) -> None:
        """Display ``buffer``: append when it only grew, otherwise rebuild the row index."""
        if buffer.key == self._key and buffer.lines is self._lines and me == self.me:
            return
        at_bottom = self._at_end or self.scroll_y >= self.max_scroll_y
        old_lines, old_total = self._lines, self._offsets[-1]
        same_buffer = buffer.key == self._key
        if not same_buffer:
            self.selected = None
        self.me = me
        appended = same_buffer and _only_appended(old_lines, buffer.lines)
        fresh = buffer.lines[len(old_lines) :] if appended else buffer.lines
        width = nick_column(fresh, buffer.members, self._nick_width if appended else 0)
        if width != self._nick_width:
            self._nick_width, appended = width, False  # every row re-renders at the new width
        if appended:
            self._extend_rows(fresh)
        else:
            self._key, self._rows, self._offsets = buffer.key, [], [0]
            self._extend_rows(buffer.lines)
        self._lines = buffer.lines
        self.virtual_size = Size(self.size.width, self._offsets[-1])
        if not same_buffer or at_bottom:
            self._follow_end()
        elif _only_prepended(old_lines, buffer.lines):
            # keep the line the user was reading where it was
            grown = self._offsets[-1] - old_total
            self.scroll_to(y=self.scroll_y + grown, animate=False, immediate=True)
        self.refresh()
        self._sync_images()

    def _follow_end(self) -> None:
        """Stay at the newest line; again after the refresh, because a scrollbar that has
        just appeared (the first screenful overflowing) resets the offset on layout."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        if not self.show_vertical_scrollbar:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    # ---------------------------------------------------------------- selection

    def selectable(self) -> list[Line]:
        """The lines the selection moves over: messages the node stored, oldest first."""
        return [line for line in self._lines if line.is_server_message]

    @property
    def selected_line(self) -> Line | None:
        if self.selected is None:
            return None
        return next((line for line in self._lines if line.id == self.selected), None)

    def move_selection(self, step: int) -> Line | None:
        """Select the message ``step`` lines from the selected one (from below the newest
        when none is: Alt+Up first selects the newest); stays at the ends."""
        lines = self.selectable()
        if not lines:
            return self.select(None)
        ids = [line.id for line in lines]
        if self.selected in ids:
            index = max(0, min(len(lines) - 1, ids.index(self.selected) + step))
        else:
            index = len(lines) - 1 if step < 0 else 0
        return self.select(lines[index].id)

    def select(self, line_id: str | None) -> Line | None:
        """Select ``line_id`` (None: no selection) and scroll it into view."""
        if line_id == self.selected:
            self._scroll_to_line(line_id)
            return self.selected_line
        self.selected = line_id
        self.refresh()
        self._scroll_to_line(line_id)
        return self.selected_line

    def _scroll_to_line(self, line_id: str | None) -> None:
        index = next(
            (i for i, row in enumerate(self._rows) if isinstance(row, Line) and row.id == line_id),
            None,
        )
        if index is None:
            return
        top, bottom = self._offsets[index], self._offsets[index + 1]
        height = max(1, self.size.height - 1)  # the last row may say "more below"
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif bottom > self.scroll_y + height:
            self.scroll_to(y=bottom - height, animate=False, immediate=True)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def _extend_rows(self, lines: tuple[Line, ...]) -> None:
        width = self._laid_out_width = self._width()
        last_day = self._last_day()
        for line in lines:
            day = self._day(line.timestamp)
            if day != last_day:
                self._add_row(DaySeparator(day), 1)
                last_day = day
            self._add_row(line, self._height(line, width))

    def _add_row(self, row: Row, height: int) -> None:
        self._rows.append(row)
        self._offsets.append(self._offsets[-1] + height)

    def _last_day(self) -> dt.date | None:
        for row in reversed(self._rows):
            return row.day if isinstance(row, DaySeparator) else self._day(row.timestamp)
        return None

    def _day(self, timestamp: int) -> dt.date:
        return dt.datetime.fromtimestamp(timestamp, self.tz).date()

    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 20)

    # ------------------------------------------------------------------- layout

    def _height(self, line: Line, width: int) -> int:
        """Rows ``line`` takes at ``width``; renders only when it may wrap, remembers it."""
        key = (line, width, self._nick_width)
        height = self._heights.get(key)
        if height is None:
            plain = self.format_line(line).plain
            if "\n" not in plain and cell_len(plain) <= width:
                height = 1 + _extra_rows(line) + _image_rows(line)
            else:
                height = len(self._render_block(line, width))
            self._heights[key] = height
        return height

    def on_resize(self) -> None:
        """A new height (an upload bar appearing under the log) only moves the bottom edge;
        a log that showed its newest line keeps showing it."""
        self._rewrap_if_width_changed()
        if self._at_end:
            self._follow_end()
        self._sync_images()

    def _watch_show_vertical_scrollbar(self) -> None:
        """The scrollbar takes a column when the first screenful overflows: re-wrap."""
        self._rewrap_if_width_changed()

    def _rewrap_if_width_changed(self) -> None:
        """Rebuild the row index at a new wrapping width, and only then (10,000 lines)."""
        if self._width() == self._laid_out_width:
            return
        self._blocks.clear()
        self._heights.clear()
        if self._rows:
            lines, key = self._lines, self._key
            self._key, self._rows, self._offsets = key, [], [0]
            self._extend_rows(lines)
            self.virtual_size = Size(self.size.width, self._offsets[-1])
            if self._at_end:
                self._follow_end()

    def notify_style_update(self) -> None:
        """A theme switch changes every colour: drop the rendered blocks."""
        super().notify_style_update()
        self._blocks.clear()
        self._style_cache = None

    @property
    def at_end(self) -> bool:
        """True while the newest line is on screen."""
        return self._at_end

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        was_at_end, self._at_end = self._at_end, new >= self.max_scroll_y
        if self._at_end and not was_at_end and self._key is not None:
            self.post_message(self.ReachedNewest(self._key))
        self._sync_images()
        if self._images:
            self._refresh_scroll()  # lay the image widgets out at the new scroll offset
        if new <= 0 and old > 0 and self._key is not None:
            self.post_message(self.NeedOlder(self._key))

    # ------------------------------------------------------------------- images

    @property
    def is_container(self) -> bool:
        """The log draws its lines itself, but image widgets are laid over them as children."""
        return True

    @property
    def image_widgets(self) -> dict[str, InlineImage]:
        """The image widgets mounted now, by line id (only those on or near the screen)."""
        return dict(self._images)

    def _image_window(self) -> tuple[int, int]:
        top = int(self.scroll_y)
        return max(0, top - IMAGE_MARGIN), top + self.size.height + IMAGE_MARGIN

    def _rows_between(self, start: int, end: int) -> list[tuple[Row, int]]:
        """Rows overlapping ``[start, end)`` with their first y: O(rows on screen)."""
        index = max(0, bisect.bisect_right(self._offsets, start) - 1)
        found: list[tuple[Row, int]] = []
        while index < len(self._rows) and self._offsets[index] < end:
            found.append((self._rows[index], self._offsets[index]))
            index += 1
        return found

    def _sync_images(self) -> None:
        """Sync the image widgets after the next refresh, once, however often asked: the
        scroll offset is only final then (a deferred ``scroll_end`` may still be pending),
        and mounting for a position the log merely passed through would start downloads."""
        if not self._sync_scheduled and self.is_attached:
            self._sync_scheduled = True
            self.call_after_refresh(self._sync_images_now)

    def _sync_images_now(self) -> None:
        """Mount widgets for attachments near the screen, move them, drop the others."""
        self._sync_scheduled = False
        if not self.is_attached:
            return
        wanted: dict[str, tuple[Line, int]] = {}
        for row, top in self._rows_between(*self._image_window()):
            if isinstance(row, Line) and row.attachment is not None:
                index = bisect.bisect_right(self._offsets, top) - 1
                wanted[row.id] = (row, self._offsets[index + 1] - IMAGE_ROWS)
        for line_id in [key for key in self._images if key not in wanted]:
            self._images.pop(line_id).remove()
        fresh: list[InlineImage] = []
        for line_id, (line, image_top) in wanted.items():
            widget = self._images.get(line_id)
            if widget is None:
                assert line.attachment is not None
                widget = InlineImage(
                    line.attachment, renderer=self.renderer, max_rows=IMAGE_ROWS - 1
                )
                widget.styles.height = IMAGE_ROWS
                self._images[line_id] = widget
                fresh.append(widget)
            widget.styles.offset = (TIME_COLUMN + self._nick_width + 2, image_top)
        if fresh:
            self.call_later(self._mount_images, fresh)

    async def _mount_images(self, widgets: list[InlineImage]) -> None:
        await self.mount_all(widgets)
        for widget in widgets:
            self.post_message(self.ImageShown(widget))

    # ------------------------------------------------------------------- render

    def render_line(self, y: int) -> Strip:
        """One row on screen: a lookup in the row index and the block cache, nothing more.

        A busy channel scrolls every row on screen each frame, so this runs for every
        visible row per frame: the strips it returns are final (cropped and padded to the
        width, in the log's base style) and a line is formatted once per width.
        """
        absolute = y + int(self.scroll_y)
        if y == self.size.height - 1 and self.more_below:
            return self._more_below_strip()
        if absolute >= self._offsets[-1]:
            return Strip.blank(self.size.width, self._base_style())
        index = bisect.bisect_right(self._offsets, absolute) - 1
        block = self._render_block(self._rows[index], self._width())
        offset = absolute - self._offsets[index]
        if offset < len(block):
            return block[offset]
        return Strip.blank(self.size.width, self._base_style())

    @property
    def more_below(self) -> bool:
        """Scrolled up, with lines under the screen: the last row says so."""
        return not self._at_end and self._offsets[-1] > int(self.scroll_y) + self.size.height

    def _more_below_strip(self) -> Strip:
        label = Text(
            MORE_BELOW.center(self._width(), "─"), style=self._style("event"), no_wrap=True
        )
        segments = list(label.render(self.app.console))
        base = self._base_style()
        return Strip(Segment.apply_style(segments, base)).crop_extend(0, self.size.width, base)

    def _base_style(self) -> Style:
        """The log's own style, resolved once per theme: ``rich_style`` walks every ancestor."""
        if self._style_cache is None:
            self._style_cache = self.rich_style
        return self._style_cache

    def _render_block(self, row: Row, width: int) -> list[Strip]:
        """The final strips of ``row`` at ``width``: cached per line id, delivery and width."""
        visible = self.size.width  # the strips fill it; lines wrap at ``width``
        selected = isinstance(row, Line) and row.id == self.selected
        key = (row, selected, width, visible, self._nick_width)
        cached = self._blocks.get(key)
        if cached is not None:
            return cached
        base = self._base_style()
        if isinstance(row, DaySeparator):
            console = self.app.console
            options = console.options.update_width(width)
            day = self._format_day(row, width)
            lines = console.render_lines(day, options, style=base, pad=False)
        else:
            if selected:
                base = base + self._style("selected")
            lines = self._hanging(self.format_line(row), width, base)
            if row.reply is not None:
                lines.insert(0, self._aside(self._format_quote(row), width, base))
            if row.reactions:
                lines.append(self._aside(self._format_reactions(row), width, base))
        block = [
            Strip(Segment.simplify(segments)).crop_extend(0, visible, base) for segments in lines
        ] or [Strip.blank(visible, base)]
        if isinstance(row, Line):
            # the rows an InlineImage is laid over; blank beneath it
            block += [Strip.blank(visible, base)] * _image_rows(row)
        self._blocks[key] = block
        return block

    def _hanging(self, text: Text, width: int, base: Style) -> list[list[Segment]]:
        """``text`` wrapped at ``width`` with its continuation rows (wrapped or after a line
        break) starting under the text column, not under the time, as in WeeChat."""
        console = self.app.console
        indent = TIME_COLUMN + self._nick_width + 2
        if width - indent < MIN_TEXT_COLUMNS:  # too narrow to indent: wrap at the edge
            options = console.options.update_width(width)
            return console.render_lines(text, options, style=base, pad=False)
        head, body = text.divide([indent])
        head.end = ""
        options = console.options.update_width(width - indent)
        rows = console.render_lines(body, options, style=base, pad=False) or [[]]
        margin = Segment(" " * indent, base)
        first = list(Segment.apply_style(head.render(console), base))
        return [first + rows[0], *([margin, *row] for row in rows[1:])]

    def _aside(self, text: Text, width: int, base: Style) -> list[Segment]:
        """One row under the text column (a quote above a reply, reactions below a message),
        cut with an ellipsis rather than wrapped: it is a reminder, not the message."""
        indent = TIME_COLUMN + self._nick_width + 2
        if width - indent < MIN_TEXT_COLUMNS:
            indent = 2
        text.no_wrap, text.overflow = True, "ellipsis"
        text.truncate(width - indent, overflow="ellipsis")
        console = self.app.console
        margin = Segment(" " * indent, base)
        return [margin, *Segment.apply_style(text.render(console), base)]

    def _format_quote(self, line: Line) -> Text:
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

    def _format_reactions(self, line: Line) -> Text:
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

    def _format_day(self, row: DaySeparator, width: int) -> Text:
        label = f" {row.day.strftime('%A %d %B %Y')} "
        return Text(label.center(width, "─"), style=self._style("day"), no_wrap=True)

    def _style(self, name: str) -> Style:
        """A role's colour from the stylesheet; only the highlight role paints a background.

        Resolved in full (not ``partial``) so translucent colours such as ``$text-muted``
        are blended against the log's background rather than left unblended.
        """
        full = self.get_component_rich_style(f"message-log--{name}", partial=False)
        if name in ("highlight", "selected"):
            return Style(bgcolor=full.bgcolor)
        return Style(color=full.color, bold=full.bold, italic=full.italic)

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
        return Style(color=nick_colour(name, dark=self.app.current_theme.dark), bold=True)

    def _prefix(self, text: Text, label: str, style: Style) -> None:
        """The nick column: ``label`` right-aligned, so every line's text starts together."""
        width = self._nick_width
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


def _event_formatter(arrow: str, verb: str) -> Callable[[MessageLog, Text, Line], None]:
    def append(log: MessageLog, text: Text, line: Line) -> None:
        log._prefix(text, arrow, log._style("event"))
        text.append(line.sender, style=log._nick(line.sender))
        text.append(f" {verb}", style=log._style("event"))
        if line.kind == "topic":
            text.append(f": {line.text}")

    return append


_FORMATTERS: dict[str, Callable[[MessageLog, Text, Line], None]] = {
    "message": MessageLog._message,
    "action": MessageLog._action,
    "join": _event_formatter("→", "joined"),
    "part": _event_formatter("←", "left"),
    "topic": _event_formatter("✎", "set the topic"),
    "info": MessageLog._note,
    "error": MessageLog._note,
}


def _extra_rows(line: Line) -> int:
    """The quote row above a reply and the reactions row under a message."""
    return (line.reply is not None) + bool(line.reactions)


def _image_rows(line: Line) -> int:
    return IMAGE_ROWS if line.attachment is not None else 0


def _only_appended(old: tuple[Line, ...], new: tuple[Line, ...]) -> bool:
    """True when ``new`` is ``old`` plus lines at the end.

    Every old line is compared, not just the ends: an edit, a reaction or a delete
    (§14.10-14.12) replaces a line in the middle in the same batch as lines appended.
    Tuple comparison tries identity first, in C: 20,000 lines cost about 0.1 ms."""
    if not old or len(new) <= len(old):
        return False
    return new[0] is old[0] and new[len(old) - 1] is old[-1] and new[: len(old)] == old


def _only_prepended(old: tuple[Line, ...], new: tuple[Line, ...]) -> bool:
    if not old:
        return False
    return len(new) > len(old) and new[-1] is old[-1] and new[len(new) - len(old)] is old[0]
