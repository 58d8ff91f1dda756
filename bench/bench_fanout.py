"""Channel fan-out: the node against ngircd and a bare-asyncio floor, in one run.

For each channel size (default 10, 100 and 500 receiving members, plus the sender), two
load shapes:

* saturation: one sender pipelines channel messages as fast as the server acknowledges them
  (bounded windows, see ``loadgen/drive.py``); reported as deliveries per second and server
  CPU microseconds per delivery (utime + stime of the server process from /proc);
* fixed rate: 200 messages per second; reported as p50/p99 delivery latency, from the send
  time embedded in each message to the receiver's read.

Receivers live in ``--workers`` separate processes (``loadgen/worker.py``); every delivery
is counted, and for ArTP decrypted and authenticated. Each run stops by itself.
Example: ``.venv/bin/python bench/bench_fanout.py --targets node,ngircd``
"""

from __future__ import annotations

import argparse
import array
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from loadgen import drive, report
from loadgen.artp import connect_artp
from loadgen.cli import benchmark_parser, make_server, parse_benchmark_args
from loadgen.counters import LatencyLog
from loadgen.irc import connect_irc
from loadgen.meter import Meter, Spent
from loadgen.pool import WorkerPool, split_round_robin
from loadgen.servers import ServerProcess
from loadgen.stats import LatencySummary
from loadgen.worker import PASSWORD

#: ArTP-1.0 §3: channel names are ``^#[a-z0-9_-]{1,32}$``; IRC accepts the same.
_CHANNEL = "#fanout{size}"
HEADERS = (
    "server",
    "members",
    "deliveries/s",
    "server CPU µs/delivery",
    "cores: server / loadgen / other",
    "p50 ms @rate",
    "p99 ms @rate",
    "cores @rate: server / loadgen / other",
    "latency samples",
)


@dataclass(frozen=True, slots=True)
class FanoutResult:
    server: str
    members: int
    deliveries: int
    saturation: Spent
    latency: LatencySummary
    at_rate: Spent

    @property
    def deliveries_per_second(self) -> float:
        return self.deliveries / self.saturation.wall_seconds

    @property
    def cpu_us_per_delivery(self) -> float:
        return self.saturation.server_cpu / self.deliveries * 1e6

    def row(self) -> list[str]:
        return [
            self.server,
            str(self.members),
            report.fmt(self.deliveries_per_second, 0),
            report.fmt(self.cpu_us_per_delivery, 2),
            _cores(self.saturation),
            report.fmt(self.latency.p50_ms, 2),
            report.fmt(self.latency.p99_ms, 2),
            _cores(self.at_rate),
            str(self.latency.count),
        ]


