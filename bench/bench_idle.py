"""Memory per idle session: resident memory a server adds for each connected, idle client.

A first batch of sessions warms the server up (allocator arenas, lazily imported code,
caches) and stays connected; then ``--sessions`` more connect and idle, and the growth of
the server's resident set (VmRSS) divided by their number is the cost of one idle session.
An ArTP session is handshaken and logged in (``AUTH`` with ``register: true``); an IRC
session (ngircd, the reference) is registered. Example:
``.venv/bin/python bench/bench_idle.py --sessions 5000``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from loadgen import report
from loadgen.cli import benchmark_parser, make_server, parse_benchmark_args
from loadgen.pool import WorkerPool, split_round_robin
from loadgen.procstat import rss_bytes

HEADERS = (
    "server",
    "idle sessions",
    "RSS before (MiB)",
    "RSS after (MiB)",
    "KiB per idle session",
    "connect time (s)",
)
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class IdleResult:
    server: str
    sessions: int
    rss_before: int
    rss_after: int
    connect_seconds: float

    @property
    def kib_per_session(self) -> float:
        return (self.rss_after - self.rss_before) / self.sessions / 1024

    def row(self) -> list[str]:
        return [
            self.server,
            str(self.sessions),
            report.fmt(self.rss_before / _MIB, 1),
            report.fmt(self.rss_after / _MIB, 1),
            report.fmt(self.kib_per_session, 1),
            report.fmt(self.connect_seconds, 1),
        ]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--sessions", type=int, default=5000, help="idle sessions measured")
    parser.add_argument("--warmup-sessions", type=int, default=100, help="connected first")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before reading")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    return parse_benchmark_args(parser, argv)


async def connect_batch(pool: WorkerPool, kind: str, port: int, names: list[str]) -> float:
    """Connect ``names`` (spread over the workers); return the seconds it took."""
    started = time.monotonic()
    specs = [{"name": name, "channels": []} for name in names]
    await pool.each(
        [
            {
                "op": "connect",
                "kind": kind,
                "port": port,
                "clients": part,
                "concurrency": 64,
                "timeout": 120.0,
            }
            for part in split_round_robin(specs, pool.count)
        ],
        timeout=600,
    )
    return time.monotonic() - started


async def measure(name: str, args: argparse.Namespace, work_dir: Path) -> IdleResult:
    target_dir = work_dir / name
    target_dir.mkdir(parents=True, exist_ok=True)
    kind = "irc" if name == "ngircd" else "artp"
    with make_server(name, target_dir, args.node_args) as server:
        async with WorkerPool(args.workers) as pool:
            warmup = [f"w{index}" for index in range(args.warmup_sessions)]
            await connect_batch(pool, kind, server.port, warmup)
            await asyncio.sleep(args.settle)
            before = rss_bytes(server.pid)
            # IRC nicknames are at most 9 characters by default: keep every name short.
            idle = [f"i{index}" for index in range(args.sessions)]
            seconds = await connect_batch(pool, kind, server.port, idle)
            await asyncio.sleep(args.settle)
            after = rss_bytes(server.pid)
    print(f"  {name}: {args.sessions} idle sessions measured", file=sys.stderr)
    return IdleResult(name, args.sessions, before, after, seconds)


async def run_all(args: argparse.Namespace, work_dir: Path) -> list[IdleResult]:
    return [await measure(name, args, work_dir) for name in args.targets]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="aronanet-bench-") as scratch:
        results = asyncio.run(run_all(args, Path(scratch)))
    print(f"Idle sessions after {args.warmup_sessions} warm-up sessions; {report.machine_facts()}")
    print(report.markdown_table(HEADERS, [result.row() for result in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
