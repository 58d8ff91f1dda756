"""The moderation slash commands (§14.16-14.19), parsed into values (pure, like ``commands``).

``/kick USER [reason]``, ``/ban USER [reason]``, ``/unban USER``, ``/mute USER DURATION
[reason]``, ``/unmute USER``, ``/op`` ``/deop`` ``/voice`` ``/devoice USER``, ``/invite USER``,
``/mode [+i -m +t]``, ``/block [USER]`` (alone: who is blocked), ``/unblock USER``. Their
rows of the command table (``commands``: usage, help) are here too; the parsers return a
value, an error text, or None for the usage line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from aronanet.client.command_spec import CommandSpec
from aronanet.client.moderation_words import parse_duration, parse_mode_changes
from aronanet.proto.fields import USER_PATTERN
from aronanet.proto.moderation import MAX_MUTE_SECONDS
from aronanet.proto.wording import rule

#: ``/op`` and friends: the role each gives (``member`` takes one away).
ROLE_COMMANDS: dict[str, str] = {
    "op": "operator",
    "deop": "member",
    "voice": "voiced",
    "devoice": "member",
}
#: §14.18: a reason is at most 390 characters (what an IRC kick message holds).
MAX_REASON = 390


@dataclass(frozen=True, slots=True)
class RemoveCommand:
    """``/kick`` or ``/ban`` (with an optional reason), or ``/unban``."""

    action: Literal["kick", "ban", "unban"]
    user: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MuteCommand:
    """``/mute USER DURATION [reason]``; ``/unmute USER`` is ``seconds`` 0."""

    user: str
    seconds: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RoleCommand:
    user: str
    role: str


@dataclass(frozen=True, slots=True)
class InviteCommand:
    user: str


@dataclass(frozen=True, slots=True)
class ModeCommand:
    """``/mode`` alone shows the modes (and, for operators, the bans)."""

    changes: dict[str, bool] | None


@dataclass(frozen=True, slots=True)
class BlockCommand:
    user: str | None  # None: list the blocked users
    blocked: bool = True


ModerationCommand: TypeAlias = (
    RemoveCommand | MuteCommand | RoleCommand | InviteCommand | ModeCommand | BlockCommand
)
Parsed: TypeAlias = ModerationCommand | str | None  # a value, an error text, or None: usage


def _user_and_rest(args: str) -> tuple[str, str] | str | None:
    user, _, rest = args.strip().partition(" ")
    if not user:
        return None
    if re.fullmatch(USER_PATTERN, user) is None:
        return f"{user!r} is not a user name: {rule('user')}"
    rest = rest.strip()
    if len(rest) > MAX_REASON or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in rest):
        return f"a reason is at most {MAX_REASON} characters, on one line"
    return user, rest


def parse_remove(action: Literal["kick", "ban", "unban"], args: str) -> Parsed:
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    user, reason = found
    if action == "unban" and reason:
        return None
    return RemoveCommand(action, user, reason)


def parse_mute(args: str) -> Parsed:
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    user, rest = found
    spec, _, reason = rest.partition(" ")
    if not spec:
        return None
    seconds = parse_duration(spec)
    if seconds is None or seconds == 0:
        days = MAX_MUTE_SECONDS // 86400
        return f"{spec!r} is not a duration: like 30s, 10m, 2h or 1d (at most {days} days)"
    return MuteCommand(user, seconds, reason.strip())


def parse_unmute(args: str) -> Parsed:
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    return MuteCommand(found[0], 0) if not found[1] else None


def parse_role(name: str, args: str) -> Parsed:
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    return RoleCommand(found[0], ROLE_COMMANDS[name]) if not found[1] else None


def parse_invite(args: str) -> Parsed:
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    return InviteCommand(found[0]) if not found[1] else None


def parse_mode(args: str) -> Parsed:
    if not args.strip():
        return ModeCommand(None)
    changes = parse_mode_changes(args)
    return ModeCommand(changes) if isinstance(changes, dict) else changes


def parse_block(blocked: bool, args: str) -> Parsed:
    if not args.strip() and blocked:
        return BlockCommand(None)
    found = _user_and_rest(args)
    if not isinstance(found, tuple):
        return found
    return BlockCommand(found[0], blocked) if not found[1] else None


def _role_spec(name: str, summary: str) -> CommandSpec:
    return CommandSpec(name, f"/{name} USER", summary, lambda a: parse_role(name, a))


#: §14.16-14.19: what channel operators (and everyone, for /invite and /block) may do.
MODERATION_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "kick",
        "/kick USER [reason]",
        "remove someone from this channel (operators)",
        lambda a: parse_remove("kick", a),
        details=("They may come back with /join, unless the channel is invite-only.",),
    ),
    CommandSpec(
        "ban",
        "/ban USER [reason]",
        "remove someone and keep them out (operators)",
        lambda a: parse_remove("ban", a),
        details=("/unban USER lets them back in; /mode lists the bans.",),
    ),
    CommandSpec(
        "unban",
        "/unban USER",
        "let a banned user join again (operators)",
        lambda a: parse_remove("unban", a),
    ),
    CommandSpec(
        "mute",
        "/mute USER DURATION [reason]",
        "silence someone here for a while (operators)",
        parse_mute,
        details=("DURATION like 30s, 10m, 2h, 1d (at most 30 days); /unmute USER lifts it.",),
    ),
    CommandSpec("unmute", "/unmute USER", "lift a mute (operators)", parse_unmute),
    _role_spec("op", "make someone an operator (~ owner and @ operators)"),
    _role_spec("deop", "take someone's operator role (~ owner and @ operators)"),
    _role_spec("voice", "let someone post in a moderated channel (operators)"),
    _role_spec("devoice", "take someone's voice (operators)"),
    CommandSpec(
        "invite",
        "/invite USER",
        "let someone join this invite-only channel once",
        parse_invite,
    ),
    CommandSpec(
        "mode",
        "/mode [+i -m +t]",
        "show or change this channel's modes (operators change them)",
        parse_mode,
        details=(
            "+i invite-only (members /invite people), +m moderated (only + voiced and "
            "operators post), +t topic locked (only operators set it); - turns one off.",
            "Example: /mode +i -m",
        ),
    ),
    CommandSpec(
        "block",
        "/block [USER]",
        "hide someone's messages and refuse their DMs (alone: list)",
        lambda a: parse_block(True, a),
    ),
    CommandSpec(
        "unblock",
        "/unblock USER",
        "stop blocking someone",
        lambda a: parse_block(False, a),
    ),
)