def _cores(spent: Spent) -> str:
    return " / ".join(
        report.fmt(value, 2)
        for value in (spent.server_cores, spent.loadgen_cores, spent.other_cores)
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--sizes", default="10,100,500", help="receiving members per channel")
    parser.add_argument("--duration", type=float, default=3.0, help="saturation seconds per size")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds first")
    parser.add_argument("--rate", type=float, default=200.0, help="fixed-rate messages/s")
    parser.add_argument("--rate-duration", type=float, default=3.0, help="fixed-rate seconds")
    parser.add_argument("--workers", type=int, default=2, help="receiver processes")
    parser.add_argument(
        "--receiver-loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="the receivers' event loop: uvloop costs the load generator about a third less",
    )
    parser.add_argument("--ack-window", type=int, default=128, help="unacknowledged messages")
    parser.add_argument("--lag-window", type=int, default=256, help="undelivered messages")
    parser.add_argument("--setup-timeout", type=float, default=300.0, help="connect+join bound")
    parser.add_argument("--work-dir", type=Path, help="keep server state and logs here")
    args = parse_benchmark_args(parser, argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    return args


def receiver_specs(sizes: list[int]) -> list[dict[str, object]]:
    """Receiver ``i`` is a member of every channel with more than ``i`` members."""
    return [
        {"name": f"r{index}", "channels": [_CHANNEL.format(size=s) for s in sizes if index < s]}
        for index in range(max(sizes))
    ]


async def connect_sender(kind: str, port: int, channels: list[str], timeout: float) -> drive.Sender:
    if kind == "irc":
        return await connect_irc(port, "sender", channels, LatencyLog(), timeout)
    batch = kind == "artp-batch"
    return await connect_artp(port, "sender", PASSWORD, channels, LatencyLog(), timeout, batch)


class FanoutRun:
    """One server under test, its receivers and its sender, measured size by size."""

    def __init__(
        self, name: str, server: ServerProcess, pool: WorkerPool, args: argparse.Namespace
    ):
        self.name = name
        self.server = server
        self.pool = pool
        self.args = args
        self.kind = {"ngircd": "irc", "node-batch": "artp-batch"}.get(name, "artp")
        self.sender: drive.Sender | None = None
        self.meter = Meter(server.pid, lambda: pool.pids)

    async def setup(self) -> None:
        started = time.monotonic()
        parts = split_round_robin(receiver_specs(self.args.sizes), self.pool.count)
        await self.pool.each(
            [
                {
                    "op": "connect",
                    "kind": self.kind,
                    "port": self.server.port,
                    "clients": part,
                    "concurrency": 32,
                    "timeout": self.args.setup_timeout,
                }
                for part in parts
            ],
            timeout=self.args.setup_timeout,
        )
        channels = [_CHANNEL.format(size=size) for size in self.args.sizes]
        self.sender = await connect_sender(
            self.kind, self.server.port, channels, self.args.setup_timeout
        )
        print(
            f"  {self.name}: {max(self.args.sizes)} receivers ready "
            f"in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )

    async def measure(self, size: int) -> FanoutResult:
        channel = _CHANNEL.format(size=size)
        await self._saturation(channel, self.args.warmup)
        deliveries, saturation = await self._saturation(channel, self.args.duration)
        latency, at_rate = await self._latency(channel)
        return FanoutResult(self.name, size, deliveries, saturation, latency, at_rate)

    async def _saturation(self, channel: str, duration: float) -> tuple[int, Spent]:
        assert self.sender is not None
        await self.pool.all({"op": "phase", "channel": channel, "latency": False}, timeout=10)
        self.meter.start()
        window = drive.Window(self.args.ack_window, self.args.lag_window)
        run = await drive.saturate(
            self.sender, channel, self.pool.progress, duration, window, drain_timeout=60
        )
        spent = self.meter.stop()
        delivered, _ = await self._collect(run, channel)
        return delivered, spent

    async def _latency(self, channel: str) -> tuple[LatencySummary, Spent]:
        assert self.sender is not None
        await self.pool.all({"op": "phase", "channel": channel, "latency": True}, timeout=10)
        self.meter.start()
        run = await drive.fixed_rate(
            self.sender,
            channel,
            self.pool.progress,
            self.args.rate,
            self.args.rate_duration,
            drain_timeout=60,
        )
        spent = self.meter.stop()
        _, samples = await self._collect(run, channel)
        return LatencySummary.of_microseconds(samples), spent

    async def _collect(self, run: drive.SendRun, channel: str) -> tuple[int, array.array[int]]:
        """Deliveries and latency samples of the phase; every message must have reached
        every member exactly once, or the figures are void."""
        replies = await self.pool.all({"op": "collect"}, timeout=30)
        delivered = sum(reply["delivered"] for reply in replies)
        expected = run.messages * int(channel.removeprefix("#fanout"))
        if delivered != expected:
            raise RuntimeError(
                f"{self.name} {channel}: {delivered} deliveries, expected {expected}"
            )
        refused = getattr(self.sender, "refused", 0)
        if refused:
            raise RuntimeError(f"{self.name}: the server refused {refused} messages")
        samples = array.array("q")
        for reply in replies:
            samples.frombytes(reply["latencies"])
        return delivered, samples


async def run_target(name: str, args: argparse.Namespace, work_dir: Path) -> list[FanoutResult]:
    target_dir = work_dir / name
    target_dir.mkdir(parents=True, exist_ok=True)
    print(f"{name}: starting", file=sys.stderr)
    with make_server(name, target_dir, args.node_args) as server:
        async with WorkerPool(args.workers, uvloop=args.receiver_loop == "uvloop") as pool:
            run = FanoutRun(name, server, pool, args)
            await run.setup()
            results = []
            for size in args.sizes:
                result = await run.measure(size)
                print("  " + " | ".join(result.row()), file=sys.stderr)
                results.append(result)
            return results


async def run_all(args: argparse.Namespace, work_dir: Path) -> list[FanoutResult]:
    results: list[FanoutResult] = []
    for name in args.targets:
        results += await run_target(name, args, work_dir)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="aronanet-bench-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        results = asyncio.run(run_all(args, work_dir))
    print(
        f"Fan-out, one channel, {args.duration:g} s saturation and "
        f"{args.rate:g} msg/s for {args.rate_duration:g} s per size; {report.machine_facts()}"
    )
    print(report.markdown_table(HEADERS, [result.row() for result in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
