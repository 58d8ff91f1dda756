"""What the shared services of a scale-out run spend: PostgreSQL and Redis, read directly.

The nodes of a community share one PostgreSQL and one Redis; to say how far the design
goes, a benchmark needs what each acknowledged message costs *them*, not only the nodes:

* PostgreSQL: the CPU of the backends serving this run's nodes (found by the
  ``application_name`` the run puts in the store URL, so other users of the same server do
  not count), the CPU of its shared background processes (WAL writer, checkpointer...,
  which work for everyone), and the WAL written (``pg_current_wal_lsn()``, cluster-wide).
* Redis: the server's CPU (``INFO cpu``: getrusage, to the microsecond, where ``/proc``
  counts 10 ms ticks, too coarse for a few microseconds per message) and its ``PUBLISH``
  count and time (``INFO commandstats``): both server-wide.

Both services are shared with whatever else runs on the machine; the caller reports the
machine's load with every figure. (``pg_stat_database.xact_commit`` is not used: PostgreSQL
15 flushes those counters at most once a second per backend, later when idle, so over a few
seconds they lag; the nodes' own ``aronanet_store_commits_total`` is exact.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import redis

from loadgen.procstat import cpu_seconds

#: PostgreSQL processes that work for every database of the cluster (``backend_type``).
_SHARED_BACKENDS = (
    "walwriter",
    "checkpointer",
    "background writer",
    "autovacuum launcher",
    "autovacuum worker",
)


def _process_cpu(pids: list[int]) -> float:
    """CPU seconds of the processes still alive (one that exited in between counts 0)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def with_parameters(url: str, **parameters: str) -> str:
    """``url`` with libpq query parameters added (``options``, ``application_name``)."""
    query = "&".join(f"{key}={value}" for key, value in parameters.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


@dataclass(frozen=True, slots=True)
class PostgresSample:
    backend_cpu: float
    shared_cpu: float
    wal_lsn: int


class PostgresProbe:
    """The PostgreSQL of a run: a fresh schema, its URL for the nodes, and samples."""

    def __init__(self, admin_url: str, tag: str) -> None:
        self.admin_url = admin_url
        self.schema = f"aronanet_bench_{os.getpid()}_{secrets.token_hex(3)}_{tag}"
        self.application_name = self.schema.replace("_", "-")
        self._conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        self._shared_pids = self._pids("backend_type = ANY(%s)", list(_SHARED_BACKENDS))
        self._backend_pids: list[int] = []

    @property
    def store_url(self) -> str:
        """What the nodes get as ``--store``: the schema first on the path, and our name."""
        return with_parameters(
            self.admin_url,
            options=f"-csearch_path%3D{self.schema}",
            application_name=self.application_name,
        )

    def create(self) -> None:
        self._conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        self._conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self._conn.close()

    def _pids(self, condition: str, parameter: Any) -> list[int]:
        rows = self._conn.execute(
            f"SELECT pid FROM pg_stat_activity WHERE {condition}",
            (parameter,),
        ).fetchall()
        return [int(row[0]) for row in rows]

    def find_backends(self) -> int:
        """Look up the backends of the nodes (call once every node is connected)."""
        self._backend_pids = self._pids("application_name = %s", self.application_name)
        return len(self._backend_pids)

    def backend_cpu(self) -> float:
        """CPU seconds of the backends serving this run (looked up on the first call)."""
        if not self._backend_pids:
            self.find_backends()
        return _process_cpu(self._backend_pids)

    def sample(self) -> PostgresSample:
        lsn = self._conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        assert lsn is not None
        return PostgresSample(
            backend_cpu=_process_cpu(self._backend_pids),
            shared_cpu=_process_cpu(self._shared_pids),
            wal_lsn=int(lsn[0]),
        )


@dataclass(frozen=True, slots=True)
class RedisSample:
    cpu: float
    publishes: int
    publish_usec: int


class RedisProbe:
    """The Redis of a run: a unique channel prefix, and samples of what the server spent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"aronanet-bench-{os.getpid()}-{secrets.token_hex(3)}"
        self._client = redis.Redis.from_url(url, socket_connect_timeout=5)

    @property
    def channel(self) -> str:
        """The one pub/sub channel the nodes of the community share (``broker/redis.py``)."""
        return f"{self.prefix}:artp"

    def sample(self) -> RedisSample:
        stats = self._client.info("commandstats").get("cmdstat_publish", {})
        info = self._client.info("cpu")
        cpu = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return RedisSample(
            cpu=cpu, publishes=int(stats.get("calls", 0)), publish_usec=int(stats.get("usec", 0))
        )

    @contextlib.contextmanager
    def event_sizes(self) -> Iterator[EventSizes]:
        """Subscribe to the community's channel meanwhile, counting events and bytes.

        Only for an unmeasured-for-CPU phase: the extra subscriber costs Redis a delivery.
        """
        sizes = EventSizes()
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(**{self.channel: sizes.handle})
        thread = pubsub.run_in_thread(sleep_time=0.05, daemon=True)
        try:
            yield sizes
        finally:
            thread.stop()
            thread.join(timeout=5)
            pubsub.close()

    def close(self) -> None:
        self._client.close()


@dataclass(slots=True)
class EventSizes:
    """Events heard on the community's channel and their payload bytes."""

    events: int = 0
    payload_bytes: int = 0

    def handle(self, message: dict[str, Any]) -> None:
        self.events += 1
        self.payload_bytes += len(message["data"])

    @property
    def mean_bytes(self) -> float:
        return self.payload_bytes / self.events if self.events else float("nan")
