"""Session starts per second: the node's Noise XX handshake against references.

Load-generator processes open sessions back to back on parallel lanes: connect, run the
Noise XX handshake (ArTP-1.0 §2), send ``PING`` and wait for ``PONG`` (proof the server
finished its side), close. The floor does the same handshake with nothing else around it;
ngircd gets the same load shape as IRC registration (NICK/USER until ``001``), which has
no cryptography at all. Reported: completed session starts per second and server CPU
microseconds per start. Example: ``.venv/bin/python bench/bench_handshake_node.py``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from loadgen import report
from loadgen.cli import benchmark_parser, make_server, parse_benchmark_args
from loadgen.meter import Meter, Spent
from loadgen.pool import WorkerPool

HEADERS = ("server", "session starts/s", "server CPU µs/start", "cores: server / loadgen / other")


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    server: str
    completed: int
    spent: Spent

    def row(self) -> list[str]:
        spent = self.spent
        return [
            self.server,
            report.fmt(self.completed / spent.wall_seconds, 0),
            report.fmt(spent.server_cpu / self.completed * 1e6, 0),
            " / ".join(
                report.fmt(cores, 2)
                for cores in (spent.server_cores, spent.loadgen_cores, spent.other_cores)
            ),
        ]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per target")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--lanes", type=int, default=16, help="concurrent sessions per worker")
    return parse_benchmark_args(parser, argv)


async def measure(name: str, args: argparse.Namespace, work_dir: Path) -> HandshakeResult:
    target_dir = work_dir / name
    target_dir.mkdir(parents=True, exist_ok=True)
    kind = "irc" if name == "ngircd" else "artp"
    with make_server(name, target_dir, args.node_args) as server:
        async with WorkerPool(args.workers) as pool:
            storm = {
                "op": "storm",
                "kind": kind,
                "port": server.port,
                "concurrency": args.lanes,
                "timeout": 30.0,
            }
            await pool.all({**storm, "duration": 0.5}, timeout=60)  # warm-up, unmeasured
            meter = Meter(server.pid, lambda: pool.pids)
            meter.start()
            replies = await pool.all({**storm, "duration": args.duration}, timeout=120)
            spent = meter.stop()
    completed = sum(reply["completed"] for reply in replies)
    print(f"  {name}: {completed} session starts", file=sys.stderr)
    return HandshakeResult(name, completed, spent)


async def run_all(args: argparse.Namespace, work_dir: Path) -> list[HandshakeResult]:
    return [await measure(name, args, work_dir) for name in args.targets]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="aronanet-bench-") as scratch:
        results = asyncio.run(run_all(args, Path(scratch)))
    print(
        f"Session starts, {args.workers} x {args.lanes} lanes for {args.duration:g} s; "
        f"{report.machine_facts()}"
    )
    print(report.markdown_table(HEADERS, [result.row() for result in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
