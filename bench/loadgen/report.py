"""Printing results: Markdown tables (pasted as-is into the benchmark documents) and the
machine facts every figure must be read with."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats are already formatted by the caller as they should read."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def machine_facts() -> str:
    """One line: cores, CPU, Python, kernel, commit."""
    return (
        f"{os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()} "
        f"({sys.implementation.name}), Linux {platform.release()}, commit {_git_commit()}"
    )


def fmt(value: float, digits: int = 1) -> str:
    """A number for a table: thousands separated, ``digits`` decimals, ``-`` if missing."""
    if value != value:  # NaN: nothing was measured
        return "-"
    return f"{value:,.{digits}f}"
