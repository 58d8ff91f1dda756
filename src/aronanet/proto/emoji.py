"""ArTP/1.1 §14.12: what a reaction may be: ONE emoji, never text.

A reaction is shown beside a message to every reader, so the node refuses anything that is
not a single emoji (``:smile:``, a word, two emoji) rather than store it. The rule is
structural, on code points, so that the node, the Python client and the web client
(mobile/src/protocol/emoji.ts) agree exactly; tests/vectors/emoji.json holds the cases
all of them are tested against. Accepted, 1-16 code points in all:

* a regional indicator pair (a flag): two of U+1F1E6..U+1F1FF;
* a keycap: ``0-9``, ``#`` or ``*``, an optional U+FE0F, then U+20E3;
* an Extended_Pictographic code point, followed only by VS16 (U+FE0F), skin tone modifiers
  (U+1F3FB..U+1F3FF), tag characters (U+E0020..U+E007F, subdivision flags), or a ZWJ
  (U+200D) that is itself followed by another Extended_Pictographic code point.

Extended_Pictographic is a property of Unicode's emoji-data.txt that Python's
``unicodedata`` does not expose; ``_PICTOGRAPHIC`` is its ranges (Unicode 15.1).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

#: §14.12: the longest reaction, in code points (a family or kiss sequence fits).
MAX_CODE_POINTS: Final = 16
#: The message of the ``INVALID`` a node answers a reaction that is not one emoji with.
INVALID_EMOJI: Final = "invalid emoji: a reaction is one emoji"

ZWJ: Final = 0x200D
VS16: Final = 0xFE0F
KEYCAP: Final = 0x20E3
_KEYCAP_BASES: Final = frozenset(map(ord, "0123456789#*"))
_REGIONAL: Final = (0x1F1E6, 0x1F1FF)
_SKIN_TONES: Final = (0x1F3FB, 0x1F3FF)
_TAGS: Final = (0xE0020, 0xE007F)

#: Extended_Pictographic (emoji-data.txt), as inclusive (first, last) ranges, sorted.
_PICTOGRAPHIC: Final[tuple[tuple[int, int], ...]] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)
_STARTS: Final = tuple(first for first, _ in _PICTOGRAPHIC)


def is_pictographic(code_point: int) -> bool:
    """Whether ``code_point`` has Unicode's Extended_Pictographic property."""
    index = bisect_right(_STARTS, code_point) - 1
    return index >= 0 and code_point <= _PICTOGRAPHIC[index][1]


def _within(code_point: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= code_point <= bounds[1]


def is_reaction_emoji(text: str) -> bool:
    """§14.12: whether ``text`` is exactly one emoji (see the module docstring)."""
    points = [ord(char) for char in text]
    if not 1 <= len(points) <= MAX_CODE_POINTS:
        return False
    first = points[0]
    if _within(first, _REGIONAL):
        return len(points) == 2 and _within(points[1], _REGIONAL)
    if first in _KEYCAP_BASES:
        return points[1:] in ([KEYCAP], [VS16, KEYCAP])
    if not is_pictographic(first):
        return False
    return _modifiers_are_valid(points[1:])


def _modifiers_are_valid(rest: list[int]) -> bool:
    """What follows the first pictograph: modifiers, and ZWJ + pictograph links."""
    after_zwj = False
    for point in rest:
        if after_zwj:
            if not is_pictographic(point):
                return False
            after_zwj = False
        elif point == ZWJ:
            after_zwj = True
        elif not (point == VS16 or _within(point, _SKIN_TONES) or _within(point, _TAGS)):
            return False
    return not after_zwj
