"""§14.12 reaction emoji: the shared vectors (the web client runs the same file) and the
rule's properties over generated text."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aronanet.proto.emoji import _PICTOGRAPHIC, MAX_CODE_POINTS, is_pictographic, is_reaction_emoji

_VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "emoji.json").read_text(encoding="utf-8")
)
_CASES = _VECTORS["cases"]


@pytest.mark.parametrize("case", _CASES, ids=[c["why"] for c in _CASES])
def test_the_rule_agrees_with_the_shared_cases(case: dict[str, object]) -> None:
    codepoints = case["codepoints"]
    assert isinstance(codepoints, list)
    assert case["text"] == "".join(chr(int(point, 16)) for point in codepoints)
    assert is_reaction_emoji(str(case["text"])) is case["valid"]


def test_the_vectors_cover_both_edges_of_the_length_limit() -> None:
    lengths = {len(c["codepoints"]): c["valid"] for c in _CASES if "edge" in c["why"]}
    assert lengths == {MAX_CODE_POINTS: True, MAX_CODE_POINTS + 1: False}
    assert _VECTORS["max_code_points"] == MAX_CODE_POINTS


def test_the_pictographic_ranges_are_sorted_and_disjoint() -> None:
    for (_, last), (first, end) in itertools.pairwise(_PICTOGRAPHIC):
        assert last < first <= end


pictograph = st.sampled_from(_PICTOGRAPHIC).flatmap(
    lambda bounds: st.integers(bounds[0], bounds[1]).map(chr)
)
modifier = st.sampled_from(["\ufe0f", "\U0001f3fb", "\U0001f3ff", "\U000e0061"])
single = st.builds(lambda p, mods: p + "".join(mods), pictograph, st.lists(modifier, max_size=3))


@given(single)
def test_a_pictograph_with_modifiers_is_one_emoji(text: str) -> None:
    assert is_reaction_emoji(text)


@given(single, single)
def test_two_emoji_side_by_side_are_not_one(first: str, second: str) -> None:
    assert not is_reaction_emoji(first + second)


@given(single, single)
def test_two_emoji_joined_by_a_zwj_are_one(first: str, second: str) -> None:
    assert is_reaction_emoji(first + "\u200d" + second) is (len(first) + 1 + len(second) <= 16)


@given(single, st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), min_size=1))
def test_emoji_with_text_is_not_one_emoji(emoji: str, text: str) -> None:
    assert not is_reaction_emoji(emoji + text)
    assert not is_reaction_emoji(text + emoji)


@given(st.integers(0, 0x10FFFF))
def test_a_lone_code_point_is_an_emoji_exactly_when_it_is_pictographic(point: int) -> None:
    if 0xD800 <= point <= 0xDFFF:
        return
    assert is_reaction_emoji(chr(point)) is is_pictographic(point)
