"""The §14.5 mention rule: ``@name`` not followed by a name character, or ``name:`` /
``name,`` at the start; case-insensitive in ASCII only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aronanet.proto.mentions import mentioned_names, mentions

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=32)
contents = st.text(
    alphabet=st.sampled_from([*NAME_CHARS, "@", ":", ",", " ", ".", "é", "K", "\n"]),
    max_size=60,
)


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ("@alice hi", "alice", True),
        ("hi @alice", "alice", True),
        ("hi @Alice!", "alice", True),
        ("hi @ALICE", "alice", True),
        ("@alice, look", "alice", True),
        ("x@alice.", "alice", True),  # only what follows matters
        ("@@alice", "alice", True),
        ("@alicee", "alice", False),
        ("@alice-", "alice", False),  # "-" and "_" are name characters
        ("@alice_2", "alice", False),
        ("@al", "alice", False),
        ("alice: look", "alice", True),
        ("ALICE, look", "alice", True),
        ("alice look", "alice", False),
        (" alice: look", "alice", False),  # only at the very start
        ("hey alice: look", "alice", False),
        ("alice;", "alice", False),
        ("@\u212alice", "kalice", False),  # the Kelvin sign is not "k"
        ("", "alice", False),
        ("@a-b", "a-b", True),
        ("a-b: x", "a-b", True),
    ],
)
def test_the_mention_rule_on_examples(content: str, name: str, expected: bool) -> None:
    assert mentions(content, name) is expected
    assert (name.lower() in mentioned_names(content)) is expected


@given(contents, names)
def test_mentioned_names_agrees_with_mentions(content: str, name: str) -> None:
    # The node records mentions through mentioned_names; clients count with mentions.
    assert (name.lower() in mentioned_names(content)) == mentions(content, name)


@given(names, contents)
def test_an_at_mention_anywhere_is_found(name: str, tail: str) -> None:
    content = f"{tail} @{name}"
    assert mentions(content, name)
    assert mentions(content.upper(), name.lower())


@given(names, st.sampled_from(NAME_CHARS))
def test_a_longer_name_is_not_a_mention(name: str, extra: str) -> None:
    assert not mentions(f"@{name}{extra}", name)


def test_runs_longer_than_a_user_name_name_nobody() -> None:
    assert mentioned_names("@" + "a" * 33) == frozenset()
    assert mentioned_names("@" + "a" * 32) == frozenset({"a" * 32})
