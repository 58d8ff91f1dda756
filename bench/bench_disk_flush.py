"""The disk's flush, alone: what the node's log flush (``fdatasync``) costs on this machine.

Writes ``--size`` bytes with ``pwrite`` and flushes them with ``fdatasync``, every
``--every`` seconds, ``--count`` times, in a temporary directory of ``--dir`` (default: the
system's temporary directory, where ``bench_fanout.py`` puts its nodes' data), like the
SQLite writer's commit then flush of one group. Prints the flush's percentiles. Example:
``.venv/bin/python bench/bench_disk_flush.py --dir ~/.local/share``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def flush_latencies(directory: str | None, size: int, every: float, count: int) -> list[float]:
    """Seconds each ``fdatasync`` took, sorted."""
    with tempfile.TemporaryDirectory(dir=directory) as where:
        fd = os.open(os.path.join(where, "probe"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            block, took = os.urandom(size), []
            for n in range(count):
                os.pwrite(fd, block, (n % 200) * size)  # a log that wraps, as the WAL does
                start = time.perf_counter()
                os.fdatasync(fd)
                took.append(time.perf_counter() - start)
                time.sleep(every)
        finally:
            os.close(fd)
    return sorted(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="file system to probe (a directory)")
    parser.add_argument("--size", type=int, default=20480, help="bytes per flush")
    parser.add_argument("--every", type=float, default=0.005, help="seconds between flushes")
    parser.add_argument("--count", type=int, default=1000, help="flushes")
    args = parser.parse_args()
    took = flush_latencies(args.dir, args.size, args.every, args.count)
    marks = ", ".join(
        f"p{q * 100:g} {took[int(q * (len(took) - 1))] * 1e6:,.0f} µs"
        for q in (0.5, 0.9, 0.99, 0.999)
    )
    shape = f"{args.size:,} bytes every {args.every * 1000:g} ms, {args.count}x"
    print(f"fdatasync of {shape}: {marks}")


if __name__ == "__main__":
    main()
