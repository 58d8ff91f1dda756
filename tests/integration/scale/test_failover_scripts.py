"""``aronanet tail`` and ``aronanet send`` given a community's three addresses (issue 16), as
real processes: the node ``tail`` follows is killed with SIGKILL, ``tail`` moves to another
and prints every message once, in order, with none missed from the outage; ``send`` with the
dead node first in its list posts through the next one."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from aronanet.client.community import format_address_list
from aronanet.client.connection import ArtpClient
from support.real_node import aronanet_command, unique_name

from .cluster import ClusterNode
from .community import three_nodes  # noqa: F401 - the `community` fixture

PASSWORD = "correct horse battery staple"
PASSWORD_VAR = "ARONANET_TEST_PASSWORD"


def script(command: str, addresses: str, user: str, config_dir: Path, *rest: str) -> list[str]:
    return [
        *aronanet_command(command, addresses, "--user", user, "--register"),
        *("--password-env", PASSWORD_VAR, "--config-dir", str(config_dir), *rest),
    ]


class Lines:
    """Every line a process prints, read by a thread as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        stdout = process.stdout
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [*map(self._lines.put, stdout)], daemon=True).start()

    def next(self, timeout: float = 20.0) -> str | None:
        """The next line, or None when none came within ``timeout`` seconds."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def rest(self) -> list[str]:
        """What is left, once the process has ended."""
        return list(iter(lambda: self.next(1.0) or "", ""))


async def test_tail_moves_when_its_node_dies_and_send_skips_a_dead_node(
    community: list[ClusterNode], tmp_path: Path
) -> None:
    first, second, third = community
    listed = format_address_list([node.tcp_address for node in community])
    channel, me = f"#{unique_name('fo')}", unique_name("script")
    environment = {**os.environ, PASSWORD_VAR: PASSWORD}
    peer = await ArtpClient.connect(third.tcp_address, device_key=X25519PrivateKey.generate())
    await peer.auth(unique_name("hoshino"), PASSWORD, register=True)
    await peer.join(channel)
    tail = subprocess.Popen(
        script("tail", listed, me, tmp_path / "tail", channel),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    lines = Lines(tail)
    try:
        for _ in range(40):  # until tail follows: a message before it joined is not shown
            await peer.send_message("channel", channel, "are you there")
            if "are you there" in (lines.next(0.5) or ""):
                break
        else:
            raise AssertionError("tail never showed a message")
        while lines.next(0.5) is not None:
            pass  # the other "are you there" lines
        first.kill()
        for number in range(5):
            await peer.send_message("channel", channel, f"outage {number}")
        sent = subprocess.run(
            script("send", listed, unique_name("sender"), tmp_path / "send", channel, "by send"),
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr
        wanted = [f"outage {number}" for number in range(5)] + ["by send"]
        printed: list[str] = []
        while len(printed) < len(wanted) and (line := lines.next()) is not None:
            if " joined" not in line:  # ``send`` joins the channel before it writes
                printed.append(line)
        assert [next((w for w in wanted if w in line), line) for line in printed] == wanted
        tail.send_signal(signal.SIGTERM)
        assert tail.wait(timeout=20) == 0
        assert tail.stderr is not None
        errors = tail.stderr.read()
        assert not any(w in line for w in wanted for line in lines.rest())  # none twice
        assert f"lost the connection to {first.tcp_address}" in errors
        assert (
            f"moved to {second.tcp_address}" in errors or f"moved to {third.tcp_address}" in errors
        )
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
        await peer.close()
