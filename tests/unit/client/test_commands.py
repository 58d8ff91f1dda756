"""Slash-command parsing: what IRC users type becomes a command, or a helpful error."""

from __future__ import annotations

import pytest

from aronanet.client.command_spec import CommandError
from aronanet.client.commands import (
    ClearCommand,
    HelpCommand,
    ImgCommand,
    JoinCommand,
    ListCommand,
    MeCommand,
    MsgCommand,
    NamesCommand,
    OpenCommand,
    PartCommand,
    QueryCommand,
    QuitCommand,
    RetryCommand,
    SaveCommand,
    Say,
    ThemeCommand,
    TopicCommand,
    command_names,
    help_lines,
    parse,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hello there", Say("hello there")),
        ("//shrug", Say("/shrug")),
        ("/join #general", JoinCommand("#general")),
        ("/join General", JoinCommand("#general")),
        ("/part", PartCommand(None)),
        ("/leave #lounge", PartCommand("#lounge")),
        ("/msg hoshino see you at noon", MsgCommand("hoshino", "see you at noon")),
        ("/msg #general hi", MsgCommand("#general", "hi")),
        ("/query Yuuka", QueryCommand("Yuuka", None)),
        ("/query Yuuka budget?", QueryCommand("Yuuka", "budget?")),
        ("/me stretches", MeCommand("stretches")),
        ("/topic", TopicCommand(None)),
        ("/topic  tea at five ", TopicCommand("tea at five")),
        ("/names", NamesCommand(None)),
        ("/list", ListCommand()),
        ("/clear", ClearCommand()),
        ("/help join", HelpCommand("join")),
        ("/HELP", HelpCommand(None)),
        ("/quit", QuitCommand()),
        ("/img ~/pics/arona.png", ImgCommand("~/pics/arona.png")),
        ("/retry", RetryCommand()),
        ("/open", OpenCommand()),
        ("/save", SaveCommand(None)),
        ('/save "~/My Pictures"', SaveCommand("~/My Pictures")),
        ("/theme dark", ThemeCommand("dark")),
        ("/theme", ThemeCommand(None)),
    ],
)
def test_parse_understands_irc_style_commands(line: str, expected: object) -> None:
    assert parse(line) == expected


def test_blank_line_is_nothing_to_do() -> None:
    assert parse("   ") is None


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("/join", "usage: /join #channel"),
        ("/join #bad!name", "not a channel name"),
        ("/join #Bad Name", "'#Bad Name' is not a channel name: names have no spaces"),
        ("/join #ops now", "names have no spaces"),
        ("/names #a b", "names have no spaces"),
        ("/msg hoshino", "usage: /msg NAME TEXT"),
        ("/msg bad!name hi", "not a user name"),
        ("/query", "usage: /query"),
        ("/me", "usage: /me"),
        ("/img", "usage: /img PATH"),
        ("/theme pink", "light and a dark"),
        ("/frobnicate", "unknown command /frobnicate"),
    ],
)
def test_wrong_input_gets_a_helpful_line(line: str, needle: str) -> None:
    result = parse(line)
    assert isinstance(result, CommandError)
    assert needle in result.message


def test_unknown_command_suggests_similar_ones() -> None:
    result = parse("/jion #general")
    assert isinstance(result, CommandError)
    assert "/join" in result.message


def test_command_names_include_aliases_for_completion() -> None:
    names = command_names()
    assert {"/join", "/part", "/leave", "/msg", "/query", "/me", "/quit", "/exit"} <= set(names)


def test_help_lists_every_command_and_explains_one() -> None:
    assert any(line.startswith("/join") for line in help_lines(None))
    assert help_lines("leave") == [
        "/part [#channel] — leave a channel (default: this one) (also /leave)"
    ]
    assert "no /nope" in help_lines("nope")[0]


def test_help_on_one_command_teaches_it_beyond_the_summary() -> None:
    summary = next(line for line in help_lines(None) if line.startswith("/img"))
    taught = help_lines("img")
    assert len(taught) > 3
    assert summary not in taught
    assert any(line.startswith("Example: /img ") for line in taught)
    assert any("Esc" in line for line in taught)
