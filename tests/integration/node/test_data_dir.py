"""The data directory as ``aronanet serve`` leaves it: private, and one node at a time.

Issue 9 item 11 (the database was 0644 in a 0755 directory: every password hash and message
readable by other local users) and issue 10 (a second node on one directory started
without a word).
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from support.real_node import aronanet_command

from .driver import TestClient


def modes_under(data_dir: Path) -> dict[str, int]:
    """The permission bits of ``data_dir`` and of everything in it, by relative path."""
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


async def test_a_second_node_on_the_same_data_directory_is_refused_with_the_first_ones_pid(
    node_process,
):
    first = node_process()
    second = subprocess.run(
        aronanet_command("serve", "--data-dir", str(first.data_dir), "--port", "0",
                         "--ws-port", "off"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert second.returncode == 1 and second.stdout == ""
    assert second.stderr == (
        f"aronanet serve: cannot start: another node (PID {first.process.pid}) is already "
        f"using {first.data_dir}; stop it first, or give this one its own --data-dir\n"
    )
    client = await TestClient.connect(first.port)  # the first one still serves
    await client.login("stillhere")
    await client.close()


async def test_the_lock_goes_with_the_node(node_process):
    first = node_process()
    first.kill()  # even SIGKILL: the kernel drops a flock with its process
    node_process.track(again := first.restart())
    client = await TestClient.connect(again.port)
    await client.close()


async def test_an_open_data_directory_is_made_private_with_everything_in_it(node_process, tmp_path):
    data_dir = tmp_path / "data"  # where node_process puts it
    (data_dir / "images" / "ab").mkdir(mode=0o755, parents=True)
    data_dir.chmod(0o755)
    (data_dir / "images").chmod(0o755)
    (data_dir / "images" / "ab").chmod(0o755)
    (data_dir / "images" / "ab" / "old-blob").write_bytes(b"left by an older version")
    (data_dir / "images" / "ab" / "old-blob").chmod(0o644)
    node = node_process()
    client = await TestClient.connect(node.port)
    await client.login("private")  # writes the database and its write-ahead log
    await client.close()
    modes = modes_under(data_dir)
    expected_files = {"aronanet.sqlite3", "aronanet.sqlite3-wal", "aronanet.sqlite3-shm",
                      "node.key", "node.lock", "images/ab/old-blob"}  # fmt: skip
    assert expected_files <= set(modes)
    assert {path: mode for path, mode in modes.items() if mode & 0o077} == {}
    assert modes["."] == modes["images"] == modes["images/ab"] == 0o700
    assert all(modes[path] == 0o600 for path in expected_files)
