"""Scale-out: 1, 2 and 3 node processes on one PostgreSQL and one Redis, and what each
acknowledged message costs the nodes, PostgreSQL and Redis (issue 16).

For each node count, a fresh PostgreSQL schema and Redis prefix; ``--channels`` channels of
``--members`` receiving members plus one sender each, every channel's members dealt over
the nodes (so most deliveries cross nodes through Redis), every client asking for ArTP/1.1
``batch``. Two load shapes, as in ``bench_fanout.py``:

* saturation: the senders pipeline messages in lock-step as fast as the slowest channel is
  acknowledged and delivered; reported as acknowledged messages/s and deliveries/s, and
  CPU microseconds per message of each node, of PostgreSQL's backends serving the nodes,
  of its shared background processes and of redis-server; WAL bytes per message, messages
  per store commit (group commit) and ``PUBLISH`` calls per message;
* fixed rate: ``--rate`` messages/s in all; p50/p99 from a message's send to its ``OK``
  (durably stored) and to its delivery, and the bytes of one event on the broker channel.

``--mix dms`` (or ``channels,dms``) runs the same with ``--pairs`` direct-message pairs
instead: sender ``k`` on node ``k % n`` writes to a user whose session is on the next node.

A single node on SQLite (the default setup) runs the same load first, for comparison. Every
message must reach every member, or the run fails. Last, the write ceiling of the one
PostgreSQL for any number of nodes (``loadgen/store_ceiling.py``: the advisory lock that
orders ids is held per transaction through its commit), and what one broker event costs
Redis per subscribing node (``loadgen/redis_cost.py``). Schemas and prefixes are removed.
Example: ``.venv/bin/python bench/bench_scale.py --nodes 1,2,3 --json scale.json``
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from loadgen import drive, report
from loadgen.artp import ArtpClient, connect_artp
from loadgen.cluster import Backends, ClusterNode, run_cluster
from loadgen.counters import LatencyLog
from loadgen.pool import WorkerPool
from loadgen.redis_cost import RedisCost, fanout_costs, per_subscriber
from loadgen.scale_meter import Probes, ScaleMeter, ScaleResult, ScaleSpent
from loadgen.services import EventSizes, PostgresProbe, RedisProbe
from loadgen.stats import LatencySummary
from loadgen.store_ceiling import Ceiling, measure_ceiling
from loadgen.worker import PASSWORD

_CHANNEL = "#scale{index}"
QUICK = {
    "channels": 3,
    "members": 3,
    "pairs": 6,
    "duration": 1.0,
    "warmup": 0.2,
    "rate": 40.0,
    "rate_duration": 1.0,
    "workers": 1,
    "ceiling_duration": 0.5,
    "redis_events": 2000,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_pg = os.environ.get("ARONANET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/test")
    default_redis = os.environ.get("ARONANET_TEST_REDIS", "redis://127.0.0.1:6379/0")
    add = parser.add_argument
    add("--nodes", default="1,2,3", help="node counts to run on PostgreSQL + Redis")
    add("--no-sqlite", action="store_true", help="skip the single SQLite node")
    add("--postgres", default=default_pg, help="PostgreSQL URL (a schema is made in it)")
    add("--redis", default=default_redis, help="Redis URL (a unique prefix is used)")
    add("--channels", type=int, default=4, help="channels, one sender each")
    add("--members", type=int, default=25, help="receiving members per channel")
    add("--mix", default="channels", help="comma list of channels,dms")
    add("--pairs", type=int, default=50, help="direct-message pairs of the dms mix")
    add("--duration", type=float, default=5.0, help="saturation seconds")
    add("--warmup", type=float, default=1.0, help="unmeasured saturation seconds first")
    add("--rate", type=float, default=200.0, help="fixed rate, messages/s in all")
    add("--rate-duration", type=float, default=3.0, help="fixed-rate seconds")
    add("--workers", type=int, default=2, help="receiver processes")
    add("--ack-window", type=int, default=128, help="unacknowledged messages per sender")
    add("--lag-window", type=int, default=256, help="undelivered messages per channel")
    add("--ceiling-duration", type=float, default=3.0, help="store-only seconds (0: skip)")
    add("--redis-events", type=int, default=20000, help="Redis-only publishes (0: skip)")
    add("--setup-timeout", type=float, default=120.0, help="connect+join bound")
    add("--node-args", default="", help="extra `aronanet serve` flags")
    add("--work-dir", type=Path, help="keep node state and logs here")
    add("--json", type=Path, help="also write the results here as JSON")
    add("--quick", action="store_true", help=f"a few seconds in all: {QUICK}")
    if "--quick" in argv:
        parser.set_defaults(**QUICK)  # what is given explicitly still wins
    args = parser.parse_args(argv)
    args.nodes = [int(count) for count in args.nodes.split(",") if count]
    args.mix = [mix for mix in args.mix.split(",") if mix]
    if set(args.mix) - set(LOADS):
        parser.error(f"--mix: choose from {', '.join(LOADS)}")
    return args


def channel_name(index: int) -> str:
    return _CHANNEL.format(index=index)


@dataclass(frozen=True, slots=True)
class Load:
    """Who receives where, who sends where to what, and how many receive each message."""

    receivers: list[dict[str, object]]
    #: (node port, user, channels to join, destination of its messages)
    senders: list[tuple[int, str, list[str], str]]
    members: int


def channel_load(nodes: list[ClusterNode], args: argparse.Namespace) -> Load:
    """Member ``j`` of channel ``c`` connects to node ``(c + j) % n``: every channel has
    members on every node, and the nodes get the same number of sessions (±1)."""
    n = len(nodes)
    receivers: list[dict[str, object]] = [
        {"name": f"r{c}_{j}", "channels": [channel_name(c)], "port": nodes[(c + j) % n].port}
        for c in range(args.channels)
        for j in range(args.members)
    ]
    senders = [
        (nodes[c % n].port, f"s{c}", [channel_name(c)], channel_name(c))
        for c in range(args.channels)
    ]
    return Load(receivers, senders, args.members)


def dm_load(nodes: list[ClusterNode], args: argparse.Namespace) -> Load:
    """Pair ``k``: sender on node ``k % n``, its peer on node ``(k + 1) % n``."""
    n = len(nodes)
    receivers: list[dict[str, object]] = [
        {"name": f"d{k}r", "channels": [], "labels": [f"d{k}r"], "port": nodes[(k + 1) % n].port}
        for k in range(args.pairs)
    ]
    senders = [(nodes[k % n].port, f"d{k}s", [], f"d{k}r") for k in range(args.pairs)]
    return Load(receivers, senders, 1)


LOADS = {"channels": channel_load, "dms": dm_load}


class ScaleRun:
    """One setup (SQLite, or N nodes on PostgreSQL + Redis): clients, load, figures."""

    def __init__(
        self,
        setup: str,
        load: Load,
        nodes: list[ClusterNode],
        pool: WorkerPool,
        probes: Probes,
        args: argparse.Namespace,
    ) -> None:
        self.setup = setup
        self.load = load
        self.nodes = nodes
        self.pool = pool
        self.probes = probes
        self.args = args
        self.lanes: list[drive.Lane] = []
        self.meter = ScaleMeter(nodes, lambda: [os.getpid(), *pool.pids], probes)

    async def connect(self) -> None:
        args = self.args
        specs = self.load.receivers
        parts = [specs[slot :: self.pool.count] for slot in range(self.pool.count)]
        await self.pool.each(
            [
                {
                    "op": "connect",
                    "kind": "artp-batch",
                    "port": self.nodes[0].port,
                    "clients": part,
                    "concurrency": 16,
                    "timeout": args.setup_timeout,
                }
                for part in parts
            ],
            timeout=args.setup_timeout,
        )
        for port, user, channels, destination in self.load.senders:
            sender = await connect_artp(
                port, user, PASSWORD, channels, LatencyLog(), args.setup_timeout, True
            )
            self.lanes.append((sender, destination))
        if self.probes.postgres is not None:
            self.probes.postgres.find_backends()

    async def measure(self) -> ScaleResult:
        await self._saturation(self.args.warmup)
        load = os.getloadavg()
        messages, deliveries, window = await self._saturation(self.args.duration)
        ack, delivery, event_bytes = await self._latency()
        return ScaleResult(
            self.setup, messages, deliveries, window, ack, delivery, event_bytes, load
        )

    async def _phase(self, latency: bool) -> None:
        channels = [channel for _, channel in self.lanes]
        await self.pool.all({"op": "phase", "channels": channels, "latency": latency}, 10)

    async def _saturation(self, duration: float) -> tuple[int, int, ScaleSpent]:
        await self._phase(latency=False)
        start = self.meter.read()
        window = drive.Window(self.args.ack_window, self.args.lag_window)
        run = await drive.saturate_many(self.lanes, self.pool.progress, duration, window, 60)
        spent = self.meter.window(start, self.meter.read())
        deliveries, _ = await self._collect(run)
        return run.messages, deliveries, spent

    async def _latency(self) -> tuple[LatencySummary, LatencySummary, float]:
        await self._phase(latency=True)
        senders = [sender for sender, _ in self.lanes if isinstance(sender, ArtpClient)]
        for sender in senders:
            sender.ack_latency.start(True)
        with self._event_sizes() as sizes:
            run = await drive.fixed_rate_many(
                self.lanes, self.pool.progress, self.args.rate, self.args.rate_duration, 60
            )
        acks = array.array("q")
        for sender in senders:
            sender.ack_latency.enabled = False
            acks.extend(sender.ack_latency.samples)
        _, samples = await self._collect(run)
        return (
            LatencySummary.of_microseconds(acks),
            LatencySummary.of_microseconds(samples),
            sizes.mean_bytes if sizes is not None else float("nan"),
        )

    @contextmanager
    def _event_sizes(self) -> Iterator[EventSizes | None]:
        if self.probes.redis is None:
            yield None
            return
        with self.probes.redis.event_sizes() as sizes:
            yield sizes

    async def _collect(self, run: drive.SendRun) -> tuple[int, array.array[int]]:
        """The phase's deliveries and latency samples; every message must have reached
        every member exactly once, and none may have been refused, or the figures are void."""
        replies = await self.pool.all({"op": "collect"}, timeout=30)
        delivered = sum(reply["delivered"] for reply in replies)
        expected = run.messages * self.load.members
        if delivered != expected:
            raise RuntimeError(f"{self.setup}: {delivered} deliveries, expected {expected}")
        refused = sum(getattr(sender, "refused", 0) for sender, _ in self.lanes)
        if refused:
            raise RuntimeError(f"{self.setup}: the nodes refused {refused} messages")
        samples = array.array("q")
        for reply in replies:
            samples.frombytes(reply["latencies"])
        return delivered, samples

    def close(self) -> None:
        for sender, _ in self.lanes:
            if isinstance(sender, ArtpClient):
                sender.close()


@contextmanager
def services(args: argparse.Namespace, count: int | None) -> Iterator[tuple[Backends, Probes]]:
    """A fresh schema and prefix for ``count`` nodes (dropped after), or none for SQLite."""
    if count is None:
        yield Backends(), Probes(None, None)
        return
    postgres = PostgresProbe(args.postgres, f"n{count}")
    redis = RedisProbe(args.redis)
    postgres.create()
    try:
        yield Backends(postgres.store_url, args.redis, redis.prefix), Probes(postgres, redis)
    finally:
        postgres.drop()
        redis.close()


async def run_setup(
    args: argparse.Namespace, work_dir: Path, pool: WorkerPool, count: int | None, mix: str
) -> ScaleResult:
    """SQLite (``count`` None) or ``count`` nodes on PostgreSQL + Redis, measured."""
    setup = "sqlite" if count is None else f"postgres+redis x{count}"
    setup += "" if mix == "channels" else f", {mix}"
    print(f"{setup}: starting", file=sys.stderr)
    started = time.monotonic()
    setup_dir = work_dir / "".join(c if c.isalnum() else "_" for c in setup)
    setup_dir.mkdir(parents=True)
    with ExitStack() as stack:
        backends, probes = stack.enter_context(services(args, count))
        nodes = stack.enter_context(
            run_cluster(setup_dir, count or 1, backends, args.node_args.split())
        )
        print(f"  nodes ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
        run = ScaleRun(setup, LOADS[mix](nodes, args), nodes, pool, probes, args)
        try:
            await run.connect()
            print(f"  clients ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
            result = await run.measure()
        finally:
            run.close()
            await pool.all({"op": "disconnect"}, timeout=30)
    print("  " + " | ".join(result.throughput_row()), file=sys.stderr)
    return result


async def run_all(args: argparse.Namespace, work_dir: Path) -> list[ScaleResult]:
    counts: list[int | None] = [] if args.no_sqlite else [None]
    async with WorkerPool(args.workers) as pool:  # one pool: spawning workers takes seconds
        return [
            await run_setup(args, work_dir, pool, count, mix)
            for mix in args.mix
            for count in [*counts, *args.nodes]
        ]


CEILING = (
    "one message a transaction: p50 ms",
    "pipelined msg/s (one writer)",
    "msg/commit",
    "lock µs/msg",
    "of which CPU µs/msg: writer / PG",
    "ceiling msg/s, any number of nodes",
)


async def run_ceiling(args: argparse.Namespace) -> Ceiling:
    print("store ceiling: starting", file=sys.stderr)
    postgres = PostgresProbe(args.postgres, "ceiling")
    postgres.create()
    try:
        return await measure_ceiling(
            postgres.store_url, postgres.backend_cpu, duration=args.ceiling_duration
        )
    finally:
        postgres.drop()


def ceiling_row(ceiling: Ceiling) -> list[str]:
    return [
        report.fmt(ceiling.serial_p50_ms, 2),
        report.fmt(ceiling.messages_per_second, 0),
        report.fmt(ceiling.messages_per_commit, 0),
        report.fmt(ceiling.lock_us_per_message, 0),
        f"{report.fmt(ceiling.client_us_per_message, 0)} / "
        f"{report.fmt(ceiling.postgres_us_per_message, 0)}",
        report.fmt(1e6 / ceiling.lock_us_per_message if ceiling.lock_us_per_message else 0, 0),
    ]


def ceiling_json(ceiling: Ceiling) -> dict[str, object]:
    return {
        **asdict(ceiling),
        "messages_per_second": ceiling.messages_per_second,
        "messages_per_commit": ceiling.messages_per_commit,
        "lock_us_per_message": ceiling.lock_us_per_message,
        "client_us_per_message": ceiling.client_us_per_message,
        "postgres_us_per_message": ceiling.postgres_us_per_message,
    }


REDIS = ("subscribers", "Redis CPU µs/event")


def redis_rows(costs: list[RedisCost]) -> list[list[str]]:
    base, slope = per_subscriber(costs)
    rows = [[str(cost.subscribers), report.fmt(cost.us_per_event, 2)] for cost in costs]
    return [*rows, ["fit: N", f"{report.fmt(base, 2)} + {report.fmt(slope, 2)} x N"]]


async def run_everything(
    args: argparse.Namespace, work_dir: Path
) -> tuple[list[ScaleResult], Ceiling | None, list[RedisCost]]:
    """The setups, then the store ceiling and Redis's cost per event of the size the
    setups' events had on the broker (376 bytes for 25 members if none was measured)."""
    results = await run_all(args, work_dir)
    sizes = [result.event_bytes for result in results if result.event_bytes > 0]
    event_bytes = round(max(sizes)) if sizes else 376
    ceiling = await run_ceiling(args) if args.ceiling_duration > 0 else None
    costs = []
    if args.redis_events > 0:
        print("redis cost per event: starting", file=sys.stderr)
        costs = await asyncio.to_thread(fanout_costs, args.redis, args.redis_events, event_bytes)
    return results, ceiling, costs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="aronanet-bench-scale-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        results, ceiling, costs = asyncio.run(run_everything(args, work_dir))
    shapes = {
        "channels": f"{args.channels} channels x {args.members} members (+1 sender each)",
        "dms": f"{args.pairs} direct-message pairs",
    }
    print(
        f"Scale-out: {' / '.join(shapes[mix] for mix in args.mix)}, batch; "
        f"{args.duration:g} s saturation, {args.rate:g} msg/s for {args.rate_duration:g} s; "
        f"{report.machine_facts()}"
    )
    print(report.markdown_table(ScaleResult.THROUGHPUT, [r.throughput_row() for r in results]))
    print()
    print(report.markdown_table(ScaleResult.COSTS, [r.cost_row() for r in results]))
    if ceiling is not None:
        print()
        print(report.markdown_table(CEILING, [ceiling_row(ceiling)]))
    if costs:
        print()
        print(report.markdown_table(REDIS, redis_rows(costs)))
    if args.json is not None:
        document = {
            "setups": [result.to_json() for result in results],
            "ceiling": ceiling_json(ceiling) if ceiling is not None else None,
            "redis_cost": [{**asdict(c), "us_per_event": c.us_per_event} for c in costs],
            "load_average": os.getloadavg(),
            "machine": report.machine_facts(),
        }
        args.json.write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
