"""A bad address list on the command line of ``send`` and ``tail``: exit 2 with a message
naming the element at fault, before anything is connected (issue 16)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from client_support import aronanet_command


@pytest.mark.parametrize(
    ("addresses", "says"),
    [
        (
            "127.0.0.1:7001,,127.0.0.1:7002",
            "address 2 of '127.0.0.1:7001,,127.0.0.1:7002' is empty",
        ),
        ("127.0.0.1:7001,127.0.0.1:99999", "address 2 of the list: port 99999"),
        ("127.0.0.1:7001,127.0.0.1:7001", "'127.0.0.1:7001' is in the address list twice"),
    ],
)
@pytest.mark.parametrize("command", ["send", "tail"])
def test_a_bad_list_is_a_usage_error_naming_the_element(
    command: str, addresses: str, says: str, tmp_path: Path
) -> None:
    arguments = ["#general", "hello"] if command == "send" else ["#general"]
    done = subprocess.run(
        [
            *aronanet_command(),
            *(command, addresses, "--user", "sensei", "--password", "x"),
            *("--config-dir", str(tmp_path), *arguments),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert not (tmp_path / "known_nodes").exists()  # nothing was connected
