"""Where a client keeps its state: the device key and the known-nodes file.

Both live in one configuration directory (``platformdirs.user_config_dir("aronanet")`` by
default) so that a single ``--config-dir`` moves everything, which is what tests and people
running several identities need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "aronanet"


@dataclass(frozen=True)
class ClientPaths:
    """The files of one client identity."""

    config_dir: Path

    @classmethod
    def at(cls, config_dir: Path | str | None = None) -> ClientPaths:
        """Paths under ``config_dir``, or under the per-user default when it is None."""
        if config_dir is None:
            return cls(Path(platformdirs.user_config_dir(APP_NAME)))
        return cls(Path(config_dir).expanduser())

    @property
    def device_key(self) -> Path:
        """The device's X25519 private key (mode 0600), its identity towards every node."""
        return self.config_dir / "device.key"

    @property
    def known_nodes(self) -> Path:
        """The pinned node fingerprints (trust on first use)."""
        return self.config_dir / "known_nodes"
