"""``/devices`` and ``/password`` in the terminal (ArTP/1.1 §14.3): what they say and do.

Device ids are key fingerprints (``SHA256:`` and 43 characters), too long to type, so the
list numbers the devices and a command names one by its number, its id, or a unique start
of its id (with or without ``SHA256:``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aronanet.client import sync
from aronanet.client.account_commands import DevicesCommand
from aronanet.client.connection import ArtpClient
from aronanet.errors import ClientError
from aronanet.proto.messages import DeviceInfo
from aronanet.tui import voice

FINGERPRINT_PREFIX = "SHA256:"


def device_lines(devices: Sequence[DeviceInfo]) -> list[str]:
    """One line per device, numbered for ``/devices rename N`` and ``revoke N``."""
    lines = [voice.devices_listed(len(devices))]
    for number, device in enumerate(devices, 1):
        current = "  ← this one" if device.current else ""
        lines.append(
            f"  {number}. {device.name} — {device.id} — last seen {_when(device.last_seen)}"
            f" from {device.address or '?'}, first {_when(device.first_seen)}{current}"
        )
    return lines


def resolve_device(devices: Sequence[DeviceInfo], reference: str) -> DeviceInfo:
    """The device ``reference`` names; ``ClientError("NOT_FOUND")`` when none or several."""
    if reference.isdigit() and 1 <= int(reference) <= len(devices):
        return devices[int(reference) - 1]
    bare = reference.removeprefix(FINGERPRINT_PREFIX)
    matches = [
        d
        for d in devices
        if d.id == reference or d.id.removeprefix(FINGERPRINT_PREFIX).startswith(bare)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ClientError("NOT_FOUND", f"no device {reference!r}; /devices lists them")
    raise ClientError("NOT_FOUND", f"{reference!r} names {len(matches)} devices; give more of it")


async def run_devices(client: ArtpClient, command: DevicesCommand) -> list[str]:
    """Carry out ``/devices ...`` and return Arona's lines about it."""
    devices = await sync.devices(client)
    if command.action == "list":
        return device_lines(devices)
    device = resolve_device(devices, command.device)
    if command.action == "rename":
        reply = await sync.rename_device(client, device.id, command.name)
        return [voice.device_renamed(device.id, reply.name or command.name)]
    await sync.revoke_device(client, device.id)
    return [voice.device_revoked(device.id)]


def _when(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
