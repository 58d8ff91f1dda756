"""The account and device slash commands (ArTP/1.1 §14.3), parsed into values.

``/devices`` (list, rename, revoke), ``/password`` and ``/logout`` change what the node
knows of this user and their devices, not a conversation; their values, parsers and rows
of the command table (``commands``) are kept together here, pure like the rest of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from aronanet.client.command_spec import CommandError, CommandSpec, no_args, split_args


@dataclass(frozen=True, slots=True)
class DevicesCommand:
    """``/devices``: list; ``rename DEVICE NAME``; ``revoke DEVICE`` (ArTP/1.1 §14.3).

    ``device`` is a number from the list, or the id (``SHA256:...``) or a unique start of it.
    """

    action: Literal["list", "rename", "revoke"]
    device: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class PasswordCommand:
    """``/password``: change the password in a form (never typed on the command line)."""


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    """``/logout``: sign this device out (§14.3 revoke) so the next start asks again."""


AccountCommand: TypeAlias = DevicesCommand | PasswordCommand | LogoutCommand


def _parse_devices(args: str) -> DevicesCommand | CommandError | None:
    action, rest = split_args(args)
    action = action.lower()
    if not action or action == "list":
        return DevicesCommand("list")
    device, name = split_args(rest)
    if action == "rename" and device and name:
        if len(name) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in name):
            return CommandError("a device name is 1-64 characters, without control characters")
        return DevicesCommand("rename", device, name)
    if action == "revoke" and device and not name:
        return DevicesCommand("revoke", device)
    return None


ACCOUNT_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "devices",
        "/devices [rename N NAME | revoke N]",
        "list your signed-in devices, rename or sign out one (N: its number or id)",
        _parse_devices,
    ),
    CommandSpec(
        "password",
        "/password",
        "change your password (signs out your other devices)",
        no_args(PasswordCommand()),
    ),
    CommandSpec(
        "logout",
        "/logout",
        "sign this device out and leave: the next start asks for the password",
        no_args(LogoutCommand()),
    ),
)
