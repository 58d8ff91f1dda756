"""What the terminal client remembers between runs: the default node, user and theme, and
per node address the user this device signed in as (ArTP/1.1 ``sync``).

Stored as ``chat.json`` next to the device key and known nodes (``--config-dir`` or the
platformdirs default). Never the password: ``devices`` only says whom to try a device
sign-in for on the next start (§14.3), so that a user types the password once per device.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILE_NAME = "chat.json"
_TEXT_FIELDS = ("address", "user", "theme")


@dataclass(frozen=True)
class ChatSettings:
    address: str = ""
    user: str = ""
    theme: str = ""
    #: node address -> the user this device last signed in as there, on a ``sync`` node.
    devices: dict[str, str] = field(default_factory=dict)

    def device_user(self, address: str) -> str:
        """Whom this device can sign in as at ``address`` without a password ("": nobody)."""
        return self.devices.get(address, "")


def load_settings(config_dir: Path) -> ChatSettings:
    """The saved settings, or defaults when the file is missing or unreadable."""
    path = config_dir / FILE_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ChatSettings()
    except (OSError, ValueError) as error:
        log.warning("ignoring %s: %s", path, error)
        return ChatSettings()
    if not isinstance(raw, dict):
        return ChatSettings()
    fields = {key: str(raw[key]) for key in _TEXT_FIELDS if key in raw}
    return ChatSettings(**fields, devices=_devices(raw.get("devices")))


def _devices(raw: Any) -> dict[str, str]:
    """The ``devices`` map, keeping only text to text (a hand-edited file may hold more)."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str) and v}


def save_settings(config_dir: Path, settings: ChatSettings) -> None:
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / FILE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
