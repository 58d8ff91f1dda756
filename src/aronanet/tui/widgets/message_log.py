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

What each row says is ``LineFormatter``'s (``line_formatter``), and which row starts at
which y is ``RowIndex``'s (``row_index``); this widget lays the one out over the other,
scrolls, selects and caches.
"""

from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from aronanet.client.state import Buffer, Line
from aronanet.tui.widgets.inline_image import InlineImage, Renderer
from aronanet.tui.widgets.line_formatter import (
    TIME_COLUMN,
    DaySeparator,
    LineFormatter,
    TimeZone,
    nick_column,
)
from aronanet.tui.widgets.row_index import Row, RowIndex, only_appended, only_prepended

#: Rows an image takes under its message line: a caption and up to IMAGE_ROWS - 1 of picture.
IMAGE_ROWS = 10
#: Images this many rows above or below the screen are mounted too, so scrolling shows them
#: already drawn.
IMAGE_MARGIN = IMAGE_ROWS
#: The last row of a log scrolled up: there is more under the screen.
MORE_BELOW = " ↓ more below · PageDown "
#: Below this many cells for the text, wrapped rows start at the left edge instead.
MIN_TEXT_COLUMNS = 16


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
        self._format = LineFormatter(self._style, lambda: self.app.current_theme.dark, tz)
        self.renderer = renderer
        self._images: dict[str, InlineImage] = {}  # line id -> widget laid over its rows
        self._sync_scheduled = False
        self._key: str | None = None
        self._lines: tuple[Line, ...] = ()
        self._index = RowIndex()
        # keyed by the line itself (frozen: an edit, a reaction, a delivery change is a new
        # value) or a day separator, and the widths it was laid out for
        self._blocks: LRUCache[tuple[Row, bool, int, int, int], list[Strip]] = LRUCache(2048)
        self._heights: dict[tuple[Line, int, int], int] = {}
        #: The message line the keys act on (Alt+Up/Down), if any: shown highlighted.
        self.selected: str | None = None
        self._style_cache: Style | None = None
        self._laid_out_width = 0  # the width the row index was computed for
        self._at_end = True  # showing the newest line: new lines and resizes keep it so

    # ----------------------------------------------------------------- state in

    def show(self, buffer: Buffer, me: str | None) -> None:
        """Display ``buffer``: append when it only grew, otherwise rebuild the row index."""
        if buffer.key == self._key and buffer.lines is self._lines and me == self._format.me:
            return
        at_bottom = self._at_end or self.scroll_y >= self.max_scroll_y
        old_lines, old_total = self._lines, self._index.total
        same_buffer = buffer.key == self._key
        if not same_buffer:
            self.selected = None
        self._format.me = me
        appended = same_buffer and only_appended(old_lines, buffer.lines)
        fresh = buffer.lines[len(old_lines) :] if appended else buffer.lines
        width = nick_column(fresh, buffer.members, self._format.nick_width if appended else 0)
        if width != self._format.nick_width:
            # every row re-renders at the new width
            self._format.nick_width, appended = width, False
        if appended:
            self._extend_rows(fresh)
        else:
            self._key = buffer.key
            self._index.clear()
            self._extend_rows(buffer.lines)
        self._lines = buffer.lines
        self.virtual_size = Size(self.size.width, self._index.total)
        if not same_buffer or at_bottom:
            self._follow_end()
        elif only_prepended(old_lines, buffer.lines):
            # keep the line the user was reading where it was
            grown = self._index.total - old_total
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
        index = self._index.find(line_id)
        if index is None:
            return
        top, bottom = self._index.offsets[index], self._index.offsets[index + 1]
        height = max(1, self.size.height - 1)  # the last row may say "more below"
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif bottom > self.scroll_y + height:
            self.scroll_to(y=bottom - height, animate=False, immediate=True)

    @property
    def row_count(self) -> int:
        return len(self._index.rows)

    def _extend_rows(self, lines: tuple[Line, ...]) -> None:
        width = self._laid_out_width = self._width()
        last_day = self._last_day()
        for line in lines:
            day = self._day(line.timestamp)
            if day != last_day:
                self._index.add(DaySeparator(day), 1)
                last_day = day
            self._index.add(line, self._height(line, width))

    def _last_day(self) -> dt.date | None:
        for row in reversed(self._index.rows):
            return row.day if isinstance(row, DaySeparator) else self._day(row.timestamp)
        return None

    def _day(self, timestamp: int) -> dt.date:
        return dt.datetime.fromtimestamp(timestamp, self.tz).date()

    def _width(self) -> int:
        return max(self.scrollable_content_region.width, 20)

    # ------------------------------------------------------------------- layout

    def _height(self, line: Line, width: int) -> int:
        """Rows ``line`` takes at ``width``; renders only when it may wrap, remembers it."""
        key = (line, width, self._format.nick_width)
        height = self._heights.get(key)
        if height is None:
            plain = self._format.format_line(line).plain
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
        if self._index.rows:
            self._index.clear()
            self._extend_rows(self._lines)
            self.virtual_size = Size(self.size.width, self._index.total)
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
        for row, top in self._index.between(*self._image_window()):
            if isinstance(row, Line) and row.attachment is not None:
                index = self._index.at(top)
                wanted[row.id] = (row, self._index.offsets[index + 1] - IMAGE_ROWS)
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
            widget.styles.offset = (TIME_COLUMN + self._format.nick_width + 2, image_top)
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
        if absolute >= self._index.total:
            return Strip.blank(self.size.width, self._base_style())
        index = self._index.at(absolute)
        block = self._render_block(self._index.rows[index], self._width())
        offset = absolute - self._index.offsets[index]
        if offset < len(block):
            return block[offset]
        return Strip.blank(self.size.width, self._base_style())

    @property
    def more_below(self) -> bool:
        """Scrolled up, with lines under the screen: the last row says so."""
        return not self._at_end and self._index.total > int(self.scroll_y) + self.size.height

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
        key = (row, selected, width, visible, self._format.nick_width)
        cached = self._blocks.get(key)
        if cached is not None:
            return cached
        base = self._base_style()
        if isinstance(row, DaySeparator):
            console = self.app.console
            options = console.options.update_width(width)
            day = self._format.format_day(row, width)
            lines = console.render_lines(day, options, style=base, pad=False)
        else:
            if selected:
                base = base + self._style("selected")
            lines = self._hanging(self._format.format_line(row), width, base)
            if row.reply is not None:
                lines.insert(0, self._aside(self._format.format_quote(row), width, base))
            if row.reactions:
                lines.append(self._aside(self._format.format_reactions(row), width, base))
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
        indent = TIME_COLUMN + self._format.nick_width + 2
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
        indent = TIME_COLUMN + self._format.nick_width + 2
        if width - indent < MIN_TEXT_COLUMNS:
            indent = 2
        text.no_wrap, text.overflow = True, "ellipsis"
        text.truncate(width - indent, overflow="ellipsis")
        console = self.app.console
        margin = Segment(" " * indent, base)
        return [margin, *Segment.apply_style(text.render(console), base)]

    def _style(self, name: str) -> Style:
        """A role's colour from the stylesheet; only the highlight role paints a background.

        Resolved in full (not ``partial``) so translucent colours such as ``$text-muted``
        are blended against the log's background rather than left unblended.
        """
        full = self.get_component_rich_style(f"message-log--{name}", partial=False)
        if name in ("highlight", "selected"):
            return Style(bgcolor=full.bgcolor)
        return Style(color=full.color, bold=full.bold, italic=full.italic)


def _extra_rows(line: Line) -> int:
    """The quote row above a reply and the reactions row under a message."""
    return (line.reply is not None) + bool(line.reactions)


def _image_rows(line: Line) -> int:
    return IMAGE_ROWS if line.attachment is not None else 0
