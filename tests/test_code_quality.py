"""The house rules CI enforces: lint, formatting, the layering contracts and typing.

These run the real tools on the real tree, so a change that breaks a layer (say, the proto
core importing asyncio) or leaves the code unformatted fails the suite, not a review.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON_TREES = ["src", "tests", "bench", "fuzz"]


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["ruff", "check", *PYTHON_TREES], id="ruff-check"),
        pytest.param(["ruff", "format", "--check", *PYTHON_TREES], id="ruff-format"),
        pytest.param(["lint-imports"], id="import-layers"),
        pytest.param(["mypy"], id="mypy"),
    ],
)
def test_tree_passes(command: list[str]) -> None:
    result = run_tool(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


def test_test_modules_outside_packages_have_unique_names() -> None:
    """pytest imports a test file outside a package by its bare name, so two such files
    called alike stop the whole collection ("import file mismatch") in a clean clone."""
    loose = [
        path
        for path in (ROOT / "tests").rglob("test_*.py")
        if not (path.parent / "__init__.py").exists()
    ]
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted(loose):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not clashes, "rename one of each: " + "; ".join(clashes)
