"""Slash commands as IRC users expect them, parsed into values (pure: no I/O, no state).

``parse(line)`` turns what the user typed into a command value or a ``CommandError`` whose
text says what was wrong and how to write it; nothing here raises. The table ``COMMANDS`` is
the one source for parsing, ``/help`` and tab completion. This module holds the commands on
conversations, images and the client itself; the other kinds bring their own rows
(``lifecycle_commands``, ``account_commands``, ``moderation_commands``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TypeAlias

from aronanet.client.account_commands import ACCOUNT_COMMANDS, AccountCommand
from aronanet.client.command_spec import CommandError, CommandSpec, Parsed, no_args, split_args
from aronanet.client.lifecycle_commands import LIFECYCLE_COMMANDS, LifecycleCommand
from aronanet.client.moderation_commands import MODERATION_COMMANDS, ModerationCommand
from aronanet.proto.messages import CHANNEL_PATTERN, USER_PATTERN
from aronanet.proto.wording import rule


@dataclass(frozen=True, slots=True)
class Say:
    """Plain text for the current buffer (``//text`` sends a literal ``/text``)."""

    text: str


@dataclass(frozen=True, slots=True)
class JoinCommand:
    channel: str


@dataclass(frozen=True, slots=True)
class PartCommand:
    channel: str | None  # None: the current buffer


@dataclass(frozen=True, slots=True)
class MsgCommand:
    target: str  # a channel or a user
    text: str


@dataclass(frozen=True, slots=True)
class QueryCommand:
    user: str
    text: str | None


@dataclass(frozen=True, slots=True)
class MeCommand:
    text: str


@dataclass(frozen=True, slots=True)
class TopicCommand:
    topic: str | None  # None: show the current topic


@dataclass(frozen=True, slots=True)
class NamesCommand:
    channel: str | None


@dataclass(frozen=True, slots=True)
class ListCommand:
    pass


@dataclass(frozen=True, slots=True)
class ClearCommand:
    pass


@dataclass(frozen=True, slots=True)
class CloseCommand:
    pass


@dataclass(frozen=True, slots=True)
class HelpCommand:
    topic: str | None


@dataclass(frozen=True, slots=True)
class QuitCommand:
    pass


@dataclass(frozen=True, slots=True)
class ImgCommand:
    path: str


@dataclass(frozen=True, slots=True)
class RetryCommand:
    """Send this buffer's failed messages again."""


@dataclass(frozen=True, slots=True)
class OpenCommand:
    """Open the newest image of this buffer in the system viewer."""


@dataclass(frozen=True, slots=True)
class SaveCommand:
    path: str | None  # a directory or file name; None: the user's Downloads/Pictures


@dataclass(frozen=True, slots=True)
class ReconnectCommand:
    """Connect to the node again now, without waiting for the next retry."""


@dataclass(frozen=True, slots=True)
class ThemeCommand:
    variant: str | None  # "light", "dark", or None to toggle


Command: TypeAlias = (
    Say
    | JoinCommand
    | PartCommand
    | MsgCommand
    | QueryCommand
    | MeCommand
    | TopicCommand
    | NamesCommand
    | ListCommand
    | ClearCommand
    | CloseCommand
    | HelpCommand
    | QuitCommand
    | ImgCommand
    | RetryCommand
    | OpenCommand
    | SaveCommand
    | ReconnectCommand
    | ThemeCommand
    | AccountCommand
    | LifecycleCommand
    | ModerationCommand
)


def normalise_channel(name: str) -> str | None:
    """``general`` and ``#General`` both mean ``#general``; None when no valid name results.

    Channel names fold case here, in the client: the node keeps refusing upper case
    (ArTP/1.0 semantics), so what a user types is lowered before it is sent.
    """
    channel = name if name.startswith("#") else f"#{name}"
    channel = channel.lower()
    return channel if re.fullmatch(CHANNEL_PATTERN, channel) else None


def is_user_name(name: str) -> bool:
    return re.fullmatch(USER_PATTERN, name) is not None


def _usage(spec: CommandSpec) -> CommandError:
    return CommandError(f"usage: {spec.usage} — {spec.summary}")


def _bad_channel(name: str) -> CommandError:
    return CommandError(f"{name!r} is not a channel name: {rule('channel')}, like #general")


def _bad_user(name: str) -> CommandError:
    return CommandError(f"{name!r} is not a user name: {rule('user')}")


def _one_channel(args: str) -> str | CommandError | None:
    """The one channel name in ``args`` (None if empty); more than one word is refused, not
    cut: ``/join #Bad Name`` joining ``#bad`` would be a surprise."""
    name, rest = split_args(args)
    if not name:
        return None
    if rest:
        return CommandError(
            f"{args.strip()!r} is not a channel name: names have no spaces; "
            f"{rule('channel')}, like #bad-name"
        )
    return normalise_channel(name) or _bad_channel(name)


def _parse_join(args: str) -> Parsed:
    channel = _one_channel(args)
    if channel is None:
        return None
    return JoinCommand(channel) if isinstance(channel, str) else channel


def _parse_part(args: str) -> Parsed:
    name, _ = split_args(args)
    if not name:
        return PartCommand(None)
    channel = normalise_channel(name)
    return PartCommand(channel) if channel else _bad_channel(name)


def _parse_msg(args: str) -> Parsed:
    target, text = split_args(args)
    if not target or not text:
        return None
    if target.startswith("#"):
        channel = normalise_channel(target)
        return MsgCommand(channel, text) if channel else _bad_channel(target)
    return MsgCommand(target, text) if is_user_name(target) else _bad_user(target)


def _parse_query(args: str) -> Parsed:
    user, text = split_args(args)
    if not user:
        return None
    if not is_user_name(user):
        return _bad_user(user)
    return QueryCommand(user, text or None)


def _parse_me(args: str) -> Parsed:
    text = args.strip()
    return MeCommand(text) if text else None


def _parse_topic(args: str) -> Parsed:
    return TopicCommand(args.strip() or None)


def _parse_names(args: str) -> Parsed:
    channel = _one_channel(args)
    return channel if isinstance(channel, CommandError) else NamesCommand(channel)


def _parse_help(args: str) -> Parsed:
    topic, _ = split_args(args)
    return HelpCommand(topic.lstrip("/").lower() or None)


def _parse_img(args: str) -> Parsed:
    path = args.strip().strip('"')
    return ImgCommand(path) if path else None


def _parse_save(args: str) -> Parsed:
    return SaveCommand(args.strip().strip('"') or None)


def _parse_theme(args: str) -> Parsed:
    variant, _ = split_args(args)
    if variant and variant.lower() not in ("light", "dark"):
        return CommandError(f"there is a light and a dark theme, not {variant!r}: /theme light")
    return ThemeCommand(variant.lower() or None)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "join",
        "/join #channel",
        "join a channel (created on first join)",
        _parse_join,
        details=(
            "A channel name is # and 1-32 of a-z, 0-9, _ and - (upper case is lowered).",
            "The channel opens in the sidebar with its last messages; /part leaves it.",
            "Example: /join #general",
        ),
    ),
    CommandSpec(
        "part", "/part [#channel]", "leave a channel (default: this one)", _parse_part, ("leave",)
    ),
    CommandSpec(
        "msg",
        "/msg NAME TEXT",
        "send TEXT to a user or channel",
        _parse_msg,
        details=(
            "You stay in the buffer you are in; the conversation appears in the sidebar.",
            "Example: /msg hoshino are you free later?",
        ),
    ),
    CommandSpec(
        "query",
        "/query USER [TEXT]",
        "open a private conversation",
        _parse_query,
        details=(
            "Unlike /msg, it switches to the conversation (and sends TEXT there, if given).",
            "Example: /query hoshino",
        ),
    ),
    CommandSpec(
        "me",
        "/me ACTION",
        "say what you are doing, in the third person",
        _parse_me,
        details=("Example: /me waves  shows as  * sensei waves",),
    ),
    CommandSpec(
        "topic",
        "/topic [TEXT]",
        "show or set the channel topic",
        _parse_topic,
        details=(
            "Without TEXT it shows the topic of this channel; with TEXT it sets it for everyone.",
            "Example: /topic Budget week!",
        ),
    ),
    CommandSpec(
        "names",
        "/names [#channel]",
        "list the channel's members",
        _parse_names,
        details=("Example: /names #general",),
    ),
    CommandSpec("list", "/list", "list the node's channels", no_args(ListCommand())),
    CommandSpec("clear", "/clear", "clear this buffer's screen", no_args(ClearCommand())),
    CommandSpec(
        "close", "/close", "close this buffer (a channel is also left)", no_args(CloseCommand())
    ),
    CommandSpec(
        "img",
        "/img PATH",
        "send an image file (Esc cancels)",
        _parse_img,
        details=(
            "PATH is a PNG, JPEG, GIF or WebP file; ~ is your home directory.",
            "A bar above the input shows the upload; Esc cancels it.",
            "If the link drops, the upload waits and resumes where it stopped.",
            "Pasting (or dropping) an image file's path into an empty input line sends it too.",
            "/open shows the newest image of the buffer in your viewer; /save keeps a copy.",
            "Example: /img ~/Pictures/receipts.png",
        ),
    ),
    CommandSpec(
        "open", "/open", "open the newest image here in your viewer", no_args(OpenCommand())
    ),
    CommandSpec(
        "save", "/save [PATH]", "save the newest image here (default: Downloads)", _parse_save
    ),
    CommandSpec(
        "retry",
        "/retry",
        "send this buffer's failed messages again (Ctrl+R)",
        no_args(RetryCommand()),
    ),
    CommandSpec(
        "reconnect",
        "/reconnect",
        "connect to the node again now",
        no_args(ReconnectCommand()),
        details=(
            "After a dropped link I retry by myself, waiting longer each time;",
            "/reconnect tries at once (and starts again after I gave up).",
            "Queued messages go out as soon as the link is back.",
        ),
    ),
    *LIFECYCLE_COMMANDS,
    CommandSpec("theme", "/theme [light|dark]", "switch the Arona theme", _parse_theme),
    *ACCOUNT_COMMANDS,
    *MODERATION_COMMANDS,
    CommandSpec("help", "/help [COMMAND]", "list commands, or explain one", _parse_help),
    CommandSpec("quit", "/quit", "leave the client", no_args(QuitCommand()), ("exit",)),
)

