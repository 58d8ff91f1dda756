"""Online backup and restore of a node's data directory (SQLite store).

A backup is one tar file holding everything a restore needs: a consistent snapshot of the
database, the node key (its identity: clients pin it), the image blobs, any other state
file (a discovery gist id) and, when given, the configuration file.

Consistency while the node runs: the snapshot is taken with SQLite's backup API from a
connection that first opens a read transaction. In WAL mode that transaction pins one
snapshot of the database without blocking the node's writer, so the copy proceeds in small
steps (progress shown) and is never restarted by the node's commits; it holds exactly the
transactions committed before it began, so every message acknowledged before the backup
started (§3: an ``OK`` to ``MSG`` comes after its commit). Files are copied after the
snapshot: an image is on disk before the message naming it is committed, so every image
the snapshot refers to is in the archive.

Everything in the archive is written 0600 (directories 0700), and a restore recreates those
modes: the node key and the database are secrets (README "Security").
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aronanet import __version__, identity
from aronanet.errors import AronaError
from aronanet.filemodes import fsync_directory
from aronanet.server.datadir import LOCK_NAME, PRIVATE_DIR, PRIVATE_FILE, NodeLock

FORMAT = "aronanet-backup"
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
CONFIG_NAME = "config.toml"
DATA = "data"
#: Pages copied per step of the backup API (4 KiB pages: 4 MiB a step).
STEP_PAGES = 1024
#: Where partial image uploads live (``image_blobs.LocalBlobStore``): never complete after
#: a restart.
_SPILL_DIR = ("images", "tmp")

Progress = Callable[[str], None]


class BackupError(AronaError):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    database_pages: int
    fingerprint: str | None


def database_name() -> str:
    from aronanet.server.settings import NodeSettings

    return NodeSettings(data_dir=Path()).database_path.name


def key_name() -> str:
    from aronanet.server.settings import NodeSettings

    return NodeSettings(data_dir=Path()).key_path.name


# ---------------------------------------------------------------------------- backup


def create_backup(
    data_dir: Path,
    target: Path,
    *,
    config: Path | None = None,
    include_database: bool = True,
    overwrite: bool = False,
    step_pages: int = STEP_PAGES,
    progress: Progress = lambda _: None,
) -> BackupSummary:
    """Write the backup of ``data_dir`` to ``target`` (0600, atomically: a crash leaves no
    half archive under that name). ``include_database`` False is for a node whose store is
    PostgreSQL: its database is backed up with ``pg_dump``."""
    if not data_dir.is_dir():
        raise BackupError(f"{data_dir} is not a directory")
    database = data_dir / database_name()
    if include_database and not database.is_file():
        raise BackupError(
            f"no database {database.name} in {data_dir}: is it a node's data directory "
            "(with --store sqlite)?"
        )
    if target.resolve().is_relative_to(data_dir.resolve()):
        raise BackupError(f"write the backup outside the data directory {data_dir}")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; choose another name or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".aronanet-backup-", dir=target.parent) as scratch:
        os.chmod(scratch, PRIVATE_DIR)
        pages = 0
        snapshot = Path(scratch) / database.name
        if include_database:
            pages = snapshot_database(database, snapshot, step_pages, progress)
        partial = Path(scratch) / "archive.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as handle:
            files = _write_archive(
                handle, data_dir, snapshot if include_database else None, config, pages, progress
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
        fsync_directory(target.parent)
    return BackupSummary(target, files, pages, _fingerprint(data_dir / key_name()))


def snapshot_database(source: Path, target: Path, step_pages: int, progress: Progress) -> int:
    """Copy ``source`` (live, WAL) to ``target`` in steps of ``step_pages``; check it.

    Returns the number of pages copied.
    """
    src = sqlite3.connect(source, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=5000")
        # The read transaction pins the snapshot: steps never see (nor restart on) later commits.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(target, isolation_level=None)
        shown = [-1]

        def report(status: int, remaining: int, total: int) -> None:
            done = (total - remaining) * 100 // max(total, 1)
            if done // 10 != shown[0] // 10 or remaining == 0:
                shown[0] = done
                progress(f"database: {done}% ({total - remaining}/{total} pages)")

        try:
            src.backup(dst, pages=step_pages, progress=report)
            total = int(dst.execute("PRAGMA page_count").fetchone()[0])
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from exc
    finally:
        src.close()
    if check != "ok":
        raise BackupError(f"the database snapshot fails its integrity check: {check}")
    return total


def _write_archive(
    handle: io.BufferedWriter,
    data_dir: Path,
    snapshot: Path | None,
    config: Path | None,
    pages: int,
    progress: Progress,
) -> int:
    files = 0
    with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "aronanet": __version__,
            "created": int(time.time()),
            "database": snapshot is not None,
            "database_pages": pages,
            "config": config is not None,
        }
        _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
        if snapshot is not None:
            _add_file(archive, snapshot, f"{DATA}/{database_name()}")
            files += 1
        for path, relative in _state_files(data_dir):
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile: nothing to keep
                _add_file(archive, path, f"{DATA}/{relative}")
                files += 1
        if config is not None:
            _add_file(archive, config, CONFIG_NAME)
            files += 1
    progress(f"files: {files} archived")
    return files


def _state_files(data_dir: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file of the data directory a restore needs, with its relative path:
    not the live database (the snapshot replaces it), its WAL, the lock, partial uploads."""
    live = {database_name() + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    for directory, subdirectories, names in os.walk(data_dir):
        here = Path(directory)
        relative_dir = here.relative_to(data_dir)
        subdirectories[:] = sorted(
            name for name in subdirectories if (*relative_dir.parts, name) != _SPILL_DIR
        )
        for name in sorted(names):
            if relative_dir == Path() and (name in live or name == LOCK_NAME):
                continue
            path = here / name
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISREG(path.lstat().st_mode):
                    yield path, (relative_dir / name).as_posix()


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> None:
    with path.open("rb") as source:
        info = archive.gettarinfo(arcname=name, fileobj=source)
        _private(info)
        archive.addfile(info, source)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    _private(info)
    archive.addfile(info, io.BytesIO(data))


def _private(info: tarfile.TarInfo) -> None:
    info.mode = PRIVATE_FILE
    info.uid = info.gid = 0
    info.uname = info.gname = ""


def _fingerprint(key_path: Path) -> str | None:
    try:
        return identity.fingerprint(identity.public_key_bytes(identity.load_key(key_path)))
    except (OSError, identity.KeyFileError):
        return None


# ---------------------------------------------------------------------------- restore


@dataclass(frozen=True)
class RestoreSummary:
    data_dir: Path
    files: int
    fingerprint: str | None
    config: Path | None
    replaced: Path | None


def restore_backup(
    source: Path, data_dir: Path, *, force: bool = False, progress: Progress = lambda _: None
) -> RestoreSummary:
    """Unpack a backup into ``data_dir``: empty (or ``force``), and never under a running node.

    The node lock is held throughout, so no node starts on a half-restored directory. With
    ``force``, what ``data_dir`` held is moved aside to ``DATA_DIR.replaced-TIMESTAMP``, never
    deleted: a restore over the wrong directory can be undone.
    """
    try:
        archive = tarfile.open(source, mode="r:*")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read backup {source}: {exc}") from exc
    with archive:
        members = _checked_members(archive, source)
        existing = data_dir.exists() and any(
            entry.name != LOCK_NAME for entry in data_dir.iterdir()
        )
        data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        lock = NodeLock(data_dir)
        lock.acquire()  # a running node: DataDirError naming its PID
        try:
            if existing and not force:
                raise BackupError(
                    f"{data_dir} is not empty; restore into an empty directory, or pass "
                    "--force to move its contents aside first"
                )
            staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
            try:
                files = _extract(archive, members, staging)
                progress(f"files: {files} extracted")
                _check_database(staging / DATA / database_name())
                replaced = _move_aside(data_dir, staging) if existing else None
                config = _install(staging, data_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            os.chmod(data_dir, PRIVATE_DIR)
            fsync_directory(data_dir)
        finally:
            lock.release()
    return RestoreSummary(data_dir, files, _fingerprint(data_dir / key_name()), config, replaced)


def _checked_members(archive: tarfile.TarFile, source: Path) -> list[tarfile.TarInfo]:
    """The archive's entries, refused unless it is a backup of this format whose entries are
    plain files and directories inside it (no links, no ``..``, no absolute paths)."""
    members = archive.getmembers()
    manifest_member = next((m for m in members if m.name == MANIFEST), None)
    if manifest_member is None:
        raise BackupError(f"{source} is not an AronaNET backup (no {MANIFEST})")
    extracted = archive.extractfile(manifest_member)
    assert extracted is not None
    try:
        manifest = json.loads(extracted.read(65536))
    except ValueError:
        raise BackupError(f"{source}: {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not an AronaNET backup")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{source} is a backup of format version {manifest.get('version')}; this "
            f"aronanet reads version {FORMAT_VERSION}"
        )
    for member in members:
        name = PurePosixPath(member.name)
        if (
            name.is_absolute()
            or ".." in name.parts
            or not (member.isfile() or member.isdir())
            or not (name.parts[0] == DATA or member.name in (MANIFEST, CONFIG_NAME))
        ):
            raise BackupError(f"{source}: unexpected entry {member.name!r}; nothing restored")
    return members


def _extract(archive: tarfile.TarFile, members: list[tarfile.TarInfo], staging: Path) -> int:
    files = 0
    for member in members:
        if not member.isfile():
            continue
        target = staging.joinpath(*PurePosixPath(member.name).parts)
        _make_dirs(target.parent, staging)
        source = archive.extractfile(member)
        assert source is not None
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as handle:
            shutil.copyfileobj(source, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(target, PRIVATE_FILE)  # whatever the umask
        files += 1
    return files


def _make_dirs(directory: Path, root: Path) -> None:
    if directory == root or directory.is_dir():
        return
    _make_dirs(directory.parent, root)
    directory.mkdir(mode=PRIVATE_DIR)
    os.chmod(directory, PRIVATE_DIR)


def _check_database(path: Path) -> None:
    if not path.is_file():
        return  # a PostgreSQL node's backup: its database is restored with pg_restore
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        check = str(exc)
    finally:
        conn.close()
    if check != "ok":
        raise BackupError(f"the database in the backup fails its integrity check: {check}")


def _move_aside(data_dir: Path, staging: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = data_dir.with_name(f"{data_dir.name}.replaced-{stamp}")
    aside.mkdir(mode=PRIVATE_DIR)
    for entry in data_dir.iterdir():
        if entry.name != LOCK_NAME and entry != staging:
            os.replace(entry, aside / entry.name)
    return aside


def _install(staging: Path, data_dir: Path) -> Path | None:
    """Move the extracted data files into ``data_dir``; the configuration next to them."""
    extracted = staging / DATA
    if extracted.is_dir():
        for entry in extracted.iterdir():
            os.replace(entry, data_dir / entry.name)
    config = staging / CONFIG_NAME
    if not config.is_file():
        return None
    installed = data_dir / CONFIG_NAME
    os.replace(config, installed)
    return installed
