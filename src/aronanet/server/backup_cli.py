"""``aronanet backup`` and ``aronanet restore``: the operator's side of ``server.backup``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aronanet.server.settings import redact_url

PG_DUMP_GUIDANCE = """\
aronanet backup: this node's store is PostgreSQL ({url}); its accounts, channels and
messages are in that database, not in the data directory. Back the database up with
PostgreSQL's own tools, e.g.:
    pg_dump --format=custom --file=aronanet.pgdump '{url}'
and restore it into an empty database with:
    pg_restore --dbname='{url}' --no-owner aronanet.pgdump
(pg_dump takes a consistent snapshot while the nodes run.) The archive written here holds
the rest of the data directory: the node key, images and other state files.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backup`` and ``restore`` to the ``aronanet`` command."""
    backup = subparsers.add_parser(
        "backup",
        help="back up a node's data directory, even while it runs",
        description="Write a consistent backup of a node's data directory to FILE (a tar, "
        "mode 0600): a snapshot of the SQLite database taken while the node runs, the node "
        "key, images and other state files, and the --config file if given. With a "
        "PostgreSQL store, the database is left to pg_dump (this prints how).",
    )
    backup.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the node's TOML settings: archived with the data, and read for its store",
    )
    backup.add_argument(
        "--store", metavar="URL", help="the node's store, if not the --config's (default sqlite)"
    )
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    backup.set_defaults(handler=run_backup)
    restore = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty data directory",
        description="Unpack a backup made by `aronanet backup` into DATA_DIR (created 0700, "
        "files 0600). DATA_DIR must be empty unless --force, which moves what it holds to "
        "DATA_DIR.replaced-TIMESTAMP first. Never done while a node runs on DATA_DIR.",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore into a non-empty DATA_DIR, moving its contents aside (never deleted)",
    )
    restore.set_defaults(handler=run_restore)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _store_of(args: argparse.Namespace) -> str:
    from aronanet.server.settings import SQLITE_STORE, read_toml

    if args.store is not None:
        return str(args.store)
    if args.config is not None:
        return str(read_toml(args.config).get("store", SQLITE_STORE))
    return SQLITE_STORE


def run_backup(args: argparse.Namespace) -> int:
    from aronanet.server.backup import BackupError, create_backup
    from aronanet.server.datadir import PRIVATE_UMASK
    from aronanet.server.settings import SettingsError

    os.umask(PRIVATE_UMASK)
    try:
        store = _store_of(args)
    except SettingsError as exc:
        _say(f"aronanet backup: {exc}")
        return 2
    postgres = store.startswith(("postgresql://", "postgres://"))
    if postgres:
        _say(PG_DUMP_GUIDANCE.format(url=redact_url(store)))
    try:
        summary = create_backup(
            args.data_dir,
            args.file,
            config=args.config,
            include_database=not postgres,
            overwrite=args.force,
            progress=_say,
        )
    except (BackupError, OSError) as exc:
        _say(f"aronanet backup: {exc}")
        return 1
    print(
        f"backup of {args.data_dir} written to {summary.path} ({summary.files} files"
        + (f", database {summary.database_pages} pages" if not postgres else "")
        + (f"; node key {summary.fingerprint}" if summary.fingerprint else "")
        + ")"
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from aronanet.server.backup import BackupError, restore_backup
    from aronanet.server.datadir import PRIVATE_UMASK, DataDirError

    os.umask(PRIVATE_UMASK)
    try:
        summary = restore_backup(args.file, args.data_dir, force=args.force, progress=_say)
    except DataDirError as exc:
        _say(f"aronanet restore: refused: {exc}")
        return 1
    except (BackupError, OSError) as exc:
        _say(f"aronanet restore: {exc}")
        return 1
    if summary.replaced is not None:
        print(f"the previous contents of {args.data_dir} are in {summary.replaced}")
    if summary.config is not None:
        print(f"configuration restored to {summary.config} (check its data_dir setting)")
    print(
        f"restored {summary.files} files into {summary.data_dir}"
        + (f"; node key {summary.fingerprint}" if summary.fingerprint else "")
    )
    return 0
