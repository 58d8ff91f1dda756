"""Running one of fuzz/'s atheris campaigns as a real process, briefly, for CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"


def run_campaign(
    target: str, work: Path, runs: int, *, seed_corpus: Path | None = None, timeout: float = 170
) -> None:
    """Run ``fuzz/<target>`` for ``runs`` inputs (libFuzzer seed 1) and fail on any finding.

    A ``seed_corpus`` is copied first (libFuzzer adds to the corpus it is given, and the
    committed one stays as it is); crash files would land in ``work``, which must stay empty.
    """
    args = [sys.executable, str(FUZZ_DIR / target)]
    if seed_corpus is not None:
        corpus = work / "corpus"
        shutil.copytree(seed_corpus, corpus)
        args.append(str(corpus))
    artifacts = work / "artifacts"
    artifacts.mkdir()
    result = subprocess.run(
        [*args, f"-atheris_runs={runs}", "-seed=1", f"-artifact_prefix={artifacts}/"],
        cwd=artifacts,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"Done {runs} " in result.stderr, result.stderr[-2000:]
    assert list(artifacts.iterdir()) == []