_BY_NAME: dict[str, CommandSpec] = {
    name: spec for spec in COMMANDS for name in (spec.name, *spec.aliases)
}


def command_names() -> list[str]:
    """Every command and alias with its slash, for tab completion."""
    return sorted(f"/{name}" for name in _BY_NAME)


def find_command(name: str) -> CommandSpec | None:
    return _BY_NAME.get(name.lower().lstrip("/"))


def parse(line: str) -> Command | CommandError | None:
    """Parse one input line; None for a blank line (nothing to do)."""
    if not line.strip():
        return None
    if not line.startswith("/"):
        return Say(line)
    if line.startswith("//"):
        return Say(line[1:])
    name, _, args = line[1:].partition(" ")
    spec = find_command(name)
    if spec is None:
        close = difflib.get_close_matches(name.lower(), list(_BY_NAME), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(f'/{n}' for n in close)}?)" if close else ""
        return CommandError(f"unknown command /{name}{hint}; /help lists them all")
    found = spec.parse(args)
    if found is None:
        return _usage(spec)
    return CommandError(found) if isinstance(found, str) else found


def help_lines(topic: str | None) -> list[str]:
    """The text of ``/help``: one line per command, or one command taught: its usage, what
    it does in detail and an example."""
    if topic is None:
        return [f"{spec.usage:<24} {spec.summary}" for spec in COMMANDS]
    spec = find_command(topic)
    if spec is None:
        return [f"there is no /{topic}; /help lists every command"]
    aliases = f" (also /{', /'.join(spec.aliases)})" if spec.aliases else ""
    return [f"{spec.usage} — {spec.summary}{aliases}", *spec.details]
