"""Every configuration mistake stops ``aronanet serve`` with one line (issue 10).

A newcomer's typo must never give a traceback, nor start a node that then fails every
request: the command exits with status 2 and one line on stderr naming the key (or flag),
the value, and what is accepted. Each case runs the real command as a subprocess.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from support.real_node import aronanet_command

#: Long enough for a cold start on a loaded machine; a node that starts instead of refusing
#: runs until this kills it, and the test fails.
REFUSAL_SECONDS = 20

FILE_MISTAKES = [
    ("port = 70000", "port = 70000: must be an integer from 0 to 65535"),
    ('port = "abc"', 'port = "abc": must be an integer from 0 to 65535'),
    ('ws_port = "of"', 'ws_port = "of": must be an integer from 0 to 65535 or "off"'),
    ('log_level = "LOUD"',
     'log_level = "LOUD": must be one of "DEBUG", "ERROR", "INFO", "WARNING"'),
    ('registration = "maybe"', 'registration = "maybe": must be true or false'),
    ("[limits]\nmax_content = -5", "[limits] max_content = -5: must be an integer from 1 to 65519"),
    ("[limits]\nmax_contnet = 100",
     "unknown configuration key 'max_contnet' in [limits] (did you mean max_content?)"),
    ("[accounts]\ntime_cost = 0", "[accounts] time_cost = 0: must be an integer >= 1"),
    ("[limits]\nrate_messages_per_second = 0",
     "[limits] rate_messages_per_second = 0: must be a number > 0"),
    ("colour = 1", "unknown configuration key 'colour' (known keys: accounts, admin, admins,"),
]  # fmt: skip

FLAG_MISTAKES = [
    (["--port", "70000"], "--port 70000: must be an integer from 0 to 65535"),
    (["--ws-port", "abc"], '--ws-port abc: must be an integer from 0 to 65535 or "off"'),
    (["--max-content", "-5"], "--max-content -5: must be an integer from 1 to 65519"),
    (["--max-frame", "70000"], "--max-frame 70000: must be an integer from 1024 to 65535"),
    (["--rate-burst", "0"], "--rate-burst 0: must be an integer >= 1"),
]


def serve(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``aronanet serve`` on free ports with ``flags``; returns once it has exited."""
    command = aronanet_command(
        "serve", "--data-dir", str(tmp_path / "data"), "--port", "0", "--ws-port", "0", *flags
    )
    return subprocess.run(
        command, capture_output=True, text=True, timeout=REFUSAL_SECONDS, check=False
    )


def assert_refused_with_one_line(
    result: subprocess.CompletedProcess[str], expected: str, status: int = 2
) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("aronanet serve: ")
    assert expected in lines[0]
    assert result.stdout == ""  # no banner: the node never started


@pytest.mark.parametrize(("toml", "expected"), FILE_MISTAKES, ids=[t for t, _ in FILE_MISTAKES])
def test_a_mistake_in_the_file_names_the_file_and_key(tmp_path: Path, toml: str, expected: str):
    config = tmp_path / "node.toml"
    config.write_text(toml + "\n")
    result = serve(tmp_path, "--config", str(config))
    assert_refused_with_one_line(result, f"aronanet serve: {config}: {expected}")


@pytest.mark.parametrize(("flags", "expected"), FLAG_MISTAKES, ids=[f[0] for f, _ in FLAG_MISTAKES])
def test_a_mistaken_flag_is_named_with_its_value(tmp_path: Path, flags: list[str], expected: str):
    assert_refused_with_one_line(serve(tmp_path, *flags), f"aronanet serve: {expected}")


def test_ws_port_off_in_the_file_disables_websocket_as_help_says(tmp_path: Path):
    config = tmp_path / "node.toml"
    config.write_text('ws_port = "off"\n')
    command = aronanet_command("serve", "--data-dir", str(tmp_path / "d"), "--port", "0",
                               "--config", str(config))  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as node:
        try:
            assert node.stdout is not None
            banner = [node.stdout.readline() for _ in range(3)]
        finally:
            node.terminate()
            node.wait(REFUSAL_SECONDS)
    assert "is running" in banner[0] and "TCP" in banner[1]
    assert "WebSocket" not in "".join(banner) and "Fingerprint" in banner[2]


def test_a_missing_config_file_is_one_line_naming_it_once(tmp_path: Path):
    missing = tmp_path / "nowhere.toml"
    result = serve(tmp_path, "--config", str(missing))
    assert_refused_with_one_line(result, f"configuration file {missing} does not exist")
    assert result.stderr.count(str(missing)) == 1


def test_a_host_that_is_not_this_machine_says_what_to_give(tmp_path: Path):
    result = serve(tmp_path, "--host", "nosuch.invalid")
    assert_refused_with_one_line(result, "cannot start: cannot listen on host 'nosuch.invalid'", 1)
    assert result.stderr.endswith(
        "; give --host an address of this machine, such as 127.0.0.1 or 0.0.0.0\n"
    )  # between them, the resolver's reason, which differs between C libraries


def test_a_port_in_use_names_the_port_and_the_flags(tmp_path: Path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = serve(tmp_path, "--port", str(port))
    expected = (f"cannot start: port {port} on 127.0.0.1 is already in use by another "
                "program; choose others with --port and --ws-port")  # fmt: skip
    assert_refused_with_one_line(result, expected, status=1)


def test_a_data_directory_that_is_a_file_is_named(tmp_path: Path):
    (tmp_path / "data").write_text("not a directory")
    result = serve(tmp_path)
    expected = f"cannot start: data directory {tmp_path / 'data'} is a file, not a directory"
    assert_refused_with_one_line(result, expected, status=1)
