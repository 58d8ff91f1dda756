"""The slash commands on messages already sent (ArTP/1.1 §14.9-14.15), parsed into values.

``/reply``, ``/edit``, ``/delete``, ``/react`` and ``/search`` act on a message (the
selected one, the last own or the newest) or find one, rather than on a conversation; their
values, parsers and rows of the command table (``commands``) are kept together here, pure
like the rest of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from aronanet.client.command_spec import CommandError, CommandSpec, no_args, split_args


@dataclass(frozen=True, slots=True)
class ReplyCommand:
    """``/reply [N] TEXT``: answer the N-th newest message (1: the newest), or the selected
    one, or the newest (ArTP/1.1 §14.9)."""

    back: int | None
    text: str


@dataclass(frozen=True, slots=True)
class EditCommand:
    """``/edit [TEXT]``: change the selected or last own message (§14.10); without TEXT the
    input line takes its text to change."""

    text: str | None


@dataclass(frozen=True, slots=True)
class DeleteCommand:
    """``/delete``: delete the selected or last own message, after a confirmation (§14.11)."""


@dataclass(frozen=True, slots=True)
class ReactCommand:
    """``/react EMOJI``: add (or take back) a reaction on the selected or newest message."""

    emoji: str


@dataclass(frozen=True, slots=True)
class SearchCommand:
    """``/search QUERY``: find messages in every conversation the user can read (§14.15)."""

    query: str


LifecycleCommand: TypeAlias = (
    ReplyCommand | EditCommand | DeleteCommand | ReactCommand | SearchCommand
)


def _parse_reply(args: str) -> ReplyCommand | None:
    head, rest = split_args(args)
    if head.isdigit() and int(head) > 0:
        return ReplyCommand(int(head), rest) if rest else None
    text = args.strip()
    return ReplyCommand(None, text) if text else None


def _parse_edit(args: str) -> EditCommand:
    return EditCommand(args.strip() or None)


def _parse_react(args: str) -> ReactCommand | None:
    emoji = args.strip()
    return ReactCommand(emoji) if emoji else None


def _parse_search(args: str) -> SearchCommand | CommandError | None:
    query = args.strip()
    if not query:
        return None
    if len(query) > 256:
        return CommandError("a search is at most 256 characters; try fewer words")
    return SearchCommand(query)


LIFECYCLE_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "reply",
        "/reply [N] TEXT",
        "answer a message (N: the N-th newest; default: the selected one)",
        _parse_reply,
        details=(
            "Alt+Up (or Ctrl+Up) selects a message, r replies to it; the quote shows above.",
            "On a selected reply, Enter jumps to the message it answers.",
            "Example: /reply 2 yes, at noon!",
        ),
    ),
    CommandSpec(
        "edit",
        "/edit [TEXT]",
        "change your selected or last message",
        _parse_edit,
        details=(
            "Up on an empty line does the same: the line takes the text, Enter saves it,",
            "Esc cancels. Everyone sees the new text marked (edited).",
        ),
    ),
    CommandSpec(
        "delete",
        "/delete",
        "delete your selected or last message (asks first)",
        no_args(DeleteCommand()),
        details=("y deletes, n or Esc keeps it; others see 'message deleted'.",),
    ),
    CommandSpec(
        "react",
        "/react EMOJI",
        "react to the selected or newest message (again: take it back)",
        _parse_react,
        details=("Alt+Up selects a message, + starts a reaction on it.", "Example: /react 👍"),
    ),
    CommandSpec(
        "search",
        "/search QUERY",
        "find messages in all your conversations",
        _parse_search,
        details=(
            'Every word must match; "a phrase" matches in order; word* matches the start.',
            "Enter on a result shows it in its conversation, Esc goes back.",
        ),
    ),
)
