"""``aronanet send``, ``tail`` and ``trust`` as real processes against a real node."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_support import PASSWORD, NodeProcess, aronanet_command, free_port, unique_name

PASSWORD_VAR = "ARONANET_TEST_PASSWORD"
EXIT_OK, EXIT_USAGE, EXIT_CONNECTION, EXIT_AUTH, EXIT_TRUST = 0, 2, 3, 4, 5


class Cli:
    """Runs ``aronanet`` subcommands as one client identity (its own config directory)."""

    def __init__(self, config_dir: Path, user: str) -> None:
        self.config_dir = config_dir
        self.user = user
        self.env = {**os.environ, PASSWORD_VAR: PASSWORD}

    def session_args(
        self,
        command: str,
        address: str,
        *,
        password: tuple[str, ...] = ("--password-env", PASSWORD_VAR),
        register: bool = True,
    ) -> list[str]:
        return [
            *aronanet_command(),
            command,
            address,
            "--user",
            self.user,
            *password,
            *(["--register"] if register else []),
            "--config-dir",
            str(self.config_dir),
        ]

    def run(self, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, input=stdin, capture_output=True, text=True, env=self.env, timeout=60
        )

    def send(
        self, address: str, *rest: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run([*self.session_args("send", address), *rest], stdin)

    def trust(self, *rest: str) -> subprocess.CompletedProcess[str]:
        return self.run([*aronanet_command(), "trust", "--config-dir", str(self.config_dir), *rest])

    def tail(self, address: str, *rest: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*self.session_args("tail", address), *rest],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )


def read_line(process: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The next line the process prints, failing the test (not hanging it) if none comes."""
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"no line in {timeout} s; stderr: {stderr.read()}") from None


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "config", unique_name("script"))


@pytest.fixture
def tail_processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_send_prints_the_message_id_and_tail_shows_the_message(
    node: NodeProcess, cli: Cli, tail_processes: list[subprocess.Popen[str]]
) -> None:
    channel = f"#{unique_name('c')}"
    first = cli.send(node.tcp_address, channel, "before", "tail")
    assert first.returncode == EXIT_OK, first.stderr
    first_id = first.stdout.strip()
    tail = cli.tail(node.ws_address, channel, "--json", "--since", first_id)
    tail_processes.append(tail)
    second = cli.send(node.tcp_address, channel, "hello", "from", "a", "script")
    assert second.returncode == EXIT_OK, second.stderr
    # Replayed (tail started late) or live (tail was ready): either way exactly this line.
    event = json.loads(read_line(tail))
    assert (event["type"], event["id"], event["content"]) == (
        "MSG",
        second.stdout.strip(),
        "hello from a script",
    )
    tail.send_signal(signal.SIGTERM)
    assert tail.wait(timeout=10) == EXIT_OK


def test_send_reads_one_message_per_stdin_line_and_tail_since_replays_them(
    node: NodeProcess, cli: Cli, tail_processes: list[subprocess.Popen[str]]
) -> None:
    channel = f"#{unique_name('c')}"
    marker = cli.send(node.tcp_address, channel, "marker")
    piped = cli.send(node.tcp_address, channel, stdin="first line\n\nsecond line\n")
    assert piped.returncode == EXIT_OK, piped.stderr
    assert len(piped.stdout.split()) == 2
    tail = cli.tail(node.tcp_address, channel.removeprefix("#"), "--since", marker.stdout.strip())
    tail_processes.append(tail)
    lines = [read_line(tail) for _ in range(2)]
    assert f"{channel} <{cli.user}> first line" in lines[0]
    assert f"{channel} <{cli.user}> second line" in lines[1]


def test_a_wrong_password_exits_4_and_suggests_register(
    node: NodeProcess, cli: Cli, tmp_path: Path
) -> None:
    assert cli.send(node.tcp_address, "#x", "hi").returncode == EXIT_OK
    other_device = Cli(tmp_path / "other-device", cli.user)  # a device never signed in
    other_device.env[PASSWORD_VAR] = "a different password"
    result = other_device.run(
        [*other_device.session_args("send", node.tcp_address, register=False), "#x", "hi"]
    )
    assert result.returncode == EXIT_AUTH
    assert "--register" in result.stderr


