"""``aronanet move-to-postgres``: the operator's side of ``server.store.move``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aronanet.server.settings import redact_url


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``move-to-postgres`` to the ``aronanet`` command."""
    move = subparsers.add_parser(
        "move-to-postgres",
        help="move a node's community from its SQLite file to PostgreSQL (scale-out)",
        description="Copy everything a stopped node keeps in DATA_DIR's SQLite database "
        "(accounts, channels, messages, moderation, ...) and its images into the PostgreSQL "
        "store at URL, which must hold no community yet. The SQLite file is only read. Then "
        "run the node (and others) with --store URL (docs/SCALE-OUT.md).",
    )
    move.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    move.add_argument("url", metavar="URL", help="postgresql://USER@HOST:PORT/DB")
    move.set_defaults(handler=run_move)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_move(args: argparse.Namespace) -> int:
    from aronanet.server.backup import database_name
    from aronanet.server.datadir import DataDirError

    try:
        from aronanet.server.store.move import MoveError, move_to_postgres
    except ImportError as exc:
        _say(
            f"aronanet move-to-postgres: the PostgreSQL driver is missing ({exc.name}); "
            "install it with: pip install 'aronanet[scale]'"
        )
        return 1
    url = str(args.url)
    if not url.startswith(("postgresql://", "postgres://")):
        _say(f"aronanet move-to-postgres: {url!r} is not a postgresql:// URL")
        return 2
    try:
        summary = asyncio.run(
            move_to_postgres(args.data_dir, args.data_dir / database_name(), url, _say)
        )
    except DataDirError as exc:
        _say(f"aronanet move-to-postgres: refused: {exc}")
        return 1
    except MoveError as exc:
        _say(f"aronanet move-to-postgres: {exc}")
        return 1
    rows = summary.rows
    print(
        f"moved {_many(rows.get('users', 0), 'account')}, "
        f"{_many(rows.get('channels', 0), 'channel')}, "
        f"{_many(rows.get('messages', 0), 'message')} and {_many(summary.images, 'image')} "
        f"to {redact_url(url)}; run the node (and any others) with --store URL from now on"
    )
    return 0


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")
