"""Instructions per ``MSG`` of the node at saturation: ``bench_fanout.py`` under callgrind.

On a shared machine (and a VM without hardware counters) CPU time per delivery moves with
everything else running; instruction counts do not. This runs ``bench_fanout.py`` with the
node under ``valgrind --tool=callgrind`` with instrumentation off, switches it on
(``callgrind_control -i on``) for the saturation phases only, and prints the node's
instructions (all threads) per message sent. Two runs of one build agree within ~0.5%.
The node is 30-50x slower under valgrind, so compare builds with each other, not with
wall-clock figures. Needs ``valgrind``.

    .venv/bin/python bench/bench_fanout_callgrind.py --sizes 100
    PYTHONPATH=/tmp/base/src .venv/bin/python bench/bench_fanout_callgrind.py --sizes 100
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench_fanout
from loadgen.servers import ServerProcess

#: bench_fanout flags for a run under valgrind (any of them may be given again, later wins).
DEFAULTS = [
    "--targets", "node-batch", "--duration", "20", "--warmup", "1",
    "--rate", "20", "--rate-duration", "1", "--setup-timeout", "600",
]  # fmt: skip

_messages = 0


def _under_callgrind(make: Any, out: Path) -> Any:
    def make_server(name: str, work_dir: Path, node_args: str) -> ServerProcess:
        server: ServerProcess = make(name, work_dir, node_args)
        server.command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}/callgrind.%p", *server.command,
        ]  # fmt: skip
        server.ready_timeout = 600
        return server

    return make_server


def _instrumented(saturation: Any) -> Any:
    async def measured(run: bench_fanout.FanoutRun, channel: str, duration: float) -> Any:
        global _messages
        control = ["callgrind_control", "-i"]
        subprocess.run([*control, "on", str(run.server.pid)], capture_output=True, check=False)
        delivered, spent = await saturation(run, channel, duration)
        subprocess.run([*control, "off", str(run.server.pid)], capture_output=True, check=False)
        _messages += delivered // int(channel.removeprefix("#fanout"))
        return delivered, spent

    return measured


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    bench_fanout.make_server = _under_callgrind(bench_fanout.make_server, out)
    bench_fanout.FanoutRun._saturation = _instrumented(bench_fanout.FanoutRun._saturation)  # type: ignore[method-assign]
    status = bench_fanout.main([*DEFAULTS, "--work-dir", str(out), *sys.argv[1:]])
    counted = 0
    for log in out.glob("*/node.log"):
        found = re.search(r"Collected : (\d+)", log.read_text(errors="replace"))
        counted += int(found.group(1)) if found else 0
    if _messages:
        print(f"node instructions per MSG (saturation): {counted / _messages:,.0f}")
        print(f"({counted:,} instructions, {_messages:,} messages; files in {out})")
    return status


if __name__ == "__main__":
    sys.exit(main())
