"""Who spent what during a scale-out benchmark window: each node, the load generator,
PostgreSQL, Redis and the rest of the machine; and the figures made of it per message.

A ``Reading`` is taken before and after a window; their difference is a ``ScaleSpent``.
Node counters (``/metrics``) give what the nodes stored and how many store transactions
that took (group commit), exactly; ``services.py`` gives PostgreSQL and Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from loadgen import report
from loadgen.cluster import ClusterNode
from loadgen.procstat import cpu_seconds, machine_busy_seconds
from loadgen.services import PostgresProbe, PostgresSample, RedisProbe, RedisSample
from loadgen.stats import LatencySummary

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Probes:
    """The shared services of a run; both ``None`` for a single SQLite node."""

    postgres: PostgresProbe | None
    redis: RedisProbe | None


@dataclass(frozen=True, slots=True)
class Reading:
    wall: float
    node_cpu: list[float]
    loadgen_cpu: float
    machine_cpu: float
    counters: list[dict[str, float]]
    postgres: PostgresSample | None
    redis: RedisSample | None


@dataclass(frozen=True, slots=True)
class ScaleSpent:
    """What a window cost; service figures are NaN where there is no such service."""

    wall_seconds: float
    node_cpu: list[float]
    loadgen_cpu: float
    machine_cpu: float
    stored: float
    #: Messages each node stored in the window (where the senders are).
    node_stored: list[float]
    commits: float
    commit_seconds: float
    postgres_backend_cpu: float = _NAN
    postgres_shared_cpu: float = _NAN
    wal_bytes: float = _NAN
    redis_cpu: float = _NAN
    publishes: float = _NAN
    publish_usec: float = _NAN

    @property
    def services_cpu(self) -> float:
        parts = (self.postgres_backend_cpu, self.postgres_shared_cpu, self.redis_cpu)
        return sum(part for part in parts if not math.isnan(part))

    @property
    def other_cpu(self) -> float:
        known = sum(self.node_cpu) + self.loadgen_cpu + self.services_cpu
        return max(0.0, self.machine_cpu - known)


class ScaleMeter:
    """Reads every party's CPU, the nodes' counters and the services at once."""

    def __init__(
        self, nodes: list[ClusterNode], loadgen_pids: Callable[[], list[int]], probes: Probes
    ) -> None:
        self._nodes = nodes
        self._loadgen_pids = loadgen_pids
        self._probes = probes

    def read(self) -> Reading:
        postgres, redis = self._probes.postgres, self._probes.redis
        return Reading(
            wall=time.monotonic(),
            node_cpu=[cpu_seconds(node.pid) for node in self._nodes],
            loadgen_cpu=sum(cpu_seconds(pid) for pid in self._loadgen_pids()),
            machine_cpu=machine_busy_seconds(),
            counters=[node.counters() for node in self._nodes],
            postgres=postgres.sample() if postgres is not None else None,
            redis=redis.sample() if redis is not None else None,
        )

    @staticmethod
    def window(start: Reading, end: Reading) -> ScaleSpent:
        def each(name: str) -> list[float]:
            return [b[name] - a[name] for a, b in zip(start.counters, end.counters, strict=True)]

        def counted(name: str) -> float:
            return sum(each(name))

        services: dict[str, float] = {}
        if start.postgres is not None and end.postgres is not None:
            services["postgres_backend_cpu"] = end.postgres.backend_cpu - start.postgres.backend_cpu
            services["postgres_shared_cpu"] = end.postgres.shared_cpu - start.postgres.shared_cpu
            services["wal_bytes"] = end.postgres.wal_lsn - start.postgres.wal_lsn
        if start.redis is not None and end.redis is not None:
            services["redis_cpu"] = end.redis.cpu - start.redis.cpu
            services["publishes"] = end.redis.publishes - start.redis.publishes
            services["publish_usec"] = end.redis.publish_usec - start.redis.publish_usec
        return ScaleSpent(
            wall_seconds=end.wall - start.wall,
            node_cpu=[b - a for a, b in zip(start.node_cpu, end.node_cpu, strict=True)],
            loadgen_cpu=end.loadgen_cpu - start.loadgen_cpu,
            machine_cpu=end.machine_cpu - start.machine_cpu,
            stored=counted("aronanet_messages_stored_total"),
            node_stored=each("aronanet_messages_stored_total"),
            commits=counted("aronanet_store_commits_total"),
            commit_seconds=counted("aronanet_store_commit_latency_seconds_sum"),
            **services,
        )


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float:
    return numerator / denominator * scale if denominator else _NAN


@dataclass(frozen=True, slots=True)
class ScaleResult:
    """One setup's figures: saturation throughput and costs, latency at the fixed rate."""

    THROUGHPUT: ClassVar[tuple[str, ...]] = (
        "setup",
        "msg/s",
        "deliveries/s",
        "node CPU µs/msg (each node)",
        "cores: nodes / PG / Redis / loadgen / other",
        "send→OK p50 / p99 ms",
        "send→delivery p50 / p99 ms",
        "load avg",
    )
    COSTS: ClassVar[tuple[str, ...]] = (
        "setup",
        "PG backends µs/msg",
        "PG shared µs/msg (server-wide)",
        "WAL bytes/msg",
        "msg/commit",
        "enqueue→commit ms",
        "Redis µs/msg (server-wide)",
        "PUBLISH µs/call",
        "PUBLISH/msg",
        "bytes/event",
    )

    setup: str
    messages: int
    deliveries: int
    spent: ScaleSpent
    ack_latency: LatencySummary
    delivery_latency: LatencySummary
    event_bytes: float
    load_average: tuple[float, float, float]

    def per_message_us(self, cpu: float) -> float:
        return _ratio(cpu, self.messages, 1e6)

    def figures(self) -> dict[str, Any]:
        """The derived figures, by name (what the tables show, unformatted)."""
        spent = self.spent
        return {
            "messages_per_second": _ratio(self.messages, spent.wall_seconds),
            "deliveries_per_second": _ratio(self.deliveries, spent.wall_seconds),
            "node_cpu_us_per_message": [self.per_message_us(cpu) for cpu in spent.node_cpu],
            "postgres_backend_us_per_message": self.per_message_us(spent.postgres_backend_cpu),
            "postgres_shared_us_per_message": self.per_message_us(spent.postgres_shared_cpu),
            "wal_bytes_per_message": _ratio(spent.wal_bytes, self.messages),
            "messages_per_commit": _ratio(spent.stored, spent.commits),
            "enqueue_to_commit_ms": _ratio(spent.commit_seconds, spent.stored, 1e3),
            "redis_us_per_message": self.per_message_us(spent.redis_cpu),
            "publish_us_per_call": _ratio(spent.publish_usec, spent.publishes),
            "publishes_per_message": _ratio(spent.publishes, self.messages),
        }

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "nodes": len(self.spent.node_cpu), "figures": self.figures()}

    def throughput_row(self) -> list[str]:
        spent, figures, fmt = self.spent, self.figures(), report.fmt
        cores = (
            sum(spent.node_cpu),
            spent.postgres_backend_cpu + spent.postgres_shared_cpu,
            spent.redis_cpu,
            spent.loadgen_cpu,
            spent.other_cpu,
        )
        each = figures["node_cpu_us_per_message"]
        return [
            self.setup,
            fmt(figures["messages_per_second"], 0),
            fmt(figures["deliveries_per_second"], 0),
            f"{fmt(sum(each), 0)} ({' + '.join(fmt(us, 0) for us in each)})",
            " / ".join(fmt(_ratio(cpu, spent.wall_seconds), 2) for cpu in cores),
            f"{fmt(self.ack_latency.p50_ms, 1)} / {fmt(self.ack_latency.p99_ms, 1)}",
            f"{fmt(self.delivery_latency.p50_ms, 1)} / {fmt(self.delivery_latency.p99_ms, 1)}",
            " ".join(f"{value:.1f}" for value in self.load_average),
        ]

    def cost_row(self) -> list[str]:
        figures, fmt = self.figures(), report.fmt
        return [
            self.setup,
            fmt(figures["postgres_backend_us_per_message"], 1),
            fmt(figures["postgres_shared_us_per_message"], 1),
            fmt(figures["wal_bytes_per_message"], 0),
            fmt(figures["messages_per_commit"], 1),
            fmt(figures["enqueue_to_commit_ms"], 1),
            fmt(figures["redis_us_per_message"], 1),
            fmt(figures["publish_us_per_call"], 1),
            fmt(figures["publishes_per_message"], 2),
            fmt(self.event_bytes, 0),
        ]
