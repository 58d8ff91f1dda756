"""A real ``aronanet serve`` process for tests: free loopback ports, cheap settings, one log.

Integration tests meet the node as its users do: a separate process behind real sockets on
127.0.0.1. This is the one harness for that; a test package adapts it with a thin subclass
(its own flags, its own names) rather than writing the start/wait/stop dance again.

Everything the node prints (stdout and stderr) is appended to ``log_path``, so a test can read
it (``log_text()``) and a failed start reports it. Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

LOOPBACK = "127.0.0.1"
#: How long a node may take to listen: a cold start on a loaded 2-core machine, with margin.
STARTUP_SECONDS = 20.0
#: How long a node may take to stop cleanly after SIGTERM/SIGINT before it is killed.
STOP_GRACE_SECONDS = 15.0
_POLL_SECONDS = 0.05

#: The settings every test node runs with. Argon2id at its minimum cost, because tests check
#: behaviour, not hashing strength; and no login throttle, because every test registers fresh
#: users from 127.0.0.1 (a test that checks the throttle gives ``login_throttle``).
_FAST_HASHING = """\
[accounts]
time_cost = 1
memory_kib = 8
parallelism = 1
"""
_UNLIMITED = 1000000
OPEN_LOGIN_THROTTLE: dict[str, int | float] = {
    key: value
    for budget in ("", "address_", "account_", "register_")
    for key, value in ((f"{budget}burst", _UNLIMITED), (f"{budget}refill_per_second", 1e6))
}
FAST_TEST_CONFIG = (
    _FAST_HASHING
    + "\n[login_throttle]\n"
    + "".join(f"{key} = {value!r}\n" for key, value in OPEN_LOGIN_THROTTLE.items())
)

#: A value of a TOML table this harness writes.
TomlValue = bool | int | float | str

_names = itertools.count(1)


class NodeStartError(RuntimeError):
    """The node exited or did not listen in time; the message ends with its log."""


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1 that is free right now (another process may still
    take it before the node binds it; the node then fails to start, loudly)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def unique_name(prefix: str) -> str:
    """A user or channel name no other test on a shared node uses (nor another test run
    against the same data, thanks to the process id)."""
    return f"{prefix}{os.getpid() % 1000}x{next(_names)}"


def aronanet_command(*args: str) -> list[str]:
    """The ``aronanet`` command of this virtual environment, followed by ``args``."""
    return [sys.executable, "-m", "aronanet", *args]


def toml_table(name: str, values: Mapping[str, TomlValue]) -> str:
    """``[name]`` and one ``key = value`` line per entry; empty text for an empty table."""
    if not values:
        return ""
    lines = "".join(f"{key} = {_toml_value(value)}\n" for key, value in values.items())
    return f"\n[{name}]\n{lines}"


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):  # before int: True is an int to Python, not to TOML
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _accepts_connections(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection((LOOPBACK, port), timeout=0.5),
    ):
        return True
    return False


@dataclass(kw_only=True)
class RealNode:
    """``aronanet serve`` on 127.0.0.1 with its own data directory, ports, config and log.

    ``limits`` become the ``[limits]`` table and ``extra_toml`` (whole tables, starting with
    a ``[header]``) is appended to the config after ``FAST_TEST_CONFIG``; ``flags`` go after
    the ``serve`` flags this class sets.
    ``env`` replaces this process's environment when given. ``ws_port="off"`` runs without
    WebSocket. Subclasses extend ``serve_arguments()`` and ``config_text()``.
    Usable as a context manager: started on entry, stopped on exit.
    """

    data_dir: Path = field(kw_only=False)
    flags: tuple[str, ...] = ()
    limits: Mapping[str, TomlValue] = field(default_factory=dict)
    #: ``[login_throttle]`` keys replacing the harness's open throttle (for throttle tests).
    login_throttle: Mapping[str, TomlValue] = field(default_factory=dict)
    extra_toml: str = ""
    env: Mapping[str, str] | None = None
    port: int = field(default_factory=free_port)
    ws_port: int | Literal["off"] = field(default_factory=free_port)
    rate_limit: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ where to reach it

    @property
    def tcp_address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ws_address(self) -> str:
        if self.ws_port == "off":
            raise RuntimeError("this node runs without WebSocket (ws_port='off')")
        return f"ws://{LOOPBACK}:{self.ws_port}/artp"

    @property
    def config_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.toml"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything the node has printed so far (every run of it, appended)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, seconds: float = STARTUP_SECONDS) -> re.Match[str]:
        """The first match of ``pattern`` in the log, waiting for it to be printed: the node
        listens before it prints its banner, so a ready node's log may not hold it yet."""
        deadline = time.monotonic() + seconds
        while True:
            found = re.search(pattern, self.log_text())
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{pattern!r} not in the log within {seconds} s:\n{self.log_text()}"
                )
            time.sleep(_POLL_SECONDS)

    # ------------------------------------------------------------------ what it runs

    def config_text(self) -> str:
        """The TOML file the node reads with ``--config``."""
        if self.extra_toml and not self.extra_toml.lstrip().startswith("["):
            # A key before any header would silently land in the table written before it.
            raise ValueError("extra_toml must start with a [table] header: it follows tables")
        throttle = toml_table("login_throttle", {**OPEN_LOGIN_THROTTLE, **self.login_throttle})
        return _FAST_HASHING + throttle + toml_table("limits", self.limits) + self.extra_toml

    def serve_arguments(self) -> list[str]:
        """The arguments after ``aronanet serve``."""
        # §5: "aronanet serve --data-dir DIR --host 127.0.0.1 --port P --ws-port Q".
        arguments = [
            "--config", str(self.config_path),
            "--data-dir", str(self.data_dir),
            "--host", LOOPBACK,
            "--port", str(self.port),
            "--ws-port", str(self.ws_port),
        ]  # fmt: skip
        if not self.rate_limit:
            # §5: "--rate-limit off turns the rate limits off, for ... tests that flood".
            arguments += ["--rate-limit", "off"]
        return [*arguments, *self.flags]

    # ------------------------------------------------------------------ its life

    def launch(self) -> Self:
        """Start the process without waiting for it to listen (for tests of a failing start,
        or to start several nodes at once and then ``wait_until_ready()`` each)."""
        if self.running:
            raise RuntimeError(f"the node on port {self.port} is already running")
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text())
        environment = {**(os.environ if self.env is None else self.env), "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                aronanet_command("serve", *self.serve_arguments()),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        return self

    def wait_until_ready(self, seconds: float = STARTUP_SECONDS) -> None:
        """Return once the node listens; raise ``NodeStartError`` with its log otherwise."""
        process = self._launched()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NodeStartError(
                    f"the node exited with status {process.returncode} at start:\n{self.log_text()}"
                )
            # §5: "It is ready when the TCP port accepts connections".
            if _accepts_connections(self.port):
                return
            time.sleep(_POLL_SECONDS)
        raise NodeStartError(
            f"the node did not accept connections on port {self.port} within {seconds} s:\n"
            f"{self.log_text()}"
        )

    def start(self) -> Self:
        """Launch and wait until ready; a node that fails to start is not left running."""
        self.launch()
        try:
            self.wait_until_ready()
        except NodeStartError:
            self.stop()
            raise
        return self

    def stop(self, signum: int = signal.SIGTERM) -> int | None:
        """Stop with ``signum`` (§5: the node "stops cleanly on SIGINT or SIGTERM"), killing
        it if it has not exited within ``STOP_GRACE_SECONDS``. Returns the exit status, or
        None if it was never launched. Safe to call on a node that has already exited."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no last flush (what durability tests need)."""
        process = self._launched()
        process.kill()
        process.wait(timeout=STOP_GRACE_SECONDS)

    def restart(self) -> Self:
        """Stop the node if it still runs, then start it again on the same ports and data."""
        self.stop()
        return self.start()

    def memory_kib(self, field_name: str = "VmRSS") -> int:
        """A memory figure of the node process from ``/proc/PID/status``, in KiB
        (``VmRSS`` now, ``VmHWM`` the peak so far)."""
        status = Path(f"/proc/{self._launched().pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
        raise KeyError(field_name)

    def _launched(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError("the node has not been launched")
        return self.process

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
