"""The message log's row index: which row (a line or a day separator) starts at which y.

Kept apart from the widget because it is the data structure the log's speed rests on: every
row's first y in one sorted list, so the row under any screen row is a bisection away and a
busy channel appends one entry per message; and the test of whether a buffer only grew or
only gained older lines, which decides between appending rows and rebuilding them.
"""

from __future__ import annotations

import bisect

from aronanet.client.state import Line
from aronanet.tui.widgets.line_formatter import DaySeparator

Row = Line | DaySeparator


class RowIndex:
    """The rows of one buffer at one width, and the first y of each."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.offsets: list[int] = [0]  # offsets[i] = first y of row i; last = total

    def clear(self) -> None:
        self.rows, self.offsets = [], [0]

    def add(self, row: Row, height: int) -> None:
        self.rows.append(row)
        self.offsets.append(self.offsets[-1] + height)

    @property
    def total(self) -> int:
        """Rows of text all the rows take: the log's virtual height."""
        return self.offsets[-1]

    def at(self, y: int) -> int:
        """The index of the row covering ``y`` (its last row, past the end)."""
        return bisect.bisect_right(self.offsets, y) - 1

    def find(self, line_id: str | None) -> int | None:
        """The index of the line ``line_id``, if it is in the index."""
        return next(
            (i for i, row in enumerate(self.rows) if isinstance(row, Line) and row.id == line_id),
            None,
        )

    def between(self, start: int, end: int) -> list[tuple[Row, int]]:
        """Rows overlapping ``[start, end)`` with their first y: O(rows on screen)."""
        index = max(0, bisect.bisect_right(self.offsets, start) - 1)
        found: list[tuple[Row, int]] = []
        while index < len(self.rows) and self.offsets[index] < end:
            found.append((self.rows[index], self.offsets[index]))
            index += 1
        return found


def only_appended(old: tuple[Line, ...], new: tuple[Line, ...]) -> bool:
    """True when ``new`` is ``old`` plus lines at the end.

    Every old line is compared, not just the ends: an edit, a reaction or a delete
    (§14.10-14.12) replaces a line in the middle in the same batch as lines appended.
    Tuple comparison tries identity first, in C: 20,000 lines cost about 0.1 ms."""
    if not old or len(new) <= len(old):
        return False
    return new[0] is old[0] and new[len(old) - 1] is old[-1] and new[: len(old)] == old


def only_prepended(old: tuple[Line, ...], new: tuple[Line, ...]) -> bool:
    if not old:
        return False
    return len(new) > len(old) and new[-1] is old[-1] and new[len(new) - len(old)] is old[0]
