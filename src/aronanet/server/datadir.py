"""The node's data directory: private to its owner, and used by one node at a time.

The directory holds the node's key, every account's password hash, every message in
plaintext and every image (README "Security"), so other local users must not read any of
it (issue 9, item 11): the node creates it 0700, tightens one that group or others can open
(a directory made by hand, or by an older version), and makes every file in it 0600. Files
it creates later are private because ``aronanet serve`` sets its umask to 0o077 first.

Two nodes on one directory would interleave two writers on one SQLite file and race for one
identity, so ``aronanet serve`` holds an exclusive ``flock`` on ``node.lock`` for its whole
life; a second one is refused with the PID of the first. The kernel drops the lock when the
process ends, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from aronanet.errors import AronaError

#: umask of the node process: group and others get no bit of anything it creates.
PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
LOCK_NAME = "node.lock"
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO


class DataDirError(AronaError):
    """The data directory cannot be used safely; the message says what to do."""


def make_private(data_dir: Path, chmod: Callable[[Path, int], None] = os.chmod) -> None:
    """Create ``data_dir`` (0700), or take away group/other access from it and everything
    in it. Raises ``DataDirError`` with the ``chmod`` command to run when that fails.

    ``chmod`` is injectable because the one way it fails (a directory owned by someone else)
    cannot be arranged by a test that runs as root.
    """
    if data_dir.exists() and not data_dir.is_dir():
        raise DataDirError(f"data directory {data_dir} is a file, not a directory")
    data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    try:
        for path, mode in _open_entries(data_dir):
            chmod(path, stat.S_IMODE(mode) & ~_OPEN_TO_OTHERS)
    except OSError as exc:
        raise DataDirError(
            f"data directory {data_dir} is open to other users and cannot be made private "
            f"({exc.strerror}); run: chmod -R go-rwx {data_dir}"
        ) from None


def _open_entries(data_dir: Path) -> Iterator[tuple[Path, int]]:
    """``data_dir`` and everything under it that group or others may access (symbolic
    links are skipped: their own mode means nothing, and their target may be elsewhere)."""
    for directory, subdirectories, files in os.walk(data_dir):
        here = Path(directory)
        for path in (here, *(here / name for name in subdirectories + files)):
            mode = path.lstat().st_mode
            if path != here and stat.S_ISDIR(mode):
                continue  # reported as ``here`` when the walk enters it
            if not stat.S_ISLNK(mode) and mode & _OPEN_TO_OTHERS:
                yield path, mode


class NodeLock:
    """An exclusive lock on a data directory, held from ``acquire()`` to ``release()``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock and write this process's PID into the lock file.

        Raises ``DataDirError`` naming the holder's PID when another process has it.
        """
        import fcntl  # POSIX only; the node's supported platforms all have it

        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(descriptor)
            raise DataDirError(
                f"another node (PID {holder}) is already using {self.path.parent}; stop it "
                "first, or give this one its own --data-dir"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
        self._descriptor = descriptor

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race with a new holder)."""
        if self._descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> NodeLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
