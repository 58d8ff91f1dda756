"""The data directory's permissions and lock, on a real filesystem (tmp_path)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from aronanet.server.datadir import DataDirError, NodeLock, make_private


def test_a_missing_directory_is_created_owner_only(tmp_path: Path) -> None:
    make_private(tmp_path / "new" / "data")
    assert stat.S_IMODE((tmp_path / "new" / "data").stat().st_mode) == 0o700


def test_a_symbolic_link_inside_is_left_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (tmp_path / "data").mkdir(mode=0o755)
    (tmp_path / "data" / "link").symlink_to(outside)
    make_private(tmp_path / "data")
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644


def test_a_directory_that_cannot_be_made_private_is_refused_with_the_command(
    tmp_path: Path,
) -> None:
    """Someone else's directory: chmod fails with EPERM (simulated: the tests run as root)."""
    data_dir = tmp_path / "someone-elses"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)

    def not_the_owner(path: Path, mode: int) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(path))

    with pytest.raises(DataDirError) as refused:
        make_private(data_dir, chmod=not_the_owner)
    assert str(refused.value) == (
        f"data directory {data_dir} is open to other users and cannot be made private "
        f"(Operation not permitted); run: chmod -R go-rwx {data_dir}"
    )


def test_the_lock_is_exclusive_names_its_holder_and_can_be_taken_again(tmp_path: Path) -> None:
    with NodeLock(tmp_path) as held:
        assert (tmp_path / "node.lock").read_text() == f"{os.getpid()}\n"
        assert stat.S_IMODE(held.path.stat().st_mode) == 0o600
        with pytest.raises(DataDirError, match=rf"another node \(PID {os.getpid()}\)"):
            NodeLock(tmp_path).acquire()  # flock: a second descriptor is refused too
    with NodeLock(tmp_path):
        pass
