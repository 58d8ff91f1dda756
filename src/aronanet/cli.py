"""The ``aronanet`` command: the composition root.

Each subcommand is owned by the package that implements it; that package exposes
``register(subparsers)`` which adds its parser and sets ``handler`` (a function taking the
parsed ``argparse.Namespace`` and returning an exit code). Packages are imported lazily so
that ``aronanet fingerprint`` does not pay for Textual, and ``aronanet chat`` not for SQLite.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from aronanet import __version__

#: subcommand name -> module providing ``register(subparsers)``.
SUBCOMMANDS: dict[str, str] = {
    "serve": "aronanet.server.cli",
    "fingerprint": "aronanet.server.cli",
    "chat": "aronanet.tui.cli",
    "send": "aronanet.client.cli",
    "tail": "aronanet.client.cli",
    "trust": "aronanet.client.cli",
    "discover": "aronanet.discovery.cli",
    "admin": "aronanet.server.admin_cli",
    "backup": "aronanet.server.backup_cli",
    "restore": "aronanet.server.backup_cli",
    "move-to-postgres": "aronanet.server.move_cli",
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Build the parser, importing only the module of the subcommand being run."""
    parser = argparse.ArgumentParser(
        prog="aronanet",
        description="AronaNET: a self-hosted chat node and its clients (ArTP/1.0), encrypted in "
        "transit with pinned node keys (not end-to-end: the node reads every message).",
    )
    parser.add_argument("--version", action="version", version=f"aronanet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((arg for arg in argv if not arg.startswith("-")), None)
    modules = (
        [SUBCOMMANDS[wanted]]
        if wanted in SUBCOMMANDS
        else list(dict.fromkeys(SUBCOMMANDS.values()))
    )
    for name in modules:
        module = importlib.import_module(name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aronanet`` command; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