def test_send_and_tail_need_no_password_after_the_first_run(
    node: NodeProcess, cli: Cli, tail_processes: list[subprocess.Popen[str]]
) -> None:
    """ArTP/1.1 §14.3: the first run records this device; later runs sign in with its key."""
    channel = f"#{unique_name('c')}"
    first = cli.send(node.tcp_address, channel, "with a password")
    assert first.returncode == EXIT_OK, first.stderr
    del cli.env[PASSWORD_VAR]  # no password anywhere now, and stdin is not a terminal
    args = cli.session_args("send", node.tcp_address, password=(), register=False)
    second = cli.run([*args, channel, "by device"])
    assert second.returncode == EXIT_OK, second.stderr
    tail_args = cli.session_args("tail", node.tcp_address, password=(), register=False)
    tail = subprocess.Popen(
        [*tail_args, channel, "--since", first.stdout.strip()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
    )
    tail_processes.append(tail)
    assert "by device" in read_line(tail)


def test_a_device_never_signed_in_still_needs_the_password(
    node: NodeProcess, cli: Cli, tmp_path: Path
) -> None:
    assert cli.send(node.tcp_address, "#x", "hi").returncode == EXIT_OK
    other_device = Cli(tmp_path / "other-device", cli.user)
    del other_device.env[PASSWORD_VAR]
    args = other_device.session_args("send", node.tcp_address, password=(), register=False)
    result = other_device.run([*args, "#x", "hi"])
    assert result.returncode == EXIT_USAGE
    assert "not signed in yet" in result.stderr


def test_an_unreachable_node_exits_3(cli: Cli) -> None:
    result = cli.send(f"127.0.0.1:{free_port()}", "#x", "hi")
    assert result.returncode == EXIT_CONNECTION
    assert "is the node running" in result.stderr


def test_a_missing_password_variable_exits_2_naming_it(node: NodeProcess, cli: Cli) -> None:
    del cli.env[PASSWORD_VAR]
    result = cli.send(node.tcp_address, "#x", "hi")
    assert result.returncode == EXIT_USAGE
    assert PASSWORD_VAR in result.stderr


def test_the_password_may_come_from_a_file(node: NodeProcess, cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    args = cli.session_args("send", node.tcp_address, password=("--password-file", str(secret)))
    result = cli.run([*args, "#x", "from a file"])
    assert result.returncode == EXIT_OK, result.stderr


def tail_until_the_node_stops(node: NodeProcess, cli: Cli, reconnect_for: str) -> str:
    """Start ``tail --reconnect-for``, check it follows, stop the node for good; returns
    what tail wrote on stderr once it exited, which it must do with status 3."""
    channel = f"#{unique_name('c')}"
    marker = cli.send(node.tcp_address, channel, "marker").stdout.strip()
    tail = cli.tail(node.tcp_address, channel, "--since", marker, "--reconnect-for", reconnect_for)
    try:
        assert cli.send(node.tcp_address, channel, "are you there").returncode == EXIT_OK
        assert "are you there" in read_line(tail)  # tail is connected and following
        node.stop()
        assert tail.wait(timeout=20) == EXIT_CONNECTION
        assert tail.stderr is not None
        return tail.stderr.read()
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_tail_exits_3_when_the_node_goes_away_and_reconnecting_is_off(
    fresh_node: NodeProcess, cli: Cli
) -> None:
    assert "closed the connection" in tail_until_the_node_stops(fresh_node, cli, "0")


def test_tail_gives_up_after_reconnect_for_seconds_with_one_line(
    fresh_node: NodeProcess, cli: Cli
) -> None:
    assert tail_until_the_node_stops(fresh_node, cli, "2").splitlines()[-1] == (
        f"aronanet tail: lost the connection to {fresh_node.tcp_address} and could not "
        "reconnect within 2 s"
    )


class Gate:
    """A TCP forwarder to the node that the test can shut. While shut it accepts and drops
    every connection (to the client, a node that is not there yet), so the test decides
    when ``tail`` may come back, and knows what was sent while it was away."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = threading.Event()
        self.open.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.open.is_set():
                downstream.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                downstream.close()
                continue
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self.listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for end in (source, sink):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


def test_tail_follows_a_node_restart_with_no_gap_and_no_duplicate(
    fresh_node: NodeProcess, cli: Cli, tail_processes: list[subprocess.Popen[str]]
) -> None:
    """The node is killed (SIGKILL) mid-tail and restarted; messages are sent while tail
    cannot reach it, then more once it is back: each is printed once, in order."""
    address = fresh_node.tcp_address
    channel = f"#{unique_name('c')}"
    marker = cli.send(address, channel, "before tail").stdout.strip()  # not to be printed
    gate = Gate(fresh_node.port)
    try:
        tail = cli.tail(gate.address, channel, "--json", "--since", marker)
        tail_processes.append(tail)
        sent = [cli.send(address, channel, "first").stdout.strip()]
        printed = [json.loads(read_line(tail))["id"]]
        gate.open.clear()
        fresh_node.kill()
        fresh_node.start()  # the same ports and data: what a restart looks like to clients
        for text in ("while away 1", "while away 2", "while away 3"):
            sent.append(cli.send(address, channel, text).stdout.strip())
        gate.open.set()
        printed += [json.loads(read_line(tail, timeout=30))["id"] for _ in range(3)]
        sent.append(cli.send(address, channel, "after").stdout.strip())
        printed.append(json.loads(read_line(tail))["id"])
    finally:
        gate.close()
    tail.send_signal(signal.SIGTERM)
    assert tail.wait(timeout=10) == EXIT_OK
    assert tail.stdout is not None and tail.stderr is not None
    assert tail.stdout.read() == ""  # nothing printed twice
    assert printed == sent
    assert f"aronanet tail: reconnected to {gate.address}" in tail.stderr.read()


def test_a_changed_node_key_exits_5_until_the_user_forgets_the_pin(
    fresh_node: NodeProcess, cli: Cli
) -> None:
    assert cli.send(fresh_node.tcp_address, "#x", "hi").returncode == EXIT_OK
    listed = cli.trust()
    assert listed.stdout.startswith(f"{fresh_node.tcp_address} SHA256:")
    fresh_node.stop()
    fresh_node.data_dir = fresh_node.data_dir.with_name("impostor")
    fresh_node.start()
    refused = cli.send(fresh_node.tcp_address, "#x", "hi")
    assert refused.returncode == EXIT_TRUST
    assert "HAS CHANGED" in refused.stderr
    assert f"--forget {fresh_node.tcp_address}" in refused.stderr
    assert cli.trust("--forget", fresh_node.tcp_address).returncode == EXIT_OK
    assert cli.send(fresh_node.tcp_address, "#x", "hi").returncode == EXIT_OK
    assert cli.trust().stdout != listed.stdout
