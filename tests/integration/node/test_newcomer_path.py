"""The README's first commands, as a newcomer runs them (issue 10).

``./scripts/serve`` must start in about a second once installed (it reinstalled the package
on every start: 10 s), and what it prints must be what the README shows, down to the
command that opens the client: ``aronanet`` is in ``.venv/bin``, not on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from support.real_node import STARTUP_SECONDS

ROOT = Path(__file__).resolve().parents[3]
SERVE = ROOT / "scripts" / "serve"
#: Long enough for pip on a loaded machine.
INSTALL_SECONDS = 300


def newcomer_env(home: Path) -> dict[str, str]:
    """A shell as a newcomer has it: the virtual environment not on PATH, a fresh home (so
    the default data directory is empty), no web build."""
    venv_bin = str(Path(os.environ.get("ARONANET_VENV", ROOT / ".venv")) / "bin")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    return {**env, "PATH": path, "HOME": str(home), "ARONANET_SKIP_WEB": "1"}


def run_serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SERVE), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=INSTALL_SECONDS)  # fmt: skip


def test_serve_installs_only_when_pyproject_changed(tmp_path: Path) -> None:
    env = newcomer_env(tmp_path)
    venv = Path(env.get("ARONANET_VENV", ROOT / ".venv"))
    stamp = venv / ".aronanet-installed"
    if stamp.exists():
        stamp.write_text("from another pyproject.toml\n")
    first = run_serve(env, "--help")
    assert first.returncode == 0, first.stderr
    assert "==> installing AronaNET into" in first.stdout  # a stale or missing stamp
    second = run_serve(env, "--help")
    assert second.returncode == 0, second.stderr
    assert "installing" not in second.stdout + second.stderr
    assert second.stdout.startswith("usage: aronanet serve")


def readme_banner() -> list[str]:
    """The lines of the README's sample start-up text (the block under "Getting started")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(AronaNET node .*?)```", readme, re.DOTALL)
    assert block is not None
    return block.group(1).splitlines()


def test_the_readme_shows_what_serve_prints_and_the_commands_work(tmp_path: Path) -> None:
    env = newcomer_env(tmp_path)
    run_serve(env, "--help")  # installed, so the start below is timed without pip
    command = [str(SERVE), "--port", "0", "--ws-port", "0"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=ROOT, env=env, text=True, **pipes) as node:
        try:
            assert node.stdout is not None
            printed = []
            while not printed or printed[-1] != "stop with Ctrl-C":
                line = node.stdout.readline()
                assert line, f"serve exited: {node.stderr.read() if node.stderr else ''}"
                printed.append(line.rstrip("\n"))
        finally:
            node.terminate()
            node.wait(STARTUP_SECONDS)
    tcp = re.search(r"TCP +127\.0\.0\.1:(\d+)", "\n".join(printed))
    ws = re.search(r"ws://127\.0\.0\.1:(\d+)/", "\n".join(printed))
    fingerprint = re.search(r"SHA256:\S+", "\n".join(printed))
    assert tcp and ws and fingerprint
    shown = [
        line.replace(f":{tcp[1]}", ":7777").replace(f":{ws[1]}", ":7778")
        for line in printed
        if not line.startswith("==>")
    ]
    expected = [
        line.replace(re.findall(r"SHA256:\S+", line)[0], fingerprint[0]) if "SHA256:" in line
        else line
        for line in readme_banner()
        if "Web client" not in line or any("Web client" in s for s in shown)
    ]  # fmt: skip
    assert shown == expected
    chat = shown[-2].removeprefix("open the client with: ").split()
    assert chat[:2] == [".venv/bin/aronanet", "chat"]
    assert (ROOT / chat[0]).is_file() and os.access(ROOT / chat[0], os.X_OK)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"then chat: {' '.join(chat)}" in readme  # the README's very first lines
    assert f"\n{' '.join(chat)}     # the terminal client" in readme
