"""What a server process costs, read from ``/proc`` (Linux only).

CPU is ``utime + stime`` of the whole process (all its threads) from ``/proc/PID/stat``,
so kernel time spent in the server's own ``send()`` calls counts against the server, the
same for the node and for ngircd. The clock tick is 10 ms: measure over seconds, not
milliseconds. Memory is the resident set (``VmRSS``) from ``/proc/PID/status``.
"""

from __future__ import annotations

import os

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Fields 14 and 15 of /proc/PID/stat (1-based), counted after the ")" ending the name.
_UTIME_AFTER_NAME = 11
_STIME_AFTER_NAME = 12


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds consumed so far by every thread of process ``pid``."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        text = stat.read()
    # The command name may hold spaces or parentheses: split after the last ")".
    fields = text[text.rindex(b")") + 2 :].split()
    ticks = int(fields[_UTIME_AFTER_NAME]) + int(fields[_STIME_AFTER_NAME])
    return ticks / _CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """The resident set size of process ``pid`` in bytes (``VmRSS``)."""
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} has no VmRSS (has it exited?)")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from ``/proc/stat``.

    Includes interrupt and softirq time, which loopback TCP spends on behalf of both ends
    and which no single process is always charged for.
    """
    with open("/proc/stat", "rb") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS
