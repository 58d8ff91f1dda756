"""The Arona theme: sky blue, white and soft pink, in a light and a dark variant.

An original palette (our homage, nothing taken from the game). Nick colours are chosen per
variant so every name stays readable on its background, and a name always gets the same
colour: the index is a CRC of the case-folded name, not Python's per-process ``hash``.
"""

from __future__ import annotations

import zlib

from textual.theme import Theme

LIGHT = "arona-light"
DARK = "arona-dark"

ARONA_LIGHT = Theme(
    name=LIGHT,
    primary="#3a9ad9",  # sky blue
    secondary="#7cc4f0",
    accent="#e87fa8",  # soft pink
    warning="#d98a1f",
    error="#cf3f5c",
    success="#2f9e6e",
    foreground="#22364a",
    background="#f6fbff",
    surface="#ffffff",
    panel="#e3f2fd",
    dark=False,
    variables={
        "arona-halo": "#e87fa8",
        "arona-highlight": "#fde4ee",
        "footer-key-foreground": "#3a9ad9",
        "input-selection-background": "#7cc4f0 40%",
    },
)

ARONA_DARK = Theme(
    name=DARK,
    primary="#6cc4ff",
    secondary="#2d6f9e",
    accent="#ff9cc2",
    warning="#f0b35a",
    error="#ff6b86",
    success="#6ad49b",
    foreground="#e6f3ff",
    background="#0f1b2a",
    surface="#14243a",
    panel="#1b3150",
    dark=True,
    variables={
        "arona-halo": "#ff9cc2",
        "arona-highlight": "#4a2338",
        "footer-key-foreground": "#6cc4ff",
        "input-selection-background": "#2d6f9e 60%",
    },
)

THEMES: dict[str, Theme] = {LIGHT: ARONA_LIGHT, DARK: ARONA_DARK}

_NICK_LIGHT = (
    "#1f6fb2",
    "#b8336a",
    "#2e7d32",
    "#8e44ad",
    "#c05621",
    "#00838f",
    "#6d4c41",
    "#3949ab",
    "#ad1457",
    "#558b2f",
    "#5d4037",
    "#0277bd",
)
_NICK_DARK = (
    "#7cc4f0",
    "#ff9cc2",
    "#8fe3a8",
    "#c9a2ff",
    "#ffb877",
    "#6fe0e6",
    "#e0c29a",
    "#a3b5ff",
    "#ff8fb1",
    "#c5e88c",
    "#f5d76e",
    "#9ad7ff",
)


def nick_colour(name: str, *, dark: bool) -> str:
    """The stable colour of ``name`` in the given variant (same name, same colour, always)."""
    palette = _NICK_DARK if dark else _NICK_LIGHT
    return palette[zlib.crc32(name.casefold().encode("utf-8")) % len(palette)]


def other_variant(theme_name: str) -> str:
    return LIGHT if theme_name == DARK else DARK
