"""What the terminal client remembers between runs: the default node, user and theme.

Stored as ``chat.json`` next to the device key and known nodes (``--config-dir`` or the
platformdirs default). Never the password.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)
FILE_NAME = "chat.json"


@dataclass(frozen=True)
class ChatSettings:
    address: str = ""
    user: str = ""
    theme: str = ""


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
    fields = {key: str(raw[key]) for key in ("address", "user", "theme") if key in raw}
    return ChatSettings(**fields)


def save_settings(config_dir: Path, settings: ChatSettings) -> None:
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / FILE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
