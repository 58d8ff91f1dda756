"""Runs the atheris fuzz target as a real process for about ten seconds' worth of inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FUZZ_TARGET = Path(__file__).resolve().parents[3] / "fuzz" / "fuzz_decoders.py"
#: About 10 s on the 2-core CI machine (roughly 40k inputs per second).
RUNS = 300_000


def test_fuzzing_the_frame_decoder_and_request_decoder_finds_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(FUZZ_TARGET), f"-atheris_runs={RUNS}", "-seed=1"],
        cwd=tmp_path,  # libFuzzer writes crash-* files to the working directory
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"Done {RUNS} " in result.stderr
    assert list(tmp_path.iterdir()) == []
