"""Where a message's latency goes inside the node: ``bench_fanout.py``'s fixed rate, staged.

Runs ``bench_fanout.py`` with the node started through ``loadgen/node_stages.py``, which
clocks each stage of every ``MSG`` (read, store hand-off, writer pick-up, rows, ``COMMIT``
with its fsync, back on the loop, routing, the fan-out flush) without changing the node.
Prints bench_fanout's own table, then for the messages of the fixed-rate phase:

* each stage's p50 / p90 / p99 in microseconds;
* the slowest 1% of messages (read to last recipient's write), each stage's mean share,
  and the flush's CPU time against its wall time: a flush that took longer than the CPU it
  used was preempted (on a 2-core machine, by the load generator's processes).

The hooks cost a few microseconds per message; compare stages with each other, and the
delivery figures with an unhooked run. Example::

    .venv/bin/python bench/bench_fanout_stages.py --sizes 100 --rate-duration 10
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_fanout
from loadgen import node_stages
from loadgen.report import markdown_table
from loadgen.servers import ServerProcess
from loadgen.stats import percentile

#: bench_fanout flags for a staged run (any may be given again, later wins).
DEFAULTS = ["--targets", "node-batch", "--sizes", "100", "--duration", "1", "--rate-duration", "10"]

#: (label, first mark, last mark) of each stage reported.
SPANS = [
    ("sender's send → read (both sides' kernels, the node's wake-up)", "sent", "received"),
    ("read: decrypt, decode (data_received)", "received", "decoded"),
    ("→ worker task, handler → queued to the store", "decoded", "queued"),
    ("queued → writer thread picks it up", "queued", "writer"),
    ("writer: BEGIN, rows", "writer", "commit"),
    ("COMMIT (the log written, not flushed)", "commit", "committed"),
    ("committed → back on the loop", "committed", "seen"),
    ("routing → flush", "seen", "flush"),
    ("fan-out flush (every write)", "flush", "flushed"),
    ("total: read → last write", "received", "flushed"),
    ("total: sender's send → last write", "sent", "flushed"),
]

#: Messages of the rate phase left out of the tables: they overlapped the next one.
overlapped = 0
#: Rate-phase windows (monotonic ns), one per measured size, noted by the wrapped phase.
_windows: list[tuple[int, int]] = []


def _staged(make: Any, out: Path) -> Any:
    def make_server(name: str, work_dir: Path, node_args: str) -> ServerProcess:
        server: ServerProcess = make(name, work_dir, node_args)
        if server.command[1:3] == ["-m", "aronanet.cli"]:
            server.command[1:3] = [node_stages.__file__]
            os.environ[node_stages.OUT_VARIABLE] = str(out / f"{name}.stages")
        return server

    return make_server


def _windowed(latency: Any) -> Any:
    async def measured(run: bench_fanout.FanoutRun, channel: str) -> Any:
        started = time.monotonic_ns()
        result = await latency(run, channel)
        _windows.append((started, time.monotonic_ns()))
        return result

    return measured


def read_rows(path: Path) -> list[dict[str, int]]:
    """The messages whose read falls in a rate-phase window, as {mark: ns, "cpu": ns}.

    A message that overlapped the next (its marks mixed with that one's, so out of order)
    is left out; ``overlapped`` counts them."""
    global overlapped
    rows = []
    for line in path.read_text().splitlines():
        values = [int(value) for value in line.split()]
        row = dict(zip([*node_stages.STAGES, "durable", "cpu"], values, strict=True))
        if any(start <= row["received"] <= end for start, end in _windows):
            if values[: len(node_stages.STAGES)] == sorted(values[: len(node_stages.STAGES)]):
                rows.append(row)
            else:
                overlapped += 1
    return rows


def stage_table(rows: list[dict[str, int]]) -> str:
    table = []
    for label, first, last in SPANS:
        spans = sorted(row[last] - row[first] for row in rows)
        table.append([label, *(f"{percentile(spans, q) / 1000:,.0f}" for q in (0.5, 0.9, 0.99))])
    # The log's flush runs on the writer thread beside routing and the fan-out: not a stage
    # of the path above, and known only when it returned before the fan-out ended.
    flushes = sorted(row["durable"] - row["committed"] for row in rows if row["durable"])
    if flushes:
        label = f"(beside: COMMIT → log flushed, {len(flushes)} of {len(rows)} messages)"
        table.append([label, *(f"{percentile(flushes, q) / 1000:,.0f}" for q in (0.5, 0.9, 0.99))])
    return markdown_table(["stage", "p50 µs", "p90 µs", "p99 µs"], table)


def slowest_table(rows: list[dict[str, int]]) -> str:
    """Mean of each stage over the slowest 1% of messages, and the flush's CPU."""
    ordered = sorted(rows, key=lambda row: row["flushed"] - row["received"])
    slow = ordered[-max(1, len(ordered) // 100) :]
    table = []
    for label, first, last in SPANS:
        mean = sum(row[last] - row[first] for row in slow) / len(slow)
        table.append([label, f"{mean / 1000:,.0f}"])
    cpu = sum(row["cpu"] for row in slow) / len(slow)
    table.append(["(flush CPU of the loop thread)", f"{cpu / 1000:,.0f}"])
    return markdown_table([f"slowest 1% ({len(slow)} messages)", "mean µs"], table)


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    bench_fanout.make_server = _staged(bench_fanout.make_server, out)
    bench_fanout.FanoutRun._latency = _windowed(bench_fanout.FanoutRun._latency)  # type: ignore[method-assign]
    status = bench_fanout.main([*DEFAULTS, *sys.argv[1:]])
    for path in sorted(out.glob("*.stages")):
        rows = read_rows(path)
        print(
            f"\n{path.stem}: {len(rows)} messages of the fixed-rate phase, stages in µs"
            f" ({overlapped} left out: they overlapped the next message)"
        )
        if rows:
            print(stage_table(rows))
            print()
            print(slowest_table(rows))
    return status


if __name__ == "__main__":
    sys.exit(main())
