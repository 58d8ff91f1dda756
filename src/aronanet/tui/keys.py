"""How the terminal's bytes become keys: Alt+digit as xterm-like terminals send it.

Textual's drivers build their ``XTermParser`` inside the input thread, so its sequence
table is the one seam short of copying a driver: ``AronaApp`` adjusts it once at start.
"""

from __future__ import annotations

from typing import cast

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS


class _KeyName:
    """Stands in for a ``textual.keys.Keys`` member: Textual reads only ``.value``."""

    def __init__(self, value: str) -> None:
        self.value = value


def read_escape_digit_as_alt() -> None:
    """Make ESC followed by a digit the key ``alt+DIGIT``, as xterm, VTE, tmux and screen
    send Alt+digit ("meta sends escape"); idempotent.

    Textual maps these sequences to the glyphs macOS types with Option (``ESC 2`` becomes
    ``™``) for WezTerm on macOS, so Alt+2 typed ``™`` into the input line, which then went out
    as a message. A terminal that sends the glyph itself (Option composing on macOS) still
    types it: only the two-byte ESC sequence changes meaning.
    """
    table = cast("dict[str, object]", ANSI_SEQUENCES_KEYS)  # a dict, typed read-only
    for digit in "0123456789":
        table["\x1b" + digit] = (_KeyName(f"alt+{digit}"),)
