"""``bench/bench_scale.py --quick`` end to end: real nodes on the real PostgreSQL and Redis.

No figure is asserted (a benchmark's numbers belong in docs/BENCHMARKS.md, not in a test);
what is asserted is that the run is whole: every setup ran, every message reached every
member, every node's counters were read, the services were measured, and the tables print.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from .services import admin_connection, redis_client

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "bench" / "bench_scale.py"
SETUPS = ["sqlite", "postgres+redis x1", "postgres+redis x2", "postgres+redis x3"]


def bench_schemas() -> set[str]:
    """The schemas benchmark runs made and have not removed (both services must be up)."""
    redis_client().close()
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'aronanet_bench_%'"
        ).fetchall()
    return {str(row[0]) for row in rows}


def run_quick(tmp_path: Path, *options: str) -> tuple[str, dict[str, Any]]:
    out = tmp_path / "scale.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out), *options],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout, json.loads(out.read_text())


def check_setup(setup: dict[str, Any], nodes: int, members: int) -> None:
    spent, figures = setup["spent"], setup["figures"]
    assert setup["nodes"] == nodes
    assert setup["messages"] > 0
    assert setup["deliveries"] == setup["messages"] * members
    # every node's /metrics was read: together they stored exactly what was acknowledged,
    # and every node had a sender (quick mode: as many channels as nodes at most)
    assert len(spent["node_cpu"]) == len(spent["node_stored"]) == nodes
    assert sum(spent["node_stored"]) == setup["messages"]
    assert all(stored > 0 for stored in spent["node_stored"])
    assert 1 <= figures["messages_per_commit"] <= setup["messages"]
    assert setup["ack_latency"]["count"] > 0
    assert setup["delivery_latency"]["count"] == setup["ack_latency"]["count"] * members


def check_services(setup: dict[str, Any]) -> None:
    figures = setup["figures"]
    assert figures["wal_bytes_per_message"] > 0
    assert figures["postgres_backend_us_per_message"] >= 0
    # each message is published once (others may publish on the same Redis too)
    assert figures["publishes_per_message"] >= 1
    assert setup["event_bytes"] > 0


def test_quick_run_is_whole_and_parses(tmp_path: Path) -> None:
    schemas_before = bench_schemas()
    stdout, document = run_quick(tmp_path)
    assert bench_schemas() <= schemas_before  # it removed the schemas it made
    setups = document["setups"]
    assert [setup["setup"] for setup in setups] == SETUPS
    for nodes, setup in enumerate(setups, start=0):
        check_setup(setup, max(1, nodes), members=3)
        if setup["setup"] == "sqlite":
            assert math.isnan(setup["figures"]["wal_bytes_per_message"])
        else:
            check_services(setup)
    ceiling = document["ceiling"]
    assert ceiling["pipelined_messages"] > 0
    assert ceiling["messages_per_commit"] > 1  # the pipelined writer did group its commits
    costs = document["redis_cost"]
    assert [cost["subscribers"] for cost in costs] == [1, 4, 16]
    assert all(cost["us_per_event"] > 0 for cost in costs)
    for header in ("| setup | msg/s |", "| setup | PG backends µs/msg |", "lock µs/msg", "fit: N"):
        assert header in stdout
    assert stdout.count("| postgres+redis x") == 2 * 3


def test_quick_direct_messages_cross_nodes(tmp_path: Path) -> None:
    """``--mix dms``: each message has one receiver, on the node after its sender's."""
    schemas_before = bench_schemas()
    stdout, document = run_quick(
        tmp_path, "--mix", "dms", "--nodes", "2", "--no-sqlite",
        "--ceiling-duration", "0", "--redis-events", "0",
    )  # fmt: skip
    assert bench_schemas() <= schemas_before
    [setup] = document["setups"]
    assert setup["setup"] == "postgres+redis x2, dms"
    check_setup(setup, 2, members=1)
    check_services(setup)
    assert document["ceiling"] is None and document["redis_cost"] == []
    assert "6 direct-message pairs" in stdout
