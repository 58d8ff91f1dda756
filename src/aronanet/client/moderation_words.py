"""Moderation in words and marks (pure): what a UI shows for §14.16-14.21.

* ``ROLE_MARKS``: the IRC prefixes users expect in a member list (``~`` owner, ``@``
  operator, ``+`` voiced);
* ``describe``: a ``MODERATION`` event as one sentence ("kei was banned by arona: spam");
* ``explain``: a refusal code (``NOT_OPERATOR``...) as what it means for the user;
* ``parse_duration`` / ``format_duration``: ``10m``, ``2h``, ``1d12h`` for ``/mute``;
* ``parse_mode_changes``: ``+i -m +t`` (or ``+im-t``) for ``/mode``.

The web client keeps the same words in mobile/src/protocol/moderation.ts.
"""

from __future__ import annotations

import re
import time
from typing import Final

from aronanet.proto.moderation import MAX_MUTE_SECONDS, ModerationEvent, Modes

#: §14.16 roles as IRC marks; a plain member has none.
ROLE_MARKS: Final[dict[str, str]] = {"owner": "~", "operator": "@", "voiced": "+"}
#: Strongest first: the order a member list groups people in.
ROLE_ORDER: Final[dict[str, int]] = {"owner": 0, "operator": 1, "voiced": 2, "member": 3}
#: ``/mode`` letters, as IRC has them (``+i``, ``+m``, ``+t``), and the mode each sets.
MODE_LETTERS: Final[dict[str, str]] = {"i": "invite_only", "m": "moderated", "t": "topic_locked"}
MODE_WORDS: Final[dict[str, str]] = {
    "invite_only": "invite-only",
    "moderated": "moderated (only voiced members post)",
    "topic_locked": "topic locked (only operators change it)",
}
_ROLE_NOUNS: Final[dict[str, str]] = {
    "owner": "the owner",
    "operator": "an operator",
    "voiced": "voiced",
    "member": "a plain member",
}
_UNITS: Final[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION: Final = re.compile(r"(\d+)([smhdw])")

#: What each refusal of §14.16-14.21 means for the person who met it.
EXPLANATIONS: Final[dict[str, str]] = {
    "NOT_OPERATOR": "only the channel's operators (and its owner) can do that",
    "NOT_OWNER": "that needs the channel's owner, and nobody changes the owner's role",
    "NOT_ADMIN": "only the node's admins can do that",
    "NOT_VOICED": "this channel is moderated: only voiced members and operators can post",
    "BANNED": "you are banned from that channel",
    "MUTED": "you are muted in that channel for now",
    "INVITE_ONLY": "that channel is invite-only: a member has to /invite you first",
    "BLOCKED": "they have blocked you, so your messages don't reach them",
    "ACCOUNT_DISABLED": "this account has been disabled by the node's admins",
    "REGISTRATION_CLOSED": "this node only takes new accounts with a valid invitation",
    "NOT_IN_CHANNEL": "that needs someone who is in the channel",
}


def role_mark(role: str | None) -> str:
    """``~``, ``@``, ``+`` or "" (a member, or a role this client does not know)."""
    return ROLE_MARKS.get(role or "", "")


def member_sort_key(name: str, role: str | None) -> tuple[int, str]:
    """Owner, operators, voiced, then everyone else; by name within each."""
    return ROLE_ORDER.get(role or "member", 3), name.casefold()


def explain(code: str) -> str | None:
    """The meaning of a moderation refusal, or None for codes this module does not own."""
    return EXPLANATIONS.get(code)


def describe(event: ModerationEvent, *, me: str | None = None) -> str:
    """One sentence for a ``MODERATION`` event; "you" when it is about ``me``."""
    user = _who(event.user if isinstance(event.user, str) else "", me)
    by = event.by
    reason = f": {event.reason}" if isinstance(event.reason, str) and event.reason else ""
    action = event.action
    if action == "kick":
        return f"{user} {_was(user)} kicked from {event.channel} by {by}{reason}"
    if action == "ban":
        return f"{user} {_was(user)} banned from {event.channel} by {by}{reason}"
    if action == "unban":
        return f"{user} {_was(user)} unbanned from {event.channel} by {by}"
    if action == "mute":
        until = event.until if isinstance(event.until, int) else None
        when = f" until {format_clock(until)}" if until else ""
        return f"{user} {_was(user)} muted in {event.channel} by {by}{when}{reason}"
    if action == "unmute":
        return f"{user} may speak again in {event.channel} ({by} lifted the mute)"
    if action == "role":
        role = event.role if isinstance(event.role, str) else "member"
        return f"{by} made {user} {_ROLE_NOUNS.get(role, role)} of {event.channel}"
    if action == "mode":
        modes = event.modes if isinstance(event.modes, Modes) else Modes()
        return f"{by} set {event.channel} to {describe_modes(modes)}"
    if action == "invite":
        return f"{by} invited {user} to {event.channel}"
    return f"{by} did {action} in {event.channel}"


def describe_modes(modes: Modes) -> str:
    """``invite-only, moderated (...)``, or ``open`` when no mode is set."""
    words = [MODE_WORDS[name] for name in MODE_WORDS if getattr(modes, name)]
    return ", ".join(words) if words else "open (no modes)"


def mode_letters(modes: Modes) -> str:
    """``+imt`` style, "" when no mode is set."""
    letters = "".join(letter for letter, name in MODE_LETTERS.items() if getattr(modes, name))
    return f"+{letters}" if letters else ""


def _who(user: str, me: str | None) -> str:
    return "you" if me is not None and user.casefold() == me.casefold() else user


def _was(user: str) -> str:
    return "were" if user == "you" else "was"


def format_clock(timestamp: int) -> str:
    """A mute's end as the local time of day (with the date if it is not today)."""
    moment = time.localtime(timestamp)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def parse_duration(text: str) -> int | None:
    """``90`` (seconds), ``10m``, ``2h``, ``1d12h``, ``1w`` -> seconds; None if it is not a
    duration or longer than the 30 days a mute may last (§14.18). ``0`` is allowed (unmute)."""
    spec = text.strip().lower()
    if spec.isdigit():
        seconds = int(spec)
    else:
        parts = _DURATION.findall(spec)
        if not parts or "".join(n + u for n, u in parts) != spec:
            return None
        seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    return seconds if seconds <= MAX_MUTE_SECONDS else None


def format_duration(seconds: int) -> str:
    """The largest units first: ``2h``, ``1d 12h``, ``90s`` -> ``1m 30s``."""
    parts: list[str] = []
    rest = seconds
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) or "0s"


def parse_mode_changes(text: str) -> dict[str, bool] | str:
    """``+i -m +t`` or ``+im-t`` -> {mode: on}; an error message (str) for anything else."""
    changes: dict[str, bool] = {}
    sign: bool | None = None
    for char in text.replace(" ", ""):
        if char in "+-":
            sign = char == "+"
        elif char in MODE_LETTERS and sign is not None:
            changes[MODE_LETTERS[char]] = sign
        else:
            return (
                f"{char!r} is not a mode change: use +i/-i (invite-only), +m/-m (moderated), "
                "+t/-t (topic locked), like /mode +i -m"
            )
    return changes or "which modes? like /mode +i -m +t"
