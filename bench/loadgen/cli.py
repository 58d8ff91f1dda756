"""The command line every server benchmark shares: which servers to compare, how to start them.

Each benchmark runs the same load against ngircd (the C reference), the bare asyncio floor and
the node, in one run; this is the one place that names them and starts the chosen one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loadgen.servers import ServerProcess, floor_server, ngircd_server, node_server

#: ``node-batch`` is the node with every client asking for ArTP/1.1 ``batch`` (§14.2).
TARGETS = ("ngircd", "floor", "node", "node-batch")


def benchmark_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the script's docstring, with ``--targets`` and ``--node-args``."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma list of %(default)s")
    parser.add_argument(
        "--node-args", default="", help="extra `aronanet serve` flags, e.g. '--no-uvloop'"
    )
    return parser


def parse_benchmark_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse, turning ``--targets`` into a checked list of names."""
    args = parser.parse_args(argv)
    args.targets = [name for name in args.targets.split(",") if name]
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(TARGETS)}")
    return args


def make_server(name: str, work_dir: Path, node_args: str) -> ServerProcess:
    """The server process for target ``name``, its state under ``work_dir`` (not started)."""
    if name in ("node", "node-batch"):
        return node_server(work_dir, extra_args=node_args.split())
    return floor_server(work_dir) if name == "floor" else ngircd_server(work_dir)
