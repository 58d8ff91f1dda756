"""Trust on first use: the known-nodes file, like OpenSSH's ``known_hosts``.

ArTP/1.0 §2: "Clients pin it on first use per address and MUST refuse, loudly, a changed key
unless the user accepts it." The file holds one ``ADDRESS FINGERPRINT`` pair per line; blank
lines and ``#`` comments are allowed. It is re-read on every call, so several clients (a
terminal UI and a script) sharing it see each other's pins, and it is rewritten atomically
with mode 0600 so a crash never leaves half a file and no other user can plant a pin.

Lines that cannot be parsed are skipped with a warning but kept on rewrite: this module never
silently destroys what a user wrote by hand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aronanet.errors import KeyChangedError

log = logging.getLogger(__name__)

FINGERPRINT_PREFIX = "SHA256:"
FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True)
class _Line:
    """One line of the file: a pin (address and fingerprint set) or text kept verbatim."""

    text: str
    address: str | None = None
    fingerprint: str | None = None


class KnownNodes:
    """The pinned node keys, one fingerprint per address, stored in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def entries(self) -> dict[str, str]:
        """Every pin, address -> fingerprint, in file order (for ``aronanet trust``)."""
        return {
            line.address: line.fingerprint
            for line in self._read()
            if line.address is not None and line.fingerprint is not None
        }

    def lookup(self, address: str) -> str | None:
        """The fingerprint pinned for ``address``, or None if this node was never seen."""
        return self.entries().get(address)

    def check(self, address: str, fingerprint: str) -> Literal["known", "new"]:
        """Compare a presented key with the pin; raise ``KeyChangedError`` if they differ.

        "new" does not pin: the caller decides (asks the user, or accepts) and then calls
        ``pin``, so a refused node leaves no trace.
        """
        pinned = self.lookup(address)
        if pinned is None:
            return "new"
        if pinned != fingerprint:
            raise KeyChangedError(address, pinned, fingerprint)
        return "known"

    def pin(self, address: str, fingerprint: str) -> None:
        """Record ``fingerprint`` for ``address``, replacing any earlier pin for it."""
        _validate(address, fingerprint)
        lines = [line for line in self._read() if line.address != address]
        lines.append(_Line(f"{address} {fingerprint}", address, fingerprint))
        self._write(lines)

    def forget(self, address: str) -> None:
        """Remove the pin of ``address`` (the user accepts a changed key); no-op if absent."""
        lines = self._read()
        kept = [line for line in lines if line.address != address]
        if len(kept) != len(lines):
            self._write(kept)

    def _read(self) -> list[_Line]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return [self._parse(number, raw) for number, raw in enumerate(text.splitlines(), 1)]

    def _parse(self, number: int, raw: str) -> _Line:
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            return _Line(raw)
        fields = stripped.split()
        if len(fields) != 2 or not fields[1].startswith(FINGERPRINT_PREFIX):
            log.warning("%s line %d is not 'ADDRESS SHA256:...'; ignoring it", self.path, number)
            return _Line(raw)
        return _Line(raw, fields[0], fields[1])

    def _write(self, lines: list[_Line]) -> None:
        """Replace the file atomically: a temporary file (0600) in the same directory, then
        ``os.replace``, so readers see the old file or the new one, never a torn write."""
        self.path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        content = "".join(f"{line.text}\n" for line in lines)
        fd, temp_name = tempfile.mkstemp(prefix=".known_nodes.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise


def _validate(address: str, fingerprint: str) -> None:
    """Refuse what could not be read back as one pin: a field with spaces, or no prefix."""
    if not address or any(char.isspace() for char in address) or address.startswith("#"):
        raise ValueError(f"cannot pin address {address!r}: empty, a comment, or has spaces")
    if not fingerprint.startswith(FINGERPRINT_PREFIX) or any(c.isspace() for c in fingerprint):
        raise ValueError(f"fingerprint {fingerprint!r} is not of the form SHA256:<base64>")
