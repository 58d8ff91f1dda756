"""``CommandSpec``: what the slash-command table knows of one command, and what a parser answers.

The table (``commands``) is the one source for parsing, ``/help`` and tab completion, but
its rows live with their kind of command (``lifecycle_commands``, ``account_commands``,
``moderation_commands``), each next to its values and parsers. They all build on this
module, which imports none of them, so the table and its parts need no import cycle. A
parser answers without knowing the table: None means "show the usage line", which
``commands.parse`` looks up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from aronanet.client.commands import Command


@dataclass(frozen=True, slots=True)
class CommandError:
    """What went wrong, in words for the user, with the usage line when it helps."""

    message: str


#: A parser's answer: the command, what is wrong (a ``CommandError`` or its text), or None:
#: the usage line says it best.
Parsed: TypeAlias = "Command | CommandError | str | None"
Parser: TypeAlias = Callable[[str], Parsed]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    parse: Parser
    aliases: tuple[str, ...] = ()
    details: tuple[str, ...] = ()  # what ``/help NAME`` teaches beyond the usage line


def split_args(args: str) -> tuple[str, str]:
    """The first word and the rest, so that every parser splits its arguments alike."""
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def no_args(command: Command) -> Parser:
    """The parser of a command that takes nothing: whatever follows is ignored."""
    return lambda _args: command
