"""Files that hold secrets (keys, tokens): owner-only on POSIX, durable once written.

POSIX permission bits are how Unix keeps one user's secrets from another, so a key file
that group or others may read is refused rather than used. Windows has no such bits
(``st_mode`` always looks world-readable there) and protects the per-user profile that
platformdirs places these files in with ACLs, so the check applies to POSIX only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

POSIX = os.name == "posix"


def loose_permissions(descriptor: int) -> str | None:
    """The ``ls``-style mode of an open file that group or others can access, else None."""
    if not POSIX:
        return None
    mode = os.fstat(descriptor).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return stat.filemode(mode)
    return None


def fsync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable (POSIX; Windows cannot open a
    directory for this and commits the metadata itself)."""
    if not POSIX:
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
