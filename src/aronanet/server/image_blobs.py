"""Where stored images live: the ``BlobStore`` interface and its local-disk implementation.

An image is stored once under its SHA-256 (§4 content addressing) and read back from any
byte offset (``IMG_GET`` ``start``). Two implementations:

* ``LocalBlobStore`` (the default): files under ``DATA_DIR/images/ab/abcdef…`` (the full
  SHA-256 hex, fanned out by its first two digits). It also holds the spill area,
  ``DATA_DIR/images/tmp``, where every node assembles the uploads in progress: on the same
  file system as the images, so that committing one is a single atomic ``rename``.
* ``PostgresBlobStore`` (``image_postgres``, scale-out mode): chunk rows in the shared
  database, so that every node serves every image.

Both take a validated spill file (``put``) and stream reads (``open_reader``): neither ever
holds a whole image in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from aronanet.server.services import Services


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks of at most ``chunk_size`` bytes carry ``size`` bytes (at least one)."""
    return max(1, math.ceil(size / chunk_size))


class BlobReader(Protocol):
    """A stored image opened at some offset, read forward in blocks."""

    async def read(self, count: int) -> bytes:
        """Up to ``count`` bytes from the current position (fewer only at the end)."""
        ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    """Content-addressed image storage, shared by every node in scale-out mode."""

    async def stored_size(self, sha256: str) -> int | None:
        """The size of a stored image, or ``None`` if it is not (completely) stored."""
        ...

    async def put(self, spill: Path, sha256: str, *, synced: bool = False) -> None:
        """Store a validated spill file under ``sha256`` durably and remove the spill file;
        ``synced``: the caller already fsynced it. Storing the same bytes twice is a no-op."""
        ...

    async def open_reader(self, sha256: str, offset: int) -> BlobReader:
        """A stored image opened at byte ``offset``; the caller closes it."""
        ...

    async def delete(self, sha256: str) -> None:
        """Delete an image no message carries any more (§14.11); gone already is fine."""
        ...


def blob_store_for(services: Services) -> BlobStore:
    """The node's image store: PostgreSQL on a PostgreSQL store (scale-out: every node
    serves every image), else the files under ``DATA_DIR/images``."""
    if services.settings.uses_postgres:
        from aronanet.server.image_postgres import PostgresBlobStore
        from aronanet.server.store.postgres import PostgresStore

        assert isinstance(services.store, PostgresStore)
        return PostgresBlobStore(services.store.image_connections)
    return LocalBlobStore(Path(services.settings.data_dir) / "images")


class _FileReader:
    """``BlobReader`` over an open file: small sequential reads, done inline."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    async def read(self, count: int) -> bytes:
        return self._handle.read(count)

    def close(self) -> None:
        self._handle.close()


class LocalBlobStore:
    """Content-addressed image files under one directory (``DATA_DIR/images``), and the
    node's spill area for uploads in progress."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spill_dir = root / "tmp"

    def prepare(self) -> None:
        """Create the directories and remove spill files left by a previous run.

        The spill area is this node's own (in scale-out mode too: the shared state of an
        upload is in PostgreSQL), so after a restart no spill file here can be completed.
        """
        self.spill_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in self.spill_dir.iterdir():
            with contextlib.suppress(OSError):
                stale.unlink()

    def path_for(self, sha256: str) -> Path:
        """``images/ab/abcdef…``: two hex digits of fan-out keep directories small."""
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def remove(self, sha256: str) -> None:
        """Delete an image no message carries any more (§14.11); gone already is fine."""
        self.path_for(sha256).unlink(missing_ok=True)

    def size(self, sha256: str) -> int:
        return self.path_for(sha256).stat().st_size

    def new_spill_file(self) -> Path:
        """A fresh, empty temporary file for an upload; the caller must commit or delete it.

        It is closed at once: each chunk opens it to append, so that pending uploads hold
        no file descriptors (one user's idle uploads must not use up the node's).
        """
        self.spill_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.spill_dir)
        os.close(handle)
        return Path(name)

    def sync(self, spill: Path) -> None:
        """Flush a spill file's bytes to disk: the slow half of ``commit``, which the caller
        may run while the image is being validated (it commits nothing by itself)."""
        with open(spill, "rb") as handle:
            os.fsync(handle.fileno())

    def commit(self, spill: Path, sha256: str, *, synced: bool = False) -> Path:
        """Move a verified spill file to its content address, durably; dedupe on the way.

        The image must survive a SIGKILL right after the ``OK`` that names it, like the
        message that carries it, hence the fsync of the file (unless ``synced``: the caller
        did ``sync`` after its last write) and of its directory after the rename.
        """
        final = self.path_for(sha256)
        if final.is_file():
            spill.unlink(missing_ok=True)
            return final
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not synced:
            self.sync(spill)
        os.replace(spill, final)
        _fsync_directory(final.parent)
        return final

    def open_at_chunk(self, sha256: str, index: int, chunk_size: int) -> BinaryIO:
        """A stored image opened for reading from chunk ``index`` on; the caller closes it."""
        handle = open(self.path_for(sha256), "rb")  # noqa: SIM115 - returned to the caller
        handle.seek(index * chunk_size)
        return handle

    # ``BlobStore``
    async def stored_size(self, sha256: str) -> int | None:
        try:
            return self.size(sha256)
        except OSError:
            return None

    async def put(self, spill: Path, sha256: str, *, synced: bool = False) -> None:
        await asyncio.to_thread(self.commit, spill, sha256, synced=synced)

    async def delete(self, sha256: str) -> None:
        self.remove(sha256)

    async def open_reader(self, sha256: str, offset: int) -> BlobReader:
        handle = open(self.path_for(sha256), "rb")  # noqa: SIM115 - owned by the reader
        handle.seek(offset)
        return _FileReader(handle)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
