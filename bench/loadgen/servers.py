"""Running the servers under test as real foreground processes on 127.0.0.1.

Each server is a child process started with an explicit command line, considered ready
when its TCP port accepts a connection, and stopped with SIGTERM (then SIGKILL after a
grace period). Its output goes to a log file so a failing run can be diagnosed.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

LOOPBACK = "127.0.0.1"
_READY_POLL_SECONDS = 0.05
_STOP_GRACE_SECONDS = 5.0


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it).

    5,000 idle sessions need 5,000 descriptors in the server and in the load generator.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    """Return once ``port`` accepts a connection; fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before ready")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return
        except OSError:
            time.sleep(_READY_POLL_SECONDS)
    raise TimeoutError(f"server did not accept connections on port {port} within {timeout} s")


class ServerProcess:
    """A server under test: a child process listening on ``port``. Use as a context manager."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        log_path: Path,
        ready_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def start(self) -> None:
        """Start the process and wait until it accepts TCP connections."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting (to start several at once, then wait)."""
        raise_file_limit()
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()

    def wait_ready(self, *other_ports: int) -> None:
        """Wait until the launched process accepts TCP connections on its port and on
        ``other_ports`` (a node opens its admin listener after its ArTP port); stop it if it
        never does."""
        if self._process is None:
            raise RuntimeError(f"{self.name} was not launched")
        try:
            for port in (self.port, *other_ports):
                wait_for_port(port, self.ready_timeout, self._process)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL: the process is gone when this returns."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


#: Settings for a node under load from one address. Every client of a benchmark comes from
#: 127.0.0.1, so the per-address caps (connections, login throttle) would refuse the load
#: generator itself; and password hashing is made cheap because registering thousands of
#: benchmark users is set-up, not what is measured (no measured phase hashes anything).
NODE_BENCH_CONFIG = """\
[limits]
max_connections_per_address = 1000000

[login_throttle]
burst = 1000000
refill_per_second = 1000000.0
address_burst = 1000000
address_refill_per_second = 1000000.0
account_burst = 1000000
account_refill_per_second = 1000000.0
register_burst = 1000000
register_refill_per_second = 1000000.0

[accounts]
time_cost = 1
memory_kib = 1024
parallelism = 1
"""


def node_server(
    work_dir: Path, port: int | None = None, extra_args: Sequence[str] = ()
) -> ServerProcess:
    """An AronaNET node (``aronanet serve``) with its state under ``work_dir/node``.

    ArTP-1.0 §5: ``--rate-limit off`` turns the rate limits off, for benchmarks; every other
    limit stays (except the per-address ones in ``NODE_BENCH_CONFIG``).
    """
    tcp_port = port or free_port()
    ws_port = free_port()
    data_dir = work_dir / "node"
    config = work_dir / "node.toml"
    config.write_text(NODE_BENCH_CONFIG)
    command = [
        sys.executable,
        "-m",
        "aronanet.cli",
        "serve",
        "--config",
        str(config),
        "--data-dir",
        str(data_dir),
        "--host",
        LOOPBACK,
        "--port",
        str(tcp_port),
        "--ws-port",
        str(ws_port),
        "--rate-limit",
        "off",
        *extra_args,
    ]
    return ServerProcess("node", command, tcp_port, work_dir / "node.log")


def floor_server(work_dir: Path, port: int | None = None) -> ServerProcess:
    """The bare asyncio reference (``loadgen/floor.py``): ArTP with no storage or routing."""
    tcp_port = port or free_port()
    script = Path(__file__).with_name("floor.py")
    command = [sys.executable, str(script), "--port", str(tcp_port)]
    return ServerProcess("floor", command, tcp_port, work_dir / "floor.log")


NGIRCD_CONFIG = """\
# Generated by AronaNET's benchmarks: a foreground ngircd on loopback, no lookups,
# no flood penalties (the node runs with --rate-limit off), no connection caps.
[Global]
    Name = bench.arona.invalid
    Info = AronaNET benchmark reference
    Listen = {host}
    Ports = {port}
    MotdPhrase = bench

[Limits]
    MaxConnections = 0
    MaxConnectionsIP = 0
    MaxJoins = 0
    MaxPenaltyTime = 0
    PingTimeout = 600
    PongTimeout = 600

[Options]
    DNS = no
    Ident = no
    PAM = no
    SyslogFacility = local7
"""


def ngircd_binary() -> str:
    """The ngircd executable (Debian installs it in /usr/sbin, often not on PATH)."""
    found = shutil.which("ngircd") or shutil.which("ngircd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise FileNotFoundError("ngircd is not installed: apt-get install -y ngircd")
    return found


def ngircd_server(work_dir: Path, port: int | None = None) -> ServerProcess:
    """ngircd, the C reference, in the foreground (``-n``) with a generated config."""
    tcp_port = port or free_port()
    config = work_dir / "ngircd.conf"
    config.write_text(NGIRCD_CONFIG.format(host=LOOPBACK, port=tcp_port, work_dir=work_dir))
    os.chmod(config, 0o600)
    command = [ngircd_binary(), "--nodaemon", "--config", str(config)]
    return ServerProcess("ngircd", command, tcp_port, work_dir / "ngircd.log")
