"""Runs the atheris fuzz target as a real process for about ten seconds' worth of inputs."""

from __future__ import annotations

from pathlib import Path

from support.fuzzing import run_campaign

#: About 10 s on the 2-core CI machine (roughly 40k inputs per second).
RUNS = 300_000


def test_fuzzing_the_frame_decoder_and_request_decoder_finds_nothing(tmp_path: Path) -> None:
    run_campaign("fuzz_decoders.py", tmp_path, RUNS, timeout=110)
